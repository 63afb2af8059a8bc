/**
 * The uninstall of a konnector with `on_delete_account` survives a kill -9 (on-delete.ts): the server answers 202, is
 * killed while the script runs, and the restarted server finishes the work (the script's job, the accounts, the
 * konnector) with no request from anyone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { startServer, stopServer, type Started } from '../../../test/helpers/crash.js';
import { rawRequest, testConfig } from '../../../test/helpers/hearth.js';
import { until } from '../../../test/helpers/jobs.js';
import { freePort } from '../../../test/helpers/ports.js';
import { createHearth } from '../../server/compose.js';

let pkgs: PackageServer;
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-crash-ondelete-'));
beforeAll(async () => {
  pkgs = await startPackageServer();
});
afterAll(async () => {
  await pkgs.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// it waits, so that the kill comes while it runs, then leaves a bill to show it ran
const SCRIPT = `const f = JSON.parse(process.env.COZY_FIELDS);
await new Promise((r) => setTimeout(r, 8000));
const res = await fetch(process.env.COZY_URL + '/data/io.cozy.bills/', { method: 'POST', headers: { authorization: 'Bearer ' + process.env.COZY_CREDENTIALS, 'content-type': 'application/json' }, body: JSON.stringify({ deleted_account: f.account }) });
console.log(JSON.stringify({ type: res.ok ? 'info' : 'error', message: 'cleaned ' + res.status }));`;

/** The instance of the child server (`localhost:<port>`) with the konnector and one of its accounts; a CLI token for it. */
async function prepare(port: number): Promise<string> {
  const manifest = { slug: 'farewell', type: 'konnector', version: '1.0.0', main: 'index.js', on_delete_account: 'ondelete.js', permissions: { bills: { type: 'io.cozy.bills' } } };
  const url = await pkgs.add('farewell', { 'manifest.konnector': manifest, 'package.json': '{"type":"module"}', 'index.js': '', 'ondelete.js': SCRIPT });
  const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
  try {
    const instance = await hearth.registry.create({ domain: `localhost:${port}` });
    const out = await (await hearth.installer.install(instance, 'konnector', 'farewell', { source: url })).done;
    expect(out.error).toBeNull();
    await hearth.storeOf(instance).put('io.cozy.accounts', { _id: 'acc-farewell', account_type: 'farewell' });
    return await hearth.tokens.issue(instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.konnectors io.cozy.accounts io.cozy.bills' });
  } finally {
    await hearth.close();
  }
}

describe('uninstalling a konnector with on_delete_account across a crash', () => {
  it('is finished by the next start when the server is killed while the script runs', async () => {
    const port = await freePort();
    const token = await prepare(port);
    const get = (s: Started, path: string) => rawRequest(s.port, 'GET', path, { host: s.domain, token });
    let s = await startServer(dataDir, port);
    try {
      const res = await rawRequest(s.port, 'DELETE', '/konnectors/farewell', { host: s.domain, token });
      expect(res.status).toBe(202);
      // the work is recorded with the konnector's doc before the wait (bounded: the old code never records it)
      for (let i = 0; i < 40 && !(await get(s, '/konnectors/farewell')).body?.data?.attributes?.on_delete_account_jobs; i++) await new Promise((r) => setTimeout(r, 50));
      s.child.kill('SIGKILL');
      await new Promise((r) => s.child.once('exit', r));
      s = await startServer(dataDir, port);
      // still installed right after the restart, then finished (the killed jobs' leases run out within 30 s)
      await until(async () => (await get(s, '/konnectors/farewell')).status === 404, 150_000);
      expect((await get(s, '/data/io.cozy.accounts/acc-farewell')).status).toBe(404);
      const bills = await get(s, '/data/io.cozy.bills/_all_docs?include_docs=true');
      const cleaned = bills.body.rows.map((r: { doc?: Record<string, unknown> }) => r.doc?.deleted_account).filter(Boolean);
      expect(cleaned.length).toBeGreaterThan(0);
      expect(new Set(cleaned)).toEqual(new Set(['acc-farewell']));
    } finally {
      await stopServer(s);
    }
  }, 240_000);
});
