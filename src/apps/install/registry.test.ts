/**
 * Installs from a registry (cozy-apps.md §4.3, §4.6, §5): a konnector from `registry://` (the default source) run by
 * its trigger, and the lazy update of `GET /apps/:slug` (applied when the permissions are the same, waiting in
 * `available_version` when they grow). The registry is a local HTTP server answering cozy's registry API.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../config/schema.js';
import type { JobDoc } from '../../jobs/types.js';
import { publish } from '../registry/publish.js';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { makeTarball } from '../../../test/helpers/app-tarball.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { until } from '../../../test/helpers/jobs.js';
import { ownerCookie } from '../../../test/helpers/apps.js';

let h: TestHearth;
let pkgs: PackageServer;
let token: string;
const folder = mkdtempSync(join(tmpdir(), 'hearth-folder-registry-'));
const SAMPLE = fileURLToPath(new URL('../../../test/fixtures/konnectors/sample/', import.meta.url));

beforeAll(async () => {
  pkgs = await startPackageServer();
  h = await startTestHearth({
    apps: { ...DEFAULTS.apps, registries: `${pkgs.url},file://${folder}` },
    jobs: { konnectorsDir: null, appsDir: null, sandboxMemoryMb: 128, sandboxOutputBytes: 256 * 1024, eventSweepMs: 30_000 },
  });
  token = await h.cliToken('io.cozy.apps io.cozy.konnectors io.cozy.triggers io.cozy.bills');
});
afterAll(async () => {
  await h.close();
  await pkgs.close();
  rmSync(folder, { recursive: true, force: true });
});

async function settled(route: string, slug: string) {
  for (let i = 0; i < 400; i++) {
    const res = await h.req('GET', `${route}/${slug}`, { token });
    if (!['installing', 'upgrading'].includes(res.body?.data?.attributes?.state)) return res.body.data.attributes;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${slug} never settled`);
}

describe('registry sources', () => {
  it('installs a konnector from registry://<slug>/stable (the default) and runs it from its trigger', async () => {
    const files = Object.fromEntries(['index.js', 'package.json'].map((f) => [f, readFileSync(SAMPLE + f, 'utf8')]));
    const manifest = { ...JSON.parse(readFileSync(SAMPLE + 'manifest.konnector', 'utf8')), version: '1.0.0' };
    await pkgs.publish({ ...files, 'manifest.konnector': manifest });
    const res = await h.req('POST', '/konnectors/sample', { token });
    expect(res.status).toBe(202);
    expect(await settled('/konnectors', 'sample')).toMatchObject({ state: 'ready', version: '1.0.0', source: 'registry://sample/stable' });

    const download = await h.req('GET', '/konnectors/sample/download', { token });
    expect(download.status).toBe(303);
    expect(download.headers.location).toBe(`${pkgs.url}sample-1.0.0.tar.gz`);

    const trigger = await h.req('POST', '/konnectors/sample/trigger?ExecNow=true', { token });
    expect(trigger.status).toBe(201);
    let job: JobDoc | undefined;
    await until(async () => {
      job = (await h.hearth.jobs.engine.broker.list(h.domain, { worker: 'konnector', triggerId: trigger.body.data.id, limit: 10 })).find((j) => ['done', 'errored'].includes(j.state));
      return job !== undefined;
    }, 20_000);
    expect(job).toMatchObject({ state: 'done' });
    const bills = await h.req('GET', '/data/io.cozy.bills/_all_docs?include_docs=true', { token });
    expect(bills.body.rows.some((r: { doc?: { job_id?: string } }) => r.doc?.job_id === job!._id)).toBe(true);
  });

  it('creates the konnector trigger for a token allowed POST on it, as cozy-stack\'s createTrigger: the doctype or its konnector worker', async () => {
    const create = (opts: { token?: string; headers?: Record<string, string> }) => h.req('POST', '/konnectors/sample/trigger?AccountID=acc1', opts);
    // what cozy-harvest's apps hold: POST on the konnector worker's triggers only
    const harvest = await create({ token: await h.cliToken('io.cozy.triggers:POST:konnector:worker') });
    expect(harvest.status).toBe(201);
    expect(harvest.body.data.attributes).toMatchObject({ type: '@cron', worker: 'konnector', message: { konnector: 'sample', account: 'acc1' } });
    expect((await create({ token: await h.cliToken('io.cozy.triggers:POST') })).status).toBe(201);
    // refused: another worker's triggers, another verb, no right on triggers
    for (const scope of ['io.cozy.triggers:POST:sendmail:worker', 'io.cozy.triggers:GET', 'io.cozy.konnectors']) {
      const res = await create({ token: await h.cliToken(scope) });
      expect([scope, res.status]).toEqual([scope, 403]);
    }
    // a token is needed: the owner's session cookie alone is not one (401), nor is nothing
    const { cookie } = await ownerCookie(h, h.instance);
    expect((await create({ headers: { cookie } })).status).toBe(401);
    expect((await create({})).status).toBe(401);
    expect((await h.req('POST', '/konnectors/missing/trigger', { token })).status).toBe(404);
  });

  it('updates a registry app when GET /apps/:slug finds a newer version, unless its permissions grew', async () => {
    const app = (version: string, permissions: Record<string, unknown>) => ({ 'manifest.webapp': { slug: 'lazy', type: 'webapp', version, permissions }, 'index.html': `<p>${version}</p>` });
    const contacts = { contacts: { type: 'io.cozy.contacts', verbs: ['GET'] } };
    await pkgs.publish(app('1.0.0', contacts));
    expect((await h.req('POST', '/apps/lazy?Source=registry://lazy/stable', { token })).status).toBe(202);
    expect(await settled('/apps', 'lazy')).toMatchObject({ state: 'ready', version: '1.0.0' });

    await pkgs.publish(app('1.1.0', contacts));
    const updated = await h.req('GET', '/apps/lazy', { token });
    expect(updated.body.data.attributes).toMatchObject({ state: 'ready', version: '1.1.0' });

    await pkgs.publish(app('1.2.0', { ...contacts, files: { type: 'io.cozy.files' } }));
    const waiting = await h.req('GET', '/apps/lazy', { token });
    expect(waiting.body.data.attributes).toMatchObject({ state: 'ready', version: '1.1.0', available_version: '1.2.0' });
    expect((await h.hearth.perms.appPermissions(h.instance, 'app', 'lazy'))?.permissions).toEqual(contacts);
  });

  it('installs from a local folder registry (file:// tarballs read through the registry)', async () => {
    const tarball = join(folder, 'offline.tar.gz');
    await makeTarball(tarball, [
      { name: 'manifest.webapp', body: JSON.stringify({ slug: 'offline', type: 'webapp', version: '3.0.0', name: 'Offline' }) },
      { name: 'index.html', body: '<p>offline</p>' },
    ]);
    await publish(tarball, { dir: folder, limits: { maxEntries: 100, maxUnpackedBytes: 1 << 20 } });
    expect((await h.req('POST', '/apps/offline', { token })).status).toBe(202);
    expect(await settled('/apps', 'offline')).toMatchObject({ state: 'ready', version: '3.0.0', source: 'registry://offline/stable' });
  });

  it('answers 404 for a slug no registry has', async () => {
    const res = await h.req('POST', '/apps/nowhere', { token });
    expect(res.status).toBe(404);
    expect((await h.req('GET', '/apps/nowhere', { token })).status).toBe(404);
  });
});
