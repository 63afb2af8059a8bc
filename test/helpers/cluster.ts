/**
 * A cluster of real `hearth serve` processes (bin/hearth.js: build first) behind HAProxy (the README's example
 * configuration), on one PostgreSQL and one Redis, with Swift for the blobs when asked: the setup of
 * test/cluster/cluster.test.ts and test/cluster/outage.test.ts. One instance is created through the admin API of the
 * first process, and a CLI token for it through the second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rawRequest } from './hearth.js';
import { freePort } from './ports.js';
import { startHaproxy, type HaproxyServer } from './servers/haproxy.js';
import { startPostgres, type PgServer } from './servers/postgres.js';
import { startRedis, type RedisServer } from './servers/redis.js';
import { startSwift, type SwiftServer } from './servers/swift.js';

const BIN = fileURLToPath(new URL('../../bin/hearth.js', import.meta.url));
const PASS = 'cluster-admin';

export interface ClusterProc { child: ChildProcess; port: number; adminPort: number; dataDir: string; exited: Promise<void> }

export interface Cluster {
  postgres: PgServer;
  redis: RedisServer;
  swift: SwiftServer | null;
  proxy: HaproxyServer;
  /** The hearth processes (a test that kills one puts its replacement from startProc() at its place). */
  procs: ClusterProc[];
  domain: string;
  token: string;
  startProc(): Promise<ClusterProc>;
  admin(p: ClusterProc, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  /** A request through the balancer (or straight to one process with `port`). */
  api(method: string, path: string, opts?: { body?: unknown; raw?: Buffer; headers?: Record<string, string>; port?: number }): ReturnType<typeof rawRequest>;
  /** The bytes of a GET (fetch cannot set the Host header that names the instance). */
  download(port: number, path: string): Promise<{ status: number; body: Buffer }>;
  stop(): Promise<void>;
}

export async function startCluster(opts: { processes: number; swift: boolean; scope: string }): Promise<Cluster> {
  const [postgres, redis, swift] = await Promise.all([startPostgres(), startRedis(), opts.swift ? startSwift() : Promise.resolve(null)]);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp',
    HEARTH_ADMIN_PASSPHRASE: PASS, HEARTH_LOG_LEVEL: 'warn', HEARTH_MAIL_MODE: 'outbox', HEARTH_APPS_BUILTIN_REGISTRY: '',
    HEARTH_APPS_REGISTRIES: '', HEARTH_SERVER_TRUST_PROXY: '127.0.0.1',
    HEARTH_DOCS_ENGINE: 'postgres', HEARTH_DOCS_URL: postgres.url, HEARTH_DOCS_POOL_SIZE: '10',
    HEARTH_COORDINATION_ENGINE: 'redis', HEARTH_COORDINATION_URL: redis.url,
    ...(swift ? { HEARTH_BLOBS_ENGINE: 'swift', HEARTH_BLOBS_SWIFT_AUTH_URL: swift.authUrl, HEARTH_BLOBS_SWIFT_USER: swift.user, HEARTH_BLOBS_SWIFT_KEY: swift.key } : {}),
  };
  const procs: ClusterProc[] = [];

  async function startProc(): Promise<ClusterProc> {
    const [port, adminPort] = [await freePort(), await freePort()];
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-cluster-'));
    const child = spawn(process.execPath, [BIN, 'serve'], {
      env: { ...env, HEARTH_SERVER_PORT: String(port), HEARTH_ADMIN_PORT: String(adminPort), HEARTH_DATA_DIR: dataDir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`hearth exited with ${child.exitCode}: ${err}`);
      const up = await rawRequest(port, 'GET', '/version', { host: 'x' }).then((r) => r.status === 200, () => false);
      if (up) break;
      if (i > 600) throw new Error(`hearth did not start: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { child, port, adminPort, dataDir, exited };
  }

  async function admin(p: ClusterProc, method: string, path: string, body?: unknown) {
    const res = await fetch(`http://127.0.0.1:${p.adminPort}${path}`, {
      method, headers: { authorization: `Basic ${Buffer.from(`:${PASS}`).toString('base64')}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  // side by side: the shared schema is made under an advisory lock (src/engines/pg-schema.ts), as in a real cluster's start
  procs.push(...(await Promise.all(Array.from({ length: opts.processes }, () => startProc()))));
  const proxy = await startHaproxy(procs.map((p) => p.port));
  const domain = `localhost:${proxy.port}`;
  const created = await admin(procs[0]!, 'POST', '/instances', { domain, passphrase: 'owner-pass' });
  if (created.status !== 201) throw new Error(`the instance was not created: ${created.status} ${JSON.stringify(created.body)}`);
  const token = String((await admin(procs[1 % procs.length]!, 'POST', '/instances/token', { domain, audience: 'cli', scope: opts.scope })).body.token);

  return {
    postgres, redis, swift, proxy, procs, domain, token, startProc, admin,
    api: (method, path, o = {}) => rawRequest(o.port ?? proxy.port, method, path, {
      host: domain, token, ...(o.body !== undefined ? { body: o.body } : {}), ...(o.raw ? { raw: o.raw } : {}), ...(o.headers ? { headers: o.headers } : {}),
    }),
    download: (port, path) => new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host: domain, authorization: `Bearer ${token}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    }),
    async stop() {
      await proxy.stop();
      await Promise.all(procs.map(async (p) => {
        p.child.kill('SIGTERM');
        await p.exited;
        rmSync(p.dataDir, { recursive: true, force: true });
      }));
      await Promise.all([postgres.stop(), redis.stop(), swift?.stop()]);
    },
  };
}
