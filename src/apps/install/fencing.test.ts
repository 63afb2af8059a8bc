/**
 * The fencing of the app install lock (installer.ts): a process that holds an instance's install lock for a slug on
 * Redis stops past the lock's lease (its event loop blocked, as a paused process's); another process takes the lock
 * and installs the app; the first, resumed, goes on under its old lock: its writes are refused (503) in the
 * transactions that would have committed them, those of the trigger of its service (jobs' store) and of the app doc
 * and permission document (the instance's store), so that it neither adds a trigger nor undoes the other's install.
 * On PostgreSQL. On SQLite a second process cannot get that far: the data-directory lock (common/data-dir-lock.ts)
 * refuses it at its start, before it opens anything or takes any lock of the cluster.
 */
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { childLines } from '../../../test/helpers/child-lines.js';
import { DOMAIN, openFencedHearth, SLUG } from '../../../test/helpers/fenced-install.js';
import { startPostgres, type PgServer } from '../../../test/helpers/servers/postgres.js';
import { startRedis, type RedisServer } from '../../../test/helpers/servers/redis.js';
import { findApp } from '../repo.js';

let redis: RedisServer;
let pg: PgServer;
let pkgs: PackageServer;
beforeAll(async () => {
  [redis, pg, pkgs] = await Promise.all([startRedis(), startPostgres(), startPackageServer()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([redis?.stop(), pg?.stop(), pkgs?.close()]);
});

const LEASE_MS = 1000;
const MANIFEST = { slug: SLUG, name: 'Fenced', type: 'webapp', version: '1.0.0', permissions: { notes: { type: 'io.cozy.notes' } }, services: { tidy: { type: 'node', file: 'tidy.js', trigger: '@cron 0 0 3 * * *' } } };

describe.each(['postgres'] as const)('the app install lock is fenced (%s)', (engine) => {
  it('a holder paused past its lease goes on after another installed the app: no trigger of its own, and the other\'s install stays whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-fenced-install-'));
    const pgUrl = engine === 'postgres' ? await pg.database_url(`fence_${randomUUID().slice(0, 8)}`) : null;
    const prefix = `i${randomUUID().slice(0, 8)}:`;
    const url = await pkgs.add(`${SLUG}-${engine}`, { 'manifest.webapp': MANIFEST, 'index.html': '<html>fenced</html>', 'tidy.js': '' });
    // with its sha256, an install on a second instance finds the code stored: it holds its lock to its end
    const source = `${url}#${createHash('sha256').update(readFileSync(join(pkgs.dir, `${SLUG}-${engine}.tar.gz`))).digest('hex')}`;
    const hearth = await openFencedHearth({ dir, pgUrl, redisUrl: redis.url, prefix, leaseMs: LEASE_MS });
    const other = await hearth.registry.create({ domain: `other.${DOMAIN}` });
    expect((await (await hearth.installer.install(other, 'webapp', SLUG, { source })).done).error).toBeNull();
    const instance = await hearth.registry.create({ domain: DOMAIN });
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/fenced-install-main.ts', dir, pgUrl ?? '-', redis.url, prefix, String(LEASE_MS), source], { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = childLines(child);
    try {
      expect(await line(0)).toBe('held');
      // this process waits for the lease to end, then takes the lock and installs the app
      const { doc, error } = await (await hearth.installer.install(instance, 'webapp', SLUG, { source })).done;
      expect(error).toBeNull();
      const ours = (await hearth.jobs.scheduler.list(DOMAIN, {})).map((t) => t._id);
      expect(ours).toEqual([(doc!.services as Record<string, { trigger_id: string }>).tidy!.trigger_id]);
      child.stdin.write('go\n');
      expect(await line(1)).toBe('refused 503');
      // no trigger of the stale holder; the app doc and its permissions are the other install's, untouched
      expect((await hearth.jobs.scheduler.list(DOMAIN, {})).map((t) => t._id)).toEqual(ours);
      expect(await findApp(hearth.storeOf(instance), 'webapp', SLUG)).toMatchObject({ _rev: doc!._rev, state: 'ready' });
      expect(await hearth.perms.appPermissions(instance, 'app', SLUG)).not.toBeNull();
      // and the next holder's operations go on
      expect((await (await hearth.installer.update(instance, 'webapp', SLUG, {})).done).error).toBeNull();
    } finally {
      child.kill('SIGKILL');
      await hearth.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the app install lock on SQLite', () => {
  it('is never shared: a second process on the same SQLite data directory is refused at its start, the first one\'s install untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-fenced-install-'));
    const prefix = `i${randomUUID().slice(0, 8)}:`;
    const url = await pkgs.add(`${SLUG}-sqlite`, { 'manifest.webapp': MANIFEST, 'index.html': '<html>fenced</html>', 'tidy.js': '' });
    const hearth = await openFencedHearth({ dir, pgUrl: null, redisUrl: redis.url, prefix, leaseMs: LEASE_MS });
    try {
      const instance = await hearth.registry.create({ domain: DOMAIN });
      const { doc, error } = await (await hearth.installer.install(instance, 'webapp', SLUG, { source: url })).done;
      expect(error).toBeNull();
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/fenced-install-main.ts', dir, '-', redis.url, prefix, String(LEASE_MS), url], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).not.toBe(0);
      expect(stderr).toContain(`${dir} is in use by hearth serve (pid ${process.pid}, since `);
      expect(await findApp(hearth.storeOf(instance), 'webapp', SLUG)).toMatchObject({ _rev: doc!._rev, state: 'ready' });
    } finally {
      await hearth.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
