/**
 * Coordination on Redis (a real redis-server, test/helpers/servers/redis.ts): the conformance suites of the memory
 * engine, then what only a server shows: a holder killed with SIGKILL, Redis stopped (fail fast, the unavailable error
 * that routes answer 503) and started again (everything works again, the bus re-subscribed, without a restart).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coordinationSuite, until, type CoordinationProcess } from '../../test/helpers/coordination-suite.js';
import { lockOutSuite, rateLimiterSuite } from '../../test/helpers/limits-suite.js';
import { startRedis, type RedisServer } from '../../test/helpers/servers/redis.js';
import type { DocEvent } from '../common/bus.js';
import { createRedisConnections, type RedisConnections } from '../engines/redis.js';
import { unavailableDependency } from '../engines/unavailable.js';
import { RedisChannels } from './channels.js';
import { redisCoordination, type Coordination } from './index.js';
import { RedisLockOut, RedisRateLimiter } from './redis-limits.js';
import { RedisLocks } from './redis-locks.js';

let server: RedisServer;
const opened: Array<{ close(): Promise<void> | void }> = [];

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  for (const c of opened.reverse()) await c.close();
  await server.stop();
});

/** A process: its own connections and coordination, under `prefix`. */
async function processOn(prefix: string, name: string): Promise<CoordinationProcess & Pick<Coordination, 'localEvents'> & { redis: RedisConnections }> {
  const redis = createRedisConnections(server.url, prefix, name);
  opened.push(redis);
  const c = redisCoordination(redis);
  opened.push(c);
  await c.ready();
  return { ...c, redis, lockOut: (n, opts) => new RedisLockOut(redis.commands, n, opts) };
}

type Proc = Awaited<ReturnType<typeof processOn>>;
const pair = async (): Promise<[Proc, Proc]> => {
  const prefix = `t${randomUUID().slice(0, 8)}:`;
  return [await processOn(prefix, 'a'), await processOn(prefix, 'b')];
};

coordinationSuite('redis', pair);

/** A connection for one suite test, under a prefix of its own. */
function fresh(): Redis {
  const r = new Redis(server.url, { keyPrefix: `f${randomUUID().slice(0, 8)}:` });
  r.on('error', () => undefined);
  opened.push({ close: () => void r.disconnect() });
  return r;
}
rateLimiterSuite('redis', (now) => new RedisRateLimiter(fresh(), { now }));
lockOutSuite('redis', (name, opts) => new RedisLockOut(fresh(), name, opts));

describe('coordination on Redis: what only a server shows', () => {
  it('a holder killed with SIGKILL: its lock expires after its lease and another process takes it, with a greater fence', async () => {
    const prefix = `k${randomUUID().slice(0, 8)}:`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/redis-lock-holder.ts', server.url, prefix, 'fs:1', '1500'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const fence = await new Promise<number>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', (line) => resolve(Number(line)));
      child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
    const other = await processOn(prefix, 'other');
    let taken = false;
    const waiting = other.locks.withLock('fs:1', async (held) => {
      taken = true;
      return held.fence;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(taken).toBe(false); // the holder is alive and renews its lease
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect(await waiting).toBeGreaterThan(fence);
  });

  it('a Redis that lost its fence counter (restarted without its data) gives fences above those it gave before', async () => {
    const prefix = `k${randomUUID().slice(0, 8)}:`;
    const a = await processOn(prefix, 'a');
    const before = await a.locks.withLock('fs:2', async (held) => held.fence);
    await new Promise((r) => setTimeout(r, 5));
    await a.redis.commands.del('lock-fence');
    const after = await a.locks.withLock('fs:2', async (held) => held.fence);
    expect(after).toBeGreaterThan(before);
    expect(await a.locks.withLock('fs:2', async (held) => held.fence)).toBe(after + 1);
  });

  it('localEvents: the writing process hears its own events there, the other processes only on the bus', async () => {
    const [a, b] = await pair();
    const domain = 'local.example';
    const heard = { aLocal: [] as string[], bLocal: [] as string[], bBus: [] as string[] };
    a.localEvents.subscribe(domain, null, (e) => heard.aLocal.push(e.id));
    b.localEvents.subscribe(domain, null, (e) => heard.bLocal.push(e.id));
    b.bus.subscribe(domain, null, (e) => heard.bBus.push(e.id));
    await Promise.all([a.settled(), b.settled()]);
    a.localEvents.publish({ domain, doctype: 'io.cozy.notes', id: 'by-a', verb: 'CREATED', doc: { _id: 'by-a' } });
    b.bus.publish({ domain, doctype: 'io.cozy.notes', id: 'by-b', verb: 'CREATED', doc: { _id: 'by-b' } });
    await expect.poll(() => [...heard.bBus].sort(), { timeout: 10_000 }).toEqual(['by-a', 'by-b']);
    expect(heard.aLocal).toEqual(['by-a']);
    expect(heard.bLocal).toEqual(['by-b']);
  });

  it('Redis stopped: operations fail fast with the unavailable error (503); started again: they work, and the bus hears the other process again', async () => {
    const [a, b] = await pair();
    const domain = 'outage.example';
    const heard: DocEvent[] = [];
    b.bus.subscribe(domain, 'io.cozy.notes', (e) => heard.push(e));
    const local: DocEvent[] = [];
    a.bus.subscribe(domain, 'io.cozy.notes', (e) => local.push(e));
    await Promise.all([a.settled(), b.settled()]);
    const note = (i: number): DocEvent => ({ domain, doctype: 'io.cozy.notes', id: `n${i}`, verb: 'CREATED', doc: { _id: `n${i}` } });
    a.bus.publish(note(1));
    await until(() => heard.length === 1);
    await a.limiter.hit('k', { limit: 5, windowMs: 60_000 }); // connected before the outage
    await server.halt();
    try {
      const refusals = await Promise.all([
        a.limiter.hit('k', { limit: 5, windowMs: 60_000 }).catch((e: unknown) => e),
        a.locks.withLock('x', async () => 'held').catch((e: unknown) => e),
        a.lockOut('lo', {}).failure('k').catch((e: unknown) => e),
      ]);
      expect(refusals.map(unavailableDependency)).toEqual(['coordination', 'coordination', 'coordination']);
      a.bus.publish(note(2)); // does not throw; this process's listeners still hear it
      expect(local.map((e) => e.id)).toEqual(['n1', 'n2']);
    } finally {
      await server.start();
    }
    await until(() => a.redis.commands.status === 'ready' && b.redis.subscriber().status === 'ready');
    expect((await a.limiter.hit('k', { limit: 5, windowMs: 60_000 })).allowed).toBe(true);
    expect(await a.locks.withLock('x', async (held) => held.fence)).toBeGreaterThan(0);
    // the subscriber re-subscribed by itself: publish until one arrives (the re-SUBSCRIBE may still be on its way)
    for (let i = 3; !heard.some((e) => e.id !== 'n1'); i++) {
      a.bus.publish(note(i));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(heard[0]!.id).toBe('n1');
    expect(heard.slice(1).every((e) => e.id !== 'n2')).toBe(true);
  });

  it('locks: the lease is renewed while the holder works longer than it', async () => {
    const prefix = `r${randomUUID().slice(0, 8)}:`;
    const redis = (await processOn(prefix, 'p')).redis;
    const locks = new RedisLocks(new RedisChannels(redis), { leaseMs: 300 });
    const other = new RedisLocks(new RedisChannels((await processOn(prefix, 'q')).redis), { leaseMs: 300 });
    let otherIn = false;
    await locks.withLock('long', async (held) => {
      const contender = other.withLock('long', async () => {
        otherIn = true;
      });
      await new Promise((r) => setTimeout(r, 1_200)); // four leases
      expect(otherIn).toBe(false);
      expect(held.signal.aborted).toBe(false);
      void contender;
    });
    await until(() => otherIn);
  });
});
