/**
 * `npm run bench`, coordination (issue 16): what coordination.engine redis costs against memory, in one process, on a
 * private redis-server (test/helpers/servers/redis.ts).
 * - Realtime: a document written through HTTP (POST /data/io.cozy.notes/) until its CREATED event arrives on a
 *   WebSocket subscriber of the same Hearth (memory bus; Redis bus, delivered locally), and an event published on the
 *   bus of Hearth A until it arrives on a WebSocket of Hearth B on the same Redis (the path between two processes).
 * - Locks: withLock of an empty function, one after the other on one key, by 1 caller and by 2 "processes" (two
 *   connection sets) contending for the same key, and 16 callers on 16 keys.
 * - Rate limiter: hits one after the other.
 * Writes bench/RESULTS-coordination.md. BENCH_QUICK=1: smaller counts, no results file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { redisCoordination, memoryCoordination, type Coordination } from '../src/coordination/index.js';
import { createRedisConnections } from '../src/engines/redis.js';
import type { HearthConfig } from '../src/config/types.js';
import { startTestHearth, type TestHearth } from '../test/helpers/hearth.js';
import { startRedis } from '../test/helpers/servers/redis.js';
import { openWs } from '../test/helpers/ws.js';
import { BENCH_DIR, fmtMs, fmtOps, gitInfo, log, machine } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const EVENTS = QUICK ? 50 : 300;
const LOCK_MS = QUICK ? 1_000 : 3_000;

const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
const row = (name: string, xs: number[]) => `| ${name} | ${fmtMs(pct(xs, 0.5))} | ${fmtMs(pct(xs, 0.99))} | ${fmtMs(Math.max(...xs))} |`;

async function subscriber(h: TestHearth) {
  const c = await openWs(h.port, h.domain);
  c.auth(await h.cliToken('io.cozy.notes'));
  c.subscribe('io.cozy.notes');
  await c.barrier();
  return c;
}

/** Write → WebSocket message on the same Hearth. */
async function writeToWs(h: TestHearth): Promise<number[]> {
  const c = await subscriber(h);
  const token = await h.cliToken('io.cozy.notes');
  const lat: number[] = [];
  for (let i = 0; i < EVENTS + 10; i++) {
    const t0 = performance.now();
    const res = await h.req('POST', '/data/io.cozy.notes/', { token, body: { i } });
    await c.next((m) => m.payload?.id === res.body.id);
    if (i >= 10) lat.push(performance.now() - t0);
  }
  await c.close();
  return lat;
}

/** Publish on A's bus → WebSocket message on B (two Hearths on one Redis). */
async function acrossProcesses(a: TestHearth, b: TestHearth): Promise<number[]> {
  const c = await subscriber(b);
  const lat: number[] = [];
  for (let i = 0; lat.length < EVENTS; i++) {
    const id = `n${i}`;
    const t0 = performance.now();
    a.hearth.bus.publish({ domain: b.domain, doctype: 'io.cozy.notes', id, verb: 'CREATED', doc: { _id: id, _rev: '1-a', i } });
    const got = await Promise.race([c.next((m) => m.payload?.id === id, 2_000).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2_000))]);
    if (got && i >= 10) lat.push(performance.now() - t0); // the first ones may go before B's SUBSCRIBE is active
  }
  await c.close();
  return lat;
}

/** withLock calls per second for `ms`. */
async function lockRate(callers: Array<{ c: Coordination; key: string }>, ms: number): Promise<number> {
  let n = 0;
  const end = performance.now() + ms;
  await Promise.all(callers.map(async ({ c, key }) => {
    while (performance.now() < end) {
      await c.locks.withLock(key, async () => undefined);
      n++;
    }
  }));
  return n / (ms / 1000);
}

async function hitRate(c: Coordination, ms: number): Promise<number> {
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    await c.limiter.hit(`bench:${n % 100}`, { limit: 1_000_000, windowMs: 60_000 });
    n++;
  }
  return n / (ms / 1000);
}

const redis = await startRedis();
try {
  const coordination: HearthConfig['coordination'] = { engine: 'redis', url: redis.url, prefix: 'bench:' };
  log('realtime: memory bus');
  const mem = await startTestHearth();
  const memLat = await writeToWs(mem);
  await mem.close();
  log('realtime: Redis bus');
  const a = await startTestHearth({ coordination });
  const b = await startTestHearth({ coordination });
  const redisLat = await writeToWs(a);
  const crossLat = await acrossProcesses(a, b);
  await Promise.all([a.close(), b.close()]);

  log('locks and limits');
  const memory = memoryCoordination();
  const conns = [createRedisConnections(redis.url, 'bench-locks:', 'p1'), createRedisConnections(redis.url, 'bench-locks:', 'p2')];
  const [p1, p2] = conns.map((r) => redisCoordination(r)) as [Coordination, Coordination];
  await Promise.all([p1.ready(), p2.ready()]);
  const keys16 = Array.from({ length: 16 }, (_, i) => `k${i}`);
  const locks = {
    memOne: await lockRate([{ c: memory, key: 'k' }], LOCK_MS),
    redisOne: await lockRate([{ c: p1, key: 'k' }], LOCK_MS),
    redisTwo: await lockRate([{ c: p1, key: 'k' }, { c: p2, key: 'k' }], LOCK_MS),
    mem16: await lockRate(keys16.map((key) => ({ c: memory, key })), LOCK_MS),
    redis16: await lockRate(keys16.map((key, i) => ({ c: i % 2 ? p2 : p1, key })), LOCK_MS),
  };
  const hits = { mem: await hitRate(memory, LOCK_MS), redis: await hitRate(p1, LOCK_MS) };
  [p1, p2].forEach((c) => c.close());
  await Promise.all(conns.map((c) => c.close()));

  const md = `# Coordination: memory against Redis

${machine()} · ${gitInfo()} · redis-server on loopback (AOF everysec), everything else in one Node process.
Written by \`node --import tsx bench/coordination.bench.ts\` (part of \`npm run bench\`).

## A realtime event (${EVENTS} events, ms)

| path | p50 | p99 | max |
|---|---|---|---|
${row('write (POST /data) → WebSocket, memory bus', memLat)}
${row('write (POST /data) → WebSocket, Redis bus (same process: delivered locally)', redisLat)}
${row('publish on Hearth A → WebSocket of Hearth B (through Redis)', crossLat)}

## Locks (withLock of an empty function, per second)

| callers | memory | Redis |
|---|---|---|
| 1 caller, 1 key | ${fmtOps(locks.memOne)} | ${fmtOps(locks.redisOne)} |
| 2 processes, 1 key | – | ${fmtOps(locks.redisTwo)} |
| 16 callers, 16 keys | ${fmtOps(locks.mem16)} | ${fmtOps(locks.redis16)} |

## Rate limiter (hits per second, one caller)

| memory | Redis |
|---|---|
| ${fmtOps(hits.mem)} | ${fmtOps(hits.redis)} |
`;
  process.stdout.write(md);
  if (!QUICK) {
    writeFileSync(join(BENCH_DIR, 'RESULTS-coordination.md'), md);
    process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-coordination.md')}\n`);
  }
} finally {
  await redis.stop();
}
process.exit(0);
