/**
 * The conformance suite of coordination (src/coordination): the bus, locks, invalidations and shared limits, run on
 * the memory engine (src/coordination/memory.test.ts) and on Redis (src/coordination/redis.test.ts). A "process" is
 * one coordination over its own connections; the memory engine's two processes are the same objects (one process).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { DocEvent, EventBus } from '../../src/common/bus.js';
import type { Invalidation } from '../../src/common/invalidation.js';
import type { Locks } from '../../src/common/locks.js';
import type { LockOut, LockOutOptions, RateLimiter } from '../../src/limits/index.js';

export interface CoordinationProcess {
  bus: EventBus;
  locks: Locks;
  invalidation: Invalidation;
  limiter: RateLimiter;
  /** The lock-out counters `name`, shared by the processes. */
  lockOut(name: string, opts: LockOutOptions): LockOut;
  /** Resolves once the subscriptions made so far are active. */
  settled(): Promise<void>;
}

/** Polls `cond` until it holds (no timing is asserted: the test's own timeout bounds it). */
export async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(5);
}

export function coordinationSuite(name: string, processes: () => Promise<[CoordinationProcess, CoordinationProcess]>): void {
  describe(`coordination (${name})`, () => {
    it('bus: every listener of every process hears each event once, in publication order, with the old revision', async () => {
      const [a, b] = await processes();
      const domain = `d${Math.random().toString(36).slice(2)}.example`;
      const heard: Record<string, DocEvent[]> = { bNotes: [], aDomain: [], bEvery: [], aOther: [] };
      const stops = [
        b.bus.subscribe(domain, 'io.cozy.notes', (e) => heard.bNotes!.push(e)),
        a.bus.subscribe(domain, null, (e) => heard.aDomain!.push(e)),
        b.bus.subscribe('*', 'io.cozy.notes', (e) => (e.domain === domain ? heard.bEvery!.push(e) : undefined)),
        a.bus.subscribe(`other-${domain}`, null, (e) => heard.aOther!.push(e)),
      ];
      await Promise.all([a.settled(), b.settled()]);
      const event = (i: number, doctype = 'io.cozy.notes', id = 'n1'): DocEvent => {
        const e: DocEvent = { domain, doctype, id, verb: i === 0 ? 'CREATED' : 'UPDATED', doc: { _id: id, _rev: `${i + 1}-x`, i } };
        if (i === 0) return e;
        let reads = 0;
        return Object.defineProperty(e, 'old', { enumerable: true, get: () => ({ _id: id, _rev: `${i}-x`, i: i - 1, reads: ++reads }) });
      };
      for (let i = 0; i < 40; i++) a.bus.publish(event(i));
      b.bus.publish(event(0, 'io.cozy.contacts', 'c1'));
      a.bus.publish(event(0, 'io.cozy.notes', 'end')); // after everything above, in the order of each publisher
      await until(() => heard.bNotes!.some((e) => e.id === 'end') && heard.aDomain!.some((e) => e.id === 'end') && heard.bEvery!.some((e) => e.id === 'end'));
      await until(() => heard.aDomain!.some((e) => e.id === 'c1'));
      const ids = (list: DocEvent[]) => list.filter((e) => e.doctype === 'io.cozy.notes').map((e) => (e.id === 'end' ? 'end' : e.doc.i));
      const expected = [...Array.from({ length: 40 }, (_, i) => i), 'end'];
      expect(ids(heard.bNotes!)).toEqual(expected);
      expect(ids(heard.bEvery!)).toEqual(expected);
      expect(ids(heard.aDomain!)).toEqual(expected);
      expect(heard.aDomain!.filter((e) => e.id === 'c1')).toHaveLength(1);
      expect(heard.bNotes!.every((e) => e.doctype === 'io.cozy.notes')).toBe(true);
      expect(heard.aOther).toEqual([]);
      const seventh = heard.bNotes![7]!;
      expect(seventh).toMatchObject({ domain, doctype: 'io.cozy.notes', id: 'n1', verb: 'UPDATED', doc: { _id: 'n1', _rev: '8-x', i: 7 } });
      expect(seventh.old).toMatchObject({ _id: 'n1', _rev: '7-x', i: 6 });
      expect(heard.bNotes![0]!.old).toBeUndefined();
      stops.forEach((stop) => stop());
      a.bus.publish(event(41));
      b.bus.publish(event(42));
      await sleep(50);
      expect(ids(heard.bNotes!)).toEqual(expected);
    });

    it('locks: one holder at a time across two processes, each caller once, fencing tokens growing with each acquisition', async () => {
      const [a, b] = await processes();
      const key = `k-${Math.random()}`;
      let inside = 0;
      let most = 0;
      const fences: number[] = [];
      const task = (p: CoordinationProcess) => p.locks.withLock(key, async (held) => {
        most = Math.max(most, ++inside);
        fences.push(held.fence);
        await sleep(1);
        expect(held.signal.aborted).toBe(false);
        inside--;
        return held.fence;
      });
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => task(i % 2 === 0 ? a : b)));
      expect(most).toBe(1);
      expect(results).toHaveLength(30);
      for (let i = 1; i < fences.length; i++) expect(fences[i]!).toBeGreaterThan(fences[i - 1]!);
      // a failing holder releases the lock
      await expect(a.locks.withLock(key, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
      expect(await b.locks.withLock(key, async (held) => held.fence)).toBeGreaterThan(fences.at(-1)!);
    });

    it('invalidation: a key invalidated in one process reaches the listeners of every process, once', async () => {
      const [a, b] = await processes();
      const topic = `t-${Math.random()}`;
      const got = { a: [] as string[], b: [] as string[] };
      const stops = [a.invalidation.listen(topic, (k) => got.a.push(k)), b.invalidation.listen(topic, (k) => got.b.push(k))];
      await Promise.all([a.settled(), b.settled()]);
      a.invalidation.invalidate(topic, 'x');
      b.invalidation.invalidate(topic, 'y');
      a.invalidation.invalidate(`${topic}-other`, 'z');
      await until(() => got.a.length >= 2 && got.b.length >= 2);
      await sleep(50);
      expect(got.a.sort()).toEqual(['x', 'y']);
      expect(got.b.sort()).toEqual(['x', 'y']);
      stops.forEach((stop) => stop());
    });

    it('rate limits: two processes spend one budget', async () => {
      const [a, b] = await processes();
      const key = `rl-${Math.random()}`;
      const rule = { limit: 5, windowMs: 60_000 };
      const allowed: boolean[] = [];
      for (let i = 0; i < 8; i++) allowed.push((await (i % 2 === 0 ? a : b).limiter.hit(key, rule)).allowed);
      expect(allowed).toEqual([true, true, true, true, true, false, false, false]);
      expect((await b.limiter.peek(key, rule)).count).toBe(5);
      await a.limiter.reset(key);
      expect((await b.limiter.hit(key, rule)).remaining).toBe(4);
    });

    it('lock-outs: failures in two processes lock the key in both', async () => {
      const [a, b] = await processes();
      const name = `lo-${Math.random()}`;
      const opts = { threshold: 3, baseMs: 60_000 };
      const [la, lb] = [a.lockOut(name, opts), b.lockOut(name, opts)];
      await la.failure('k');
      await lb.failure('k');
      expect((await la.status('k')).failures).toBe(2);
      expect((await la.failure('k')).locked).toBe(true);
      expect((await lb.status('k')).locked).toBe(true);
      await lb.unlock('k');
      expect((await la.status('k')).locked).toBe(false);
    });
  });
}
