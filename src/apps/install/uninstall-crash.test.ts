/**
 * Uninstalls across kill -9. A konnector with `on_delete_account` (on-delete.ts): the server answers 202 and is killed
 * while the script runs; the next start finishes the work (the script's job, the accounts, the konnector) with no request
 * from anyone. A web app (installer.ts, journal.ts): the server is killed after the app's triggers went, before its
 * permission document, doc and code reference; the next start finishes the uninstall. One kill serves both (the web
 * app's crash point comes while the konnector's script runs); the next start runs in the test's process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { crashChain, type Started } from '../../../test/helpers/crash.js';
import { rawRequest, testConfig } from '../../../test/helpers/hearth.js';
import { until } from '../../../test/helpers/jobs.js';
import { freePort } from '../../../test/helpers/ports.js';
import { createHearth } from '../../server/compose.js';
import { findApp } from '../repo.js';

let pkgs: PackageServer;
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-crash-ondelete-'));
beforeAll(async () => {
  pkgs = await startPackageServer();
});
afterAll(async () => {
  await pkgs.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// its first run leaves a `started` bill and waits to be killed; the next run finds it and cleans (a bill saying so)
const SCRIPT = `const f = JSON.parse(process.env.COZY_FIELDS);
const api = (path, body) => fetch(process.env.COZY_URL + path, { method: body ? 'POST' : 'GET', headers: { authorization: 'Bearer ' + process.env.COZY_CREDENTIALS, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
const seen = await (await api('/data/io.cozy.bills/_all_docs?include_docs=true')).json();
if (!(seen.rows ?? []).some((r) => r.doc && r.doc.started === f.account)) {
  await api('/data/io.cozy.bills/', { started: f.account });
  await new Promise(() => setInterval(() => undefined, 1000));
}
const res = await api('/data/io.cozy.bills/', { deleted_account: f.account });
console.log(JSON.stringify({ type: res.ok ? 'info' : 'error', message: 'cleaned ' + res.status }));`;

const APP = { slug: 'parting', type: 'webapp', version: '1.0.0', permissions: { notes: { type: 'io.cozy.notes' } }, services: { tidy: { type: 'node', file: 'tidy.js', trigger: '@cron 0 0 3 * * *' } } };

/** The instance of the child server (`localhost:<port>`) with the konnector and one of its accounts, and the web app; a CLI token for it. */
async function prepare(port: number): Promise<string> {
  const manifest = { slug: 'farewell', type: 'konnector', version: '1.0.0', main: 'index.js', on_delete_account: 'ondelete.js', permissions: { bills: { type: 'io.cozy.bills' } } };
  const url = await pkgs.add('farewell', { 'manifest.konnector': manifest, 'package.json': '{"type":"module"}', 'index.js': '', 'ondelete.js': SCRIPT });
  const app = await pkgs.add('parting', { 'manifest.webapp': APP, 'index.html': '<html>parting</html>', 'tidy.js': '' });
  const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
  try {
    const instance = await hearth.registry.create({ domain: `localhost:${port}` });
    expect((await (await hearth.installer.install(instance, 'konnector', 'farewell', { source: url })).done).error).toBeNull();
    expect((await (await hearth.installer.install(instance, 'webapp', 'parting', { source: app })).done).error).toBeNull();
    expect((await hearth.jobs.scheduler.list(instance.domain, { workers: ['service'] })).length).toBe(1);
    await hearth.storeOf(instance).put('io.cozy.accounts', { _id: 'acc-farewell', account_type: 'farewell' });
    return await hearth.tokens.issue(instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.konnectors io.cozy.apps io.cozy.accounts io.cozy.bills' });
  } finally {
    await hearth.close();
  }
}

describe('uninstalls across a crash', () => {
  it('a konnector\'s with on_delete_account killed while the script runs, and a web app\'s killed after its triggers, are finished by the next start', async () => {
    const port = await freePort();
    const chain = crashChain(dataDir, port, ['apps.uninstall.triggers']); // the server loads while the test prepares
    onTestFinished(() => chain.close());
    const token = await prepare(port);
    const get = (s: Pick<Started, 'port' | 'domain'>, path: string) => rawRequest(s.port, 'GET', path, { host: s.domain, token });
    const bills = async (s: Pick<Started, 'port' | 'domain'>) => ((await get(s, '/data/io.cozy.bills/_all_docs?include_docs=true')).body?.rows ?? []).flatMap((r: { doc?: Record<string, unknown> }) => (r.doc ? [r.doc] : []));
    await chain.next(async (s) => {
      expect((await rawRequest(s.port, 'DELETE', '/konnectors/farewell', { host: s.domain, token })).status).toBe(202);
      // the script runs (the work is recorded with the konnector's doc before it is queued)
      await until(async () => (await bills(s)).some((b: Record<string, unknown>) => b.started === 'acc-farewell'), 60_000);
      expect((await get(s, '/konnectors/farewell')).body?.data?.attributes?.on_delete_account_jobs).toBeDefined();
      await rawRequest(s.port, 'DELETE', '/apps/parting', { host: s.domain, token });
    });
    const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
    try {
      await hearth.publicApp.listen({ host: '127.0.0.1', port }); // the script's COZY_URL
      const s = { port, domain: `localhost:${port}` };
      const instance = (await hearth.registry.get(s.domain))!;
      // the web app's uninstall finished by the start itself
      expect(await findApp(hearth.storeOf(instance), 'webapp', 'parting')).toBeNull();
      expect(await hearth.perms.appPermissions(instance, 'app', 'parting')).toBeNull();
      expect((await hearth.jobs.scheduler.list(instance.domain, { workers: ['service'] })).length).toBe(0);
      expect((await hearth.appCode.refs({ instanceId: instance.id })).map((r) => r.slug)).toEqual(['farewell']);
      expect((await hearth.appCode.inFlight()).map((i) => i.slug)).toEqual([]);
      // the konnector's, by its job given back at the start
      await until(async () => (await get(s, '/konnectors/farewell')).status === 404, 60_000);
      expect((await get(s, '/data/io.cozy.accounts/acc-farewell')).status).toBe(404);
      const cleaned = (await bills(s)).map((b: Record<string, unknown>) => b.deleted_account).filter(Boolean);
      expect(cleaned).toEqual(['acc-farewell']);
    } finally {
      await hearth.close();
    }
  }, 120_000);
});
