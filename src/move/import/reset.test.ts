/**
 * The reset before an import deletes what cozy-stack's deletes (./reset.ts): a share link made before the import no
 * longer opens anything after it, and the apps with their permissions, the sessions, the job history and the queued
 * jobs are gone; the built-in apps are installed again fresh, with their permissions (cozy-stack installs home, store
 * and settings again); the CLI's tokens (not stored) still work. A real server, a registry on loopback, an archive on a loopback export server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { until } from '../../../test/helpers/jobs.js';
import { appEntries, makeTarball } from '../../../test/helpers/app-tarball.js';
import { publish } from '../../apps/registry/publish.js';
import { doc, startExportServer, writeZip, type ExportServer } from '../../../test/helpers/move-archive.js';
import { DEFAULTS } from '../../config/schema.js';

let h: TestHearth;
let pkgs: PackageServer;
let server: ExportServer;
const work = mkdtempSync(join(tmpdir(), 'hearth-import-reset-'));

beforeAll(async () => {
  pkgs = await startPackageServer();
  // one built-in app, with a right
  const builtin = join(work, 'builtin');
  const tarball = join(work, 'drive.tar.gz');
  await makeTarball(tarball, appEntries({ slug: 'drive', name: 'drive', type: 'webapp', version: '1.0.0', permissions: { files: { type: 'io.cozy.files', description: 'Your files' } } }, { 'index.html': '<!doctype html><title>drive</title>' }));
  await publish(tarball, { dir: builtin, limits: { maxEntries: 100, maxUnpackedBytes: 1_000_000 } });
  h = await startTestHearth({ imports: { allowPrivateUrls: true }, apps: { ...DEFAULTS.apps, registries: pkgs.url, builtinRegistry: builtin } });
  const part = join(work, 'export.zip');
  await writeZip(part, [doc('io.cozy.contacts', { _id: 'imported', name: 'from the archive' })]);
  server = await startExportServer([part]);
});
afterAll(async () => {
  await server?.close();
  await h?.close();
  await pkgs?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the reset of an import', () => {
  it('removes share links and every other permission, apps, sessions and the job history', async () => {
    const cli = await h.cliToken('io.cozy.contacts io.cozy.apps io.cozy.imports');
    await until(async () => (await h.req('GET', '/apps/drive', { token: cli })).body?.data?.attributes?.state === 'ready', 30_000);
    expect((await h.req('PUT', '/data/io.cozy.contacts/c1', { token: cli, body: { name: 'c1' } })).status).toBeLessThan(300);
    const shared = await h.req('POST', '/permissions?codes=bob', { token: cli, body: { data: { type: 'io.cozy.permissions', attributes: { permissions: { c: { type: 'io.cozy.contacts', verbs: ['GET'] } } } } } });
    expect(shared.status).toBe(201);
    const code = shared.body.data.attributes.codes.bob as string;
    const shortcode = shared.body.data.attributes.shortcodes.bob as string;
    expect((await h.req('GET', '/data/io.cozy.contacts/c1', { token: code })).status).toBe(200);
    await pkgs.publish({ 'manifest.webapp': { slug: 'notes', type: 'webapp', version: '1.0.0', permissions: { c: { type: 'io.cozy.contacts', verbs: ['GET'] } } }, 'index.html': '<p>notes</p>' });
    expect((await h.req('POST', '/apps/notes?Source=registry://notes/stable', { token: cli })).status).toBe(202);
    await until(async () => (await h.req('GET', '/apps/notes', { token: cli })).body?.data?.attributes?.state === 'ready', 30_000);
    const store = h.hearth.storeOf(h.instance);
    expect(await store.get('io.cozy.permissions', 'io.cozy.apps/notes')).toMatchObject({ type: 'app' });
    const session = await h.hearth.sessions.create(h.instance, { userAgent: 'test' });
    const job = await h.hearth.jobs.engine.push(h.domain, { worker: 'log', message: 'before' });
    await until(async () => (await h.hearth.jobs.engine.broker.get(h.domain, job._id))?.state === 'done', 30_000);
    // a job of the old data still waiting to run
    const later = await h.hearth.jobs.engine.push(h.domain, { worker: 'log', message: 'later', delayMs: 3_600_000 });
    expect(later.state).toBe('queued');
    const builtinBefore = await store.get('io.cozy.apps', 'io.cozy.apps/drive');
    const importedAt = new Date().toISOString();

    expect((await h.req('POST', '/move/imports', { token: cli, body: { data: { attributes: { url: server.link } } } })).status).toBe(303);
    await until(async () => (await h.hearth.moveStates.get(h.instance.id)) === null, 120_000);

    // the archive is there, the data of before is not
    expect((await h.req('GET', '/data/io.cozy.contacts/imported', { token: cli })).status).toBe(200);
    expect((await h.req('GET', '/data/io.cozy.contacts/c1', { token: cli })).status).toBe(404);
    // the share link opens nothing, by its code or its shortcode: refused as a revoked one (permissions/routes.test.ts)
    for (const token of [code, shortcode]) {
      expect((await h.req('GET', '/data/io.cozy.contacts/imported', { token })).status).toBe(400);
    }
    const perms = await store.allDocs('io.cozy.permissions', { include_docs: false });
    expect(perms.rows.map((r) => String(r.id)).filter((id) => !id.startsWith('_design/'))).toEqual(['io.cozy.apps/drive']);
    // the app is uninstalled (the archive names none to install again), the built-in one is installed again, fresh
    expect((await h.req('GET', '/apps/notes', { token: cli })).status).toBe(404);
    expect((await h.req('GET', '/apps/drive', { token: cli })).body.data.attributes).toMatchObject({ state: 'ready' });
    const builtinAfter = await store.get('io.cozy.apps', 'io.cozy.apps/drive');
    expect(builtinAfter._rev).not.toBe(builtinBefore._rev);
    expect(String(builtinAfter.created_at) > importedAt).toBe(true);
    // the sessions are logged out, the job history is gone
    expect(await h.hearth.sessions.get(session.id)).toBeNull();
    const jobs = await h.hearth.jobs.engine.broker.list(h.domain, { worker: 'log', limit: 10 });
    expect(jobs).toEqual([]);
    expect(await h.hearth.jobs.engine.broker.get(h.domain, later._id)).toBeNull();
  }, 240_000);
});
