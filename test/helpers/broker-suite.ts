/**
 * The conformance suite of a job broker and trigger store (src/jobs/broker.ts): leases, recovery, one claim per job,
 * the compare-and-set of a trigger's slot. SQLite runs it (broker-sqlite.test.ts), PostgreSQL runs it unchanged
 * (broker-pg.test.ts). `open(owner)` gives a broker and a trigger store on one shared storage, as a process with this
 * owner id would have (two calls: two processes on the same storage); `reset` empties the storage between tests.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { LeaseLost, type Broker, type TriggerStore } from '../../src/jobs/broker.js';
import type { JobOptions, TriggerDoc } from '../../src/jobs/types.js';

export interface BrokerEngine {
  open(owner: string): Promise<{ broker: Broker; triggers: TriggerStore }>;
  reset(): Promise<void>;
  done(): Promise<void>;
}

const domain = 'alice.jobs.example';
const options: Required<JobOptions> = { max_exec_count: 2, timeout: 60 };
const T = Date.parse('2026-06-01T10:00:00Z');

export function describeBroker(name: string, engine: () => Promise<BrokerEngine>): void {
  describe(`job broker conformance: ${name}`, () => {
    let e: BrokerEngine;
    /** Two processes on one storage, each past its start-up recovery (as the engine runs it). */
    const processes = async () => {
      const a = await e.open('process-a');
      const b = await e.open('process-b');
      await a.broker.recover(T, Date.now());
      await b.broker.recover(T, Date.now());
      return { a, b };
    };
    const push = (broker: Broker, worker = 'w', opts = options) => broker.push({ domain, worker, message: { n: 1 }, options: opts, runAt: T }, T);

    beforeEach(async () => {
      e ??= await engine();
      await e.reset();
    });
    afterAll(() => e?.done());

    it('a claim leases the job to its process: only that process completes or fails it, the other gets a LeaseLost (409)', async () => {
      const { a, b } = await processes();
      const job = await push(a.broker);
      const claimed = await b.broker.claim('w', T, Date.now() + 60_000);
      expect(claimed).toMatchObject({ _id: job._id, state: 'running', tries: 1, message: { n: 1 } });
      expect(claimed!.started_at).toBe(new Date(T).toISOString());
      await expect(a.broker.complete(job._id, T)).rejects.toBeInstanceOf(LeaseLost);
      await expect(a.broker.fail(job._id, 'x', null, T)).rejects.toMatchObject({ status: 409 });
      expect(await a.broker.renew([job._id], Date.now() + 60_000)).toEqual([]);
      expect(await b.broker.renew([job._id], Date.now() + 60_000)).toEqual([job._id]);
      expect(await b.broker.complete(job._id, T + 5)).toMatchObject({ state: 'done', finished_at: new Date(T + 5).toISOString() });
      // done: no lease left to anybody
      await expect(b.broker.complete(job._id, T + 6)).rejects.toBeInstanceOf(LeaseLost);
      await expect(b.broker.complete('nope', T)).rejects.toMatchObject({ status: 404 });
    });

    it('recover gives back only the jobs whose lease ended; the late end of a job given to another is refused', async () => {
      const { a, b } = await processes();
      const held = await push(a.broker);
      const lost = await push(a.broker);
      const last = await push(a.broker, 'w', { max_exec_count: 1, timeout: 60 });
      expect((await a.broker.claim('w', T, Date.now() + 60_000))!._id).toBe(held._id);
      expect((await a.broker.claim('w', T, Date.now() - 1))!._id).toBe(lost._id);
      expect((await a.broker.claim('w', T, Date.now() - 1))!._id).toBe(last._id);
      const recovered = await b.broker.recover(T + 10, Date.now());
      expect(recovered.map((j) => [j._id, j.state]).sort()).toEqual([[last._id, 'errored'], [lost._id, 'queued']].sort());
      expect(await b.broker.recover(T + 10, Date.now())).toEqual([]);
      expect((await b.broker.get(domain, held._id))!.state).toBe('running');
      expect(await b.broker.get(domain, last._id)).toMatchObject({ state: 'errored', error: 'the server stopped during the run' });
      const again = await b.broker.claim('w', T + 10, Date.now() + 60_000);
      expect(again).toMatchObject({ _id: lost._id, tries: 2 });
      await expect(a.broker.complete(lost._id, T + 11)).rejects.toBeInstanceOf(LeaseLost);
      expect(await b.broker.complete(lost._id, T + 12)).toMatchObject({ state: 'done', tries: 2 });
      expect(await a.broker.complete(held._id, T + 13)).toMatchObject({ state: 'done', tries: 1 });
    });

    it('fail re-queues at the retry time or errors for good; a try cut by a shutdown is given back', async () => {
      const { a } = await processes();
      const job = await push(a.broker);
      await a.broker.claim('w', T, Date.now() + 60_000);
      expect(await a.broker.fail(job._id, 'stopped', T, T, false)).toMatchObject({ state: 'queued', tries: 0, error: 'stopped' });
      await a.broker.claim('w', T, Date.now() + 60_000);
      expect(await a.broker.fail(job._id, 'boom', T + 1000, T)).toMatchObject({ state: 'queued', tries: 1, error: 'boom' });
      expect(await a.broker.nextDue('w')).toBe(T + 1000);
      expect(await a.broker.claim('w', T + 999, Date.now() + 60_000)).toBeNull();
      await a.broker.claim('w', T + 1000, Date.now() + 60_000);
      expect(await a.broker.fail(job._id, 'boom 2', null, T + 2000)).toMatchObject({ state: 'errored', tries: 2, error: 'boom 2', finished_at: new Date(T + 2000).toISOString() });
      expect(await a.broker.nextDue('w')).toBeNull();
    });

    it('each queued job is claimed once, whatever the number of processes claiming at the same time', async () => {
      const { a, b } = await processes();
      const ids = new Set<string>();
      for (let i = 0; i < 60; i++) ids.add((await push(i % 2 ? a.broker : b.broker))._id);
      const taken: string[] = [];
      const drain = async (broker: Broker) => {
        for (let job = await broker.claim('w', T, Date.now() + 60_000); job; job = await broker.claim('w', T, Date.now() + 60_000)) taken.push(job._id);
      };
      await Promise.all([drain(a.broker), drain(b.broker), drain(a.broker), drain(b.broker)]);
      expect(taken).toHaveLength(60);
      expect(new Set(taken)).toEqual(ids);
    });

    it('a client job (@client) has no lease: recover leaves it, the client reports its end', async () => {
      const { a, b } = await processes();
      const job = await a.broker.push({ domain, worker: 'client', message: null, options, runAt: T, state: 'running' }, T);
      expect(await b.broker.recover(T, Date.now() + 3_600_000)).toEqual([]);
      expect(await b.broker.report(domain, job._id, 'errored', 'LOGIN_FAILED', T + 1)).toMatchObject({ state: 'errored', error: 'LOGIN_FAILED' });
    });

    it('a time trigger\'s slot is taken by one advance only; advancing to null deletes a one-shot', async () => {
      const { a, b } = await processes();
      const trigger = (id: string): TriggerDoc => ({ _id: id, domain, instance_id: 'instance1', type: '@every', arguments: '1s', worker: 'w', message: null, options });
      await a.triggers.put(trigger('t1'), T);
      await a.triggers.put({ ...trigger('t2'), type: '@in' }, T + 500);
      expect((await b.triggers.due(T, 10)).map((d) => [d.doc._id, d.nextRunAt])).toEqual([['t1', T]]);
      const wins = await Promise.all([a.triggers.advance('t1', T, T + 1000), b.triggers.advance('t1', T, T + 1000)]);
      expect(wins.filter(Boolean)).toHaveLength(1);
      expect(await a.triggers.advance('t1', T, T + 1000)).toBe(false);
      expect(await b.triggers.nextDue()).toBe(T + 500);
      expect(await b.triggers.advance('t2', T + 500, null)).toBe(true);
      expect(await a.triggers.find('t2')).toBeNull();
      expect(await a.triggers.advance('t2', T + 500, null)).toBe(false);
      expect(await a.triggers.nextDue()).toBe(T + 1000);
    });

    it('trigger states change in place; triggers are listed by instance, type and worker', async () => {
      const { a, b } = await processes();
      const base: TriggerDoc = { _id: 'e1', domain, instance_id: 'instance1', type: '@event', arguments: 'io.cozy.files', worker: 'w', message: null, options };
      await a.triggers.put(base, null);
      await a.triggers.put({ ...base, _id: 'c1', type: '@client', worker: 'client' }, null);
      await Promise.all([1, 2, 3].map((n) => (n % 2 ? a : b).triggers.updateState('e1', (s) => ({ ...s, status: 'done', last_error: `${s.last_error ?? ''}${n}` }))));
      expect((await b.triggers.find('e1'))!.current_state).toMatchObject({ status: 'done' });
      expect([...(await b.triggers.find('e1'))!.current_state!.last_error!].sort().join('')).toBe('123');
      expect((await b.triggers.list(domain, { types: ['@client'] })).map((t) => t._id)).toEqual(['c1']);
      expect((await b.triggers.list(domain, { workers: ['w'] })).map((t) => t._id)).toEqual(['e1']);
      expect((await b.triggers.ofType('@event')).map((t) => t._id)).toEqual(['e1']);
      expect(await b.triggers.get('other.example', 'e1')).toBeNull();
      expect(await b.triggers.delete(domain, 'e1')).toBe(true);
      expect(await a.triggers.delete(domain, 'e1')).toBe(false);
    });

    it('a job of a given id is queued once, whatever the processes pushing it; an @event cursor moves by compare-and-set', async () => {
      const { a, b } = await processes();
      const job = { domain, worker: 'w', message: null, options, runAt: T, id: 'f'.repeat(32) };
      const pushed = await Promise.all([a.broker.pushOnce(job, T), b.broker.pushOnce(job, T), a.broker.pushOnce(job, T)]);
      expect(pushed.filter(Boolean).map((j) => j!._id)).toEqual([job.id]);
      expect(await a.broker.list(domain, { limit: 10 })).toHaveLength(1);

      await a.triggers.put({ _id: 'e2', domain, instance_id: 'instance1', type: '@event', arguments: 'io.cozy.files', worker: 'w', message: null, options }, null);
      expect(await b.triggers.eventCursor('e2')).toBeNull();
      const first = { 'io.cozy.files': { seq: '3-abcdef01', at: T } };
      const moves = await Promise.all([a.triggers.moveEventCursor('e2', null, first), b.triggers.moveEventCursor('e2', null, first)]);
      expect(moves.filter(Boolean)).toHaveLength(1);
      expect(await b.triggers.eventCursor('e2')).toEqual(first);
      expect(await b.triggers.moveEventCursor('e2', null, { 'io.cozy.files': { seq: '1-abcdef01', at: T } })).toBe(false);
      expect(await b.triggers.moveEventCursor('e2', first, { 'io.cozy.files': { seq: '9-abcdef01', at: T + 1 } })).toBe(true);
      expect((await a.triggers.eventCursor('e2'))!['io.cozy.files']!.seq).toBe('9-abcdef01');
    });
  });
}
