/**
 * A cluster of real `hearth serve` processes (bin/hearth.js: build first) behind HAProxy (the README's example
 * configuration), on one PostgreSQL and one Redis, with Swift for the blobs when asked: the setup of
 * test/cluster/cluster.test.ts and test/cluster/outage.test.ts. One instance is created through the admin API of the
 * first process, and a CLI token for it through the second. A start that fails half-way (a server, a hearth process,
 * HAProxy, the instance) stops and removes everything it had started, and its ClusterStartError names the part.
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

export interface ClusterProc {
  child: ChildProcess; port: number; adminPort: number; dataDir: string; exited: Promise<void>;
  /** 'running', or how it ended with the tail of its stderr (what a test shows when a process died under it). */
  state(): string;
}

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

/**
 * A `hearth serve` process of a cluster, up when its /version answers (else killed, its folder removed, and an error
 * with its stderr's tail). A port that another process took between freePort and the bind is picked again (twice at most).
 */
export async function spawnHearth(env: Record<string, string>, bin = BIN): Promise<ClusterProc> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnOnce(env, bin);
    } catch (e) {
      if (attempt === 3 || !/\(the (public|admin) API\) is already in use/.test((e as Error).message)) throw e;
    }
  }
}

async function spawnOnce(env: Record<string, string>, bin: string): Promise<ClusterProc> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-cluster-'));
  const child = spawn(process.execPath, [bin, 'serve'], {
    env: { ...env, HEARTH_SERVER_PORT: String(port), HEARTH_ADMIN_PORT: String(adminPort), HEARTH_DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const state = () => (child.exitCode === null && child.signalCode === null ? 'running' : `exited with ${child.exitCode ?? child.signalCode}: ${err.trim()}`);
  const p: ClusterProc = { child, port, adminPort, dataDir, exited, state };
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`hearth exited with ${child.exitCode ?? child.signalCode}: ${err}`);
      const up = await rawRequest(port, 'GET', '/version', { host: 'x' }).then((r) => r.status === 200, () => false);
      if (up) return p;
      if (i > 600) throw new Error(`hearth did not start in 60 s: ${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stopHearth(p);
    throw e;
  }
}

/** Stops a hearth process (SIGTERM, then SIGKILL after 20 s) and removes its data folder. */
export async function stopHearth(p: ClusterProc): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    p.child.kill('SIGTERM');
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
    await p.exited;
    clearTimeout(timer);
  }
  rmSync(p.dataDir, { recursive: true, force: true });
}

/** A cluster start that failed: `part` names what did not come up; everything started before was stopped and removed. */
export class ClusterStartError extends Error {
  constructor(readonly part: string, cause: unknown, readonly stopped: { pids: number[]; dirs: string[] }) {
    super(`the cluster did not start: ${part} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export interface ClusterOptions {
  processes: number;
  swift: boolean;
  scope: string;
  /** Settings of the i-th hearth process (0-based) on top of the cluster's (a test breaks one on purpose). */
  procEnv?: (i: number) => Record<string, string>;
  /** HAProxy's port (default: a free one). */
  proxyPort?: number;
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  // what is up so far, stopped in reverse order if a later part fails
  const undo: Array<() => Promise<void>> = [];
  const stopped = { pids: [] as number[], dirs: [] as string[] };
  let part = 'postgresql, redis or swift';
  try {
    return await startParts(opts, undo, stopped, (p) => (part = p));
  } catch (e) {
    for (const stop of undo.reverse()) await stop().catch(() => undefined);
    throw new ClusterStartError(part, e, stopped);
  }
}

async function startParts(
  opts: ClusterOptions, undo: Array<() => Promise<void>>, stopped: { pids: number[]; dirs: string[] }, at: (part: string) => void,
): Promise<Cluster> {
  const servers = await Promise.allSettled([startPostgres(), startRedis(), opts.swift ? startSwift() : Promise.resolve(null)]);
  const names = ['postgresql', 'redis', 'swift'];
  servers.forEach((s) => {
    if (s.status === 'fulfilled' && s.value) {
      const server = s.value;
      stopped.dirs.push(server.dir);
      undo.push(() => server.stop());
    }
  });
  const failed = servers.findIndex((s) => s.status === 'rejected');
  if (failed >= 0) {
    at(names[failed]!);
    throw (servers[failed] as PromiseRejectedResult).reason;
  }
  const [postgres, redis, swift] = servers.map((s) => (s as PromiseFulfilledResult<unknown>).value) as [PgServer, RedisServer, SwiftServer | null];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp',
    HEARTH_ADMIN_PASSPHRASE: PASS, HEARTH_LOG_LEVEL: 'warn', HEARTH_MAIL_MODE: 'outbox', HEARTH_APPS_BUILTIN_REGISTRY: '',
    HEARTH_APPS_REGISTRIES: '', HEARTH_SERVER_TRUST_PROXY: '127.0.0.1',
    HEARTH_DOCS_ENGINE: 'postgres', HEARTH_DOCS_URL: postgres.url, HEARTH_DOCS_POOL_SIZE: '10',
    HEARTH_COORDINATION_ENGINE: 'redis', HEARTH_COORDINATION_URL: redis.url,
    ...(swift ? { HEARTH_BLOBS_ENGINE: 'swift', HEARTH_BLOBS_SWIFT_AUTH_URL: swift.authUrl, HEARTH_BLOBS_SWIFT_USER: swift.user, HEARTH_BLOBS_SWIFT_KEY: swift.key } : {}),
  };
  const procs: ClusterProc[] = [];
  const startProc = (i = procs.length) => spawnHearth({ ...env, ...opts.procEnv?.(i) });
  undo.push(async () => {
    await Promise.all(procs.map(stopHearth));
  });

  // side by side: the shared schema is made under an advisory lock (src/engines/pg-schema.ts), as in a real cluster's start
  const started = await Promise.allSettled(Array.from({ length: opts.processes }, (_, i) => startProc(i)));
  for (const s of started) {
    if (s.status === 'fulfilled') {
      procs.push(s.value);
      stopped.pids.push(s.value.child.pid!);
      stopped.dirs.push(s.value.dataDir);
    }
  }
  const down = started.findIndex((s) => s.status === 'rejected');
  if (down >= 0) {
    at(`hearth process ${down + 1} of ${opts.processes}`);
    throw (started[down] as PromiseRejectedResult).reason;
  }
  at('haproxy');
  const proxy = await startHaproxy(procs.map((p) => p.port), opts.proxyPort);
  stopped.dirs.push(proxy.dir);
  undo.push(() => proxy.stop());
  at('the instance\'s creation');
  async function admin(p: ClusterProc, method: string, path: string, body?: unknown) {
    const res = await fetch(`http://127.0.0.1:${p.adminPort}${path}`, {
      method, headers: { authorization: `Basic ${Buffer.from(`:${PASS}`).toString('base64')}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  const domain = `localhost:${proxy.port}`;
  const created = await admin(procs[0]!, 'POST', '/instances', { domain, passphrase: 'owner-pass' });
  if (created.status !== 201) throw new Error(`the instance was not created: ${created.status} ${JSON.stringify(created.body)}`);
  const token = String((await admin(procs[1 % procs.length]!, 'POST', '/instances/token', { domain, audience: 'cli', scope: opts.scope })).body.token);

  return {
    postgres, redis, swift, proxy, procs, domain, token, startProc: () => startProc(), admin,
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
      await Promise.all(procs.map(stopHearth));
      await Promise.all([postgres.stop(), redis.stop(), swift?.stop()]);
    },
  };
}
