/**
 * The cluster of issue 16: three `hearth serve` processes (the real executable, bin/hearth.js) behind HAProxy (the
 * README's example configuration), on one PostgreSQL, one Redis and one Swift, with nothing kept in any process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../helpers/hearth.js';
import { freePort } from '../helpers/ports.js';
import { localDb, remoteDb } from '../helpers/pouch.js';
import { openWs } from '../helpers/ws.js';
import { startHaproxy, type HaproxyServer } from '../helpers/servers/haproxy.js';
import { startPostgres, type PgServer } from '../helpers/servers/postgres.js';
import { startRedis, type RedisServer } from '../helpers/servers/redis.js';
import { startSwift, type SwiftServer } from '../helpers/servers/swift.js';

const BIN = fileURLToPath(new URL('../../bin/hearth.js', import.meta.url));
const PASS = 'cluster-admin';

interface Proc { child: ChildProcess; port: number; adminPort: number; dataDir: string; exited: Promise<void> }

let postgres: PgServer, redis: RedisServer, swift: SwiftServer, proxy: HaproxyServer;
const procs: Proc[] = [];
let env: Record<string, string>;
let domain: string;
let token: string;

async function startProc(): Promise<Proc> {
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

async function admin(p: Proc, method: string, path: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${p.adminPort}${path}`, {
    method, headers: { authorization: `Basic ${Buffer.from(`:${PASS}`).toString('base64')}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** A request through the balancer (or straight to one process with `port`). */
const api = (method: string, path: string, opts: { body?: unknown; raw?: Buffer; headers?: Record<string, string>; port?: number } = {}) =>
  rawRequest(opts.port ?? proxy.port, method, path, {
    host: domain, token, ...(opts.body !== undefined ? { body: opts.body } : {}), ...(opts.raw ? { raw: opts.raw } : {}), ...(opts.headers ? { headers: opts.headers } : {}),
  });

/** The bytes of a GET (fetch cannot set the Host header that names the instance). */
function download(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host: domain, authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  [postgres, redis, swift] = await Promise.all([startPostgres(), startRedis(), startSwift()]);
  env = {
    PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp',
    HEARTH_ADMIN_PASSPHRASE: PASS, HEARTH_LOG_LEVEL: 'warn', HEARTH_MAIL_MODE: 'outbox', HEARTH_APPS_BUILTIN_REGISTRY: '',
    HEARTH_APPS_REGISTRIES: '', HEARTH_SERVER_TRUST_PROXY: '127.0.0.1',
    HEARTH_DOCS_ENGINE: 'postgres', HEARTH_DOCS_URL: postgres.url, HEARTH_DOCS_POOL_SIZE: '10',
    HEARTH_COORDINATION_ENGINE: 'redis', HEARTH_COORDINATION_URL: redis.url,
    HEARTH_BLOBS_ENGINE: 'swift', HEARTH_BLOBS_SWIFT_AUTH_URL: swift.authUrl, HEARTH_BLOBS_SWIFT_USER: swift.user, HEARTH_BLOBS_SWIFT_KEY: swift.key,
  };
  for (let i = 0; i < 3; i++) procs.push(await startProc());
  proxy = await startHaproxy(procs.map((p) => p.port));
  domain = `localhost:${proxy.port}`;
  expect((await admin(procs[0]!, 'POST', '/instances', { domain, passphrase: 'owner-pass' })).status).toBe(201);
  token = String((await admin(procs[1]!, 'POST', '/instances/token', { domain, audience: 'cli', scope: 'io.cozy.cluster io.cozy.files io.cozy.jobs:ALL:log:worker io.cozy.triggers:ALL:log:worker' })).body.token);
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  for (const p of procs) {
    p.child.kill('SIGTERM');
    await p.exited;
    rmSync(p.dataDir, { recursive: true, force: true });
  }
  await Promise.all([postgres?.stop(), redis?.stop(), swift?.stop()]);
}, 120_000);

describe('three hearth processes behind HAProxy on PostgreSQL, Redis and Swift', () => {
  it('PouchDB syncs through the balancer, and every process serves the same documents', async () => {
    const local = localDb();
    await local.bulkDocs(Array.from({ length: 200 }, (_, i) => ({ _id: `doc-${i}`, n: i })));
    const remote = remoteDb(`http://${domain}/data/io.cozy.cluster`, token);
    const pushed = await local.replicate.to(remote);
    expect(pushed.docs_written).toBe(200);
    for (const p of procs) {
      const res = await api('GET', '/data/io.cozy.cluster/_all_docs?limit=0', { port: p.port });
      expect(res.body.total_rows).toBe(200);
    }
    const back = localDb();
    expect((await back.replicate.from(remote)).docs_written).toBe(200);
  });

  it('a realtime subscriber on one process sees a write made through another', async () => {
    const ws = await openWs(procs[0]!.port, domain);
    try {
      ws.auth(token);
      ws.subscribe('io.cozy.cluster');
      await ws.barrier();
      const created = await api('POST', '/data/io.cozy.cluster/', { port: procs[2]!.port, body: { hello: 'from process 3' } });
      expect(created.status).toBe(201);
      const event = await ws.next((m) => m.event === 'CREATED' && m.payload.id === created.body.id, 15_000);
      expect(event.payload.doc.hello).toBe('from process 3');
    } finally {
      await ws.close();
    }
  });

  it('an upload through one process downloads through another, byte for byte', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 17);
    const md5 = createHash('md5').update(content).digest('base64');
    const up = await api('POST', '/files/?Type=file&Name=cluster.bin', { port: procs[0]!.port, raw: content, headers: { 'content-type': 'application/octet-stream', 'content-md5': md5 } });
    expect(up.status).toBe(201);
    const down = await download(procs[1]!.port, `/files/download/${up.body.data.id}`);
    expect(down.status).toBe(200);
    expect(createHash('md5').update(down.body).digest('base64')).toBe(md5);
  });

  it('a job queued 1,000 times runs 1,000 times, each once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 1000; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, (_, k) => api('POST', '/jobs/queue/log', { body: { data: { type: 'io.cozy.jobs', attributes: { arguments: `job ${i + k}` } } } })));
      for (const res of batch) {
        expect(res.status).toBe(202);
        ids.push(String(res.body.data.id));
      }
    }
    expect(new Set(ids).size).toBe(1000);
    await expect.poll(async () => {
      const states = await Promise.all(ids.map(async (id) => (await api('GET', `/jobs/${id}`)).body.data.attributes));
      return states.filter((a) => a.state === 'done').length;
    }, { timeout: 120_000, interval: 1000 }).toBe(1000);
    // each ran once: one claim each (the API does not show the tries; the jobs' table does)
    const db = new pg.Client(postgres.url);
    await db.connect();
    try {
      const { rows } = await db.query<{ tries: number; n: string }>('SELECT tries, count(*) AS n FROM hearth.jobs WHERE id = ANY($1) GROUP BY tries', [ids]);
      expect(rows.map((r) => ({ tries: r.tries, n: Number(r.n) }))).toEqual([{ tries: 1, n: 1000 }]);
    } finally {
      await db.end();
    }
  });

  it('an @every 1s trigger fires once a second, not once per process', async () => {
    const created = await api('POST', '/jobs/triggers', { body: { data: { attributes: { type: '@every', arguments: '1s', worker: 'log', message: 'tick' } } } });
    expect(created.status).toBe(201);
    const id = String(created.body.data.id);
    const start = Date.now();
    await new Promise((r) => setTimeout(r, 6_000));
    const jobs = await api('GET', `/jobs/triggers/${id}/jobs?Limit=100`);
    await api('DELETE', `/jobs/triggers/${id}`);
    const seconds = (Date.now() - start) / 1000;
    // once per second (a slot at the start may or may not count): never three per second
    expect(jobs.body.data.length).toBeGreaterThanOrEqual(Math.floor(seconds) - 2);
    expect(jobs.body.data.length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
  });

  it('kill -9 of one process under write load loses no acknowledged write, and the retries succeed on the others', async () => {
    const acknowledged: string[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const id = `w${w}-${i}`;
        for (let attempt = 0; attempt < 20; attempt++) {
          const res = await api('PUT', `/data/io.cozy.cluster/${id}`, { body: { w, i } }).catch(() => null);
          if (res && (res.status === 201 || res.status === 409)) {
            acknowledged.push(id);
            break;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    await new Promise((r) => setTimeout(r, 1500));
    const victim = procs[1]!;
    victim.child.kill('SIGKILL');
    await victim.exited;
    await new Promise((r) => setTimeout(r, 2500));
    stop = true;
    await Promise.all(writers);
    expect(acknowledged.length).toBeGreaterThan(50);
    const all = await api('POST', '/data/io.cozy.cluster/_all_docs', { port: procs[0]!.port, body: { keys: acknowledged } });
    const missing = all.body.rows.filter((r: { error?: string }) => r.error).map((r: { key: string }) => r.key);
    expect(missing).toEqual([]);
    procs[1] = await startProc();
  });
});
