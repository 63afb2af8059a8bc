/**
 * What used to stay in each process's data directory, with several processes (issue 16): two Hearths on one
 * PostgreSQL, one Redis and one Swift. An app installed through the first is served by the second, and its uninstall
 * through the second takes it away from both (the first hears it through the Redis invalidation); a housekeeping
 * mark made by one is queued once by either; an avatar sent to one is served by the other, and goes with the instance.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { pino } from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE, sessionCookieValue } from '../../src/auth/sessions.js';
import type { HearthConfig } from '../../src/config/types.js';
import { createHearth, type Hearth } from '../../src/server/compose.js';
import type { Instance } from '../../src/instances/types.js';
import { startPackageServer, type PackageServer } from '../helpers/app-packages.js';
import { rawRequest, testConfig } from '../helpers/hearth.js';
import { until } from '../helpers/jobs.js';
import { startPostgres, type PgServer } from '../helpers/servers/postgres.js';
import { startRedis, type RedisServer } from '../helpers/servers/redis.js';
import { startSwift, type SwiftServer } from '../helpers/servers/swift.js';

let postgres: PgServer, redis: RedisServer, swift: SwiftServer, pkgs: PackageServer;
const procs: Array<{ hearth: Hearth; port: number; dataDir: string }> = [];
let instance: Instance;
let domain: string;

async function startProc(): Promise<{ hearth: Hearth; port: number; dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-apps-code-'));
  const d = testConfig(dataDir);
  const blobs: HearthConfig['blobs'] = { ...d.blobs, engine: 'swift', swift: { authUrl: swift.authUrl, user: swift.user, key: swift.key, containerPrefix: 'hearth-' } };
  const config = testConfig(dataDir, { docs: { engine: 'postgres', url: postgres.url, poolSize: 5 }, blobs, coordination: { engine: 'redis', url: redis.url, prefix: 'apps-code:' } });
  const hearth = await createHearth(config, pino({ level: 'silent' }));
  await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
  return { hearth, port: (hearth.publicApp.server.address() as AddressInfo).port, dataDir };
}

beforeAll(async () => {
  [postgres, redis, swift, pkgs] = await Promise.all([startPostgres(), startRedis(), startSwift(), startPackageServer()]);
  procs.push(...(await Promise.all([startProc(), startProc()])));
  domain = `localhost:${procs[0]!.port}`;
  instance = await procs[0]!.hearth.registry.create({ domain, passphrase: 'owner-pass' });
}, 180_000);

afterAll(async () => {
  for (const p of procs) {
    await p.hearth.close();
    rmSync(p.dataDir, { recursive: true, force: true });
  }
  await Promise.all([pkgs?.close(), postgres?.stop(), redis?.stop(), swift?.stop()]);
}, 120_000);

const INDEX = '<html><body>served by any process</body></html>';

describe('installed apps on PostgreSQL, Redis and Swift, two processes', () => {
  it('an app installed through one process is served by the other, and uninstalled through it for both', async () => {
    const [a, b] = procs as [typeof procs[0], typeof procs[0]];
    const token = await a.hearth.tokens.issue(instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.apps' });
    const url = await pkgs.add('notes', { 'manifest.webapp': { slug: 'notes', name: 'notes', type: 'webapp', version: '1.0.0', icon: 'icon.svg' }, 'index.html': INDEX, 'icon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>' });
    expect((await rawRequest(a.port, 'POST', `/apps/notes?Source=${encodeURIComponent(url)}`, { host: domain, token })).status).toBe(202);
    await until(async () => (await rawRequest(a.port, 'GET', '/apps/notes', { host: domain, token })).body?.data?.attributes?.state === 'ready', 30_000);
    // nothing of the code in the first process's data directory
    expect(existsSync(join(a.dataDir, 'apps-code'))).toBe(false);
    expect(existsSync(join(a.dataDir, 'apps-code.sqlite'))).toBe(false);

    // the second process serves its page (to the owner's session) and its icon
    const session = await b.hearth.sessions.create(instance, { userAgent: 'test', ip: '127.0.0.1' });
    const cookie = `${SESSION_COOKIE}=${sessionCookieValue((await b.hearth.registry.secrets(instance)).session, session.id)}`;
    const page = await rawRequest(b.port, 'GET', '/', { host: `notes.${domain}`, headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('served by any process');
    const icon = await rawRequest(b.port, 'GET', '/apps/notes/icon', { host: domain, token });
    expect(icon.status).toBe(200);
    expect(icon.text).toBe('<svg xmlns="http://www.w3.org/2000/svg"/>');

    // uninstalled through the second: the code is collected, and the first no longer has it
    const checksum = String((await rawRequest(a.port, 'GET', '/apps/notes', { host: domain, token })).body.data.attributes.checksum);
    expect((await rawRequest(b.port, 'DELETE', '/apps/notes', { host: domain, token })).status).toBe(200);
    await until(async () => !(await a.hearth.appCode.has(checksum)), 30_000);
    expect(await a.hearth.appCode.index(checksum)).toBeNull();
  });

  it('the housekeeping hints are shared: a mark made by one process is queued by the other, once', async () => {
    const [a, b] = procs as [typeof procs[0], typeof procs[0]];
    expect(existsSync(join(a.dataDir, 'jobs.sqlite'))).toBe(false);
    a.hearth.jobs.housekeeping.mark(instance, 'clean-clients', Date.now() - 3_600_000);
    expect(await a.hearth.jobs.housekeeping.run(0)).toBe(0); // written, not due yet at that time
    // the other process's round queues it (or a round of either in the background, meanwhile); then none queues it again
    const queued = () => b.hearth.jobs.engine.broker.list(domain, { worker: 'clean-clients', limit: 100 });
    await b.hearth.jobs.housekeeping.run();
    expect(await queued()).toHaveLength(1);
    await Promise.all([a.hearth.jobs.housekeeping.run(), b.hearth.jobs.housekeeping.run()]);
    expect(await queued()).toHaveLength(1);
  });

  it('leaves nothing in the data directories but the cache of the code it ran', () => {
    for (const p of procs) {
      const files = readdirSync(p.dataDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      expect(files.map((e) => join(e.parentPath, e.name)).filter((f) => !f.startsWith(join(p.dataDir, 'apps-code-cache')))).toEqual([]);
    }
  });

  it('an avatar sent to one process is served by the other, and goes when the instance is destroyed', async () => {
    const [a, b] = procs as [typeof procs[0], typeof procs[0]];
    const token = await a.hearth.tokens.issue(instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.settings' });
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#123456' } }).png().toBuffer();
    const put = await rawRequest(a.port, 'PUT', '/settings/avatar', { host: domain, token, raw: png, headers: { 'content-type': 'image/png' } });
    expect(put.status).toBe(204);
    expect(existsSync(join(a.dataDir, 'instances', instance.id, 'avatar'))).toBe(false);
    const got = await rawRequest(b.port, 'GET', '/public/avatar', { host: domain });
    expect(got.status).toBe(200);
    expect(got.headers['content-type']).toBe('image/png');

    await b.hearth.registry.destroy(domain);
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    try {
      expect((await client.query('SELECT 1 FROM hearth.avatars WHERE instance_id = $1', [instance.id])).rowCount).toBe(0);
    } finally {
      await client.end();
    }
  });
});
