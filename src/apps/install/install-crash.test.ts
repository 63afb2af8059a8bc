/**
 * An acknowledged install survives a kill -9, and a code reference lost in a crash comes back (installer.ts,
 * apps/code/local-store.ts): the install of stored code waits for no fsync of its code reference, whose loss a crash
 * may cause; the restarted server gives it back from the app doc before gc may remove anything.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-crash-install-'));
beforeAll(async () => {
  pkgs = await startPackageServer();
});
afterAll(async () => {
  await pkgs.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const MANIFEST = { slug: 'sturdy', name: 'Sturdy', type: 'webapp', version: '1.0.0', permissions: { notes: { type: 'io.cozy.notes' } }, services: { tidy: { type: 'node', file: 'tidy.js', trigger: '@cron 0 0 3 * * *' } } };

/** The package's URL (with its sha256, so that an install of stored code knows it) stored by an install on another instance, and a CLI token of `localhost:<port>`. */
async function prepare(port: number): Promise<{ source: string; token: string }> {
  const url = await pkgs.add('sturdy', { 'manifest.webapp': MANIFEST, 'index.html': '<html>sturdy</html>', 'tidy.js': '' });
  const source = `${url}#${createHash('sha256').update(readFileSync(join(pkgs.dir, 'sturdy.tar.gz'))).digest('hex')}`;
  const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
  try {
    const other = await hearth.registry.create({ domain: 'other.crash.test' });
    expect((await (await hearth.installer.install(other, 'webapp', 'sturdy', { source })).done).error).toBeNull();
    const instance = await hearth.registry.create({ domain: `localhost:${port}` });
    return { source, token: await hearth.tokens.issue(instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.apps' }) };
  } finally {
    await hearth.close();
  }
}

describe('an install of stored code across a crash', () => {
  it('is whole after a kill -9, and its code reference, lost, is given back from the app doc', async () => {
    const port = await freePort();
    const { source, token } = await prepare(port);
    let s: Started = await startServer(dataDir, port);
    try {
      const res = await rawRequest(s.port, 'POST', `/apps/sturdy?Source=${encodeURIComponent(source)}`, { host: s.domain, token });
      expect(res.status).toBe(202);
      await until(async () => (await rawRequest(s.port, 'GET', '/apps/sturdy', { host: s.domain, token })).body?.data?.attributes?.state === 'ready', 20_000);
      s.child.kill('SIGKILL');
      await new Promise((r) => s.child.once('exit', r));
      // what a power loss may do to references written without their fsync (both instances' here)
      const db = new Database(join(dataDir, 'apps-code.sqlite'));
      expect(db.prepare("DELETE FROM refs WHERE slug = 'sturdy'").run().changes).toBe(2);
      db.close();
      s = await startServer(dataDir, port);
      expect((await rawRequest(s.port, 'GET', '/apps/sturdy', { host: s.domain, token })).body.data.attributes.state).toBe('ready');
    } finally {
      await stopServer(s);
    }
    const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
    try {
      const instance = (await hearth.registry.get(`localhost:${port}`))!;
      const refs = await hearth.appCode.refs({ instanceId: instance.id });
      expect(refs.map((r) => r.slug)).toEqual(['sturdy']);
      expect(await hearth.appCode.has(refs[0]!.sha256)).toBe(true);
      expect(hearth.appCode.refsStale).toBe(false);
      expect((await hearth.perms.appPermissions(instance, 'app', 'sturdy'))?.permissions).toMatchObject({ notes: { type: 'io.cozy.notes' } });
      const triggers = await hearth.jobs.scheduler.list(instance.domain, {});
      expect(triggers.filter((t) => (t.message as { slug?: string } | null)?.slug === 'sturdy')).toHaveLength(1);
    } finally {
      await hearth.close();
    }
  }, 120_000);
});
