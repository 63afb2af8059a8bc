import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus } from '../common/bus.js';
import { createTestDatabase } from '../../test/helpers/engines.js';
import { eventWorld, instance, other, STAMP_MARGIN_MS, WATCHED, type EventWorld } from '../../test/helpers/event-world.js';
import { until } from '../../test/helpers/jobs.js';
import type { JobDoc, WorkerDef } from './types.js';
import { childScript } from '../../test/helpers/child-script.js';

// under the vitest project postgres-jobs (TEST_PG_URL), documents, jobs and triggers are on PostgreSQL
const pgServer = process.env.TEST_PG_URL;
const opened: Array<{ dir: string; world?: EventWorld }> = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.world?.close();
    rmSync(o.dir, { recursive: true, force: true });
  }
});

function storage() {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-event-sweep-'));
  const pg = pgServer ? createTestDatabase(pgServer, `sweep_${randomBytes(6).toString('hex')}`) : null;
  const entry: { dir: string; world?: EventWorld } = { dir };
  opened.push(entry);
  const runs: JobDoc[] = [];
  const workers: WorkerDef[] = [{ name: 'rec', async run(ctx) { runs.push(ctx.job); } }];
  return {
    dir, pg, runs,
    open: (sweepMs: number, opts?: Parameters<typeof eventWorld>[5]) => (entry.world = eventWorld(dir, pg, new InProcessBus(), workers, sweepMs, opts)),
    /** Another process on the same storage (closed with the test). */
    another(sweepMs: number, opts?: Parameters<typeof eventWorld>[5]) {
      const process = { dir: mkdtempSync(join(tmpdir(), 'hearth-event-sweep-')), world: eventWorld(dir, pg, new InProcessBus(), workers, sweepMs, opts) };
      opened.unshift(process);
      return process.world;
    },
  };
}

const ids = (runs: JobDoc[]) => runs.map((r) => r.event?.doc._id).sort();

describe('@event triggers do not depend on the bus', () => {
  it('kill -9 between the COMMIT of a write and its publish: the restarted process fires the trigger once, from the changes feed', async () => {
    const s = storage();
    const child = spawn(process.execPath, [childScript('test/fixtures/event-sweep-main.ts'), s.dir, s.pg ?? '-'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
    const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
    expect(signal).toBe('SIGKILL');
    expect(lines).toHaveLength(1); // the trigger's id, and nothing after the write
    const triggerId = lines[0]!;

    const world = s.open(50);
    expect(await world.store.get(WATCHED, 'lost-by-the-bus')).toMatchObject({ n: 1 }); // the write was committed…
    expect(await world.jobs.engine.broker.list(instance.domain, { triggerId, limit: 10 })).toEqual([]); // …and its run lost
    await world.jobs.start();
    await until(() => s.runs.length === 1, 15_000);
    expect(s.runs[0]!.event).toMatchObject({ verb: 'CREATED', doctype: WATCHED, doc: { _id: 'lost-by-the-bus', n: 1 } });

    // a write heard on the bus runs at once, and the sweeps that read it later queue nothing more
    await world.store.put(WATCHED, { _id: 'heard', n: 2 });
    await until(() => s.runs.length === 2);
    for (let i = 0; i < 3; i++) await world.jobs.scheduler.sweep!.round();
    await new Promise((r) => setTimeout(r, 200));
    expect(ids(s.runs)).toEqual(['heard', 'lost-by-the-bus']);
    expect(await world.jobs.engine.broker.list(instance.domain, { triggerId, limit: 10 })).toHaveLength(2);
  }, 60_000);

  it('a sweep fires what matches and the bus did not hear, gives a swept update without `old` to a != rule, and leaves a debounced run alone', async () => {
    const s = storage();
    const world = s.open(0);
    await world.jobs.start();
    const sched = world.jobs.scheduler;
    await sched.sweep!.round(); // the first round, which the start does not wait for
    const seed = await world.store.put(WATCHED, { _id: 'a', state: 'x' });
    const changed = await sched.create(instance.domain, { type: '@event', arguments: `${WATCHED}:UPDATED:!=:state`, worker: 'rec' });
    const debounced = await sched.create(instance.domain, { type: '@event', arguments: `${WATCHED}:CREATED`, worker: 'rec', debounce: '1h' });
    await world.store.put(WATCHED, { _id: 'b', state: 'x' }); // heard: the debounced run is queued (in an hour)
    await sched.sweep!.round(); // the positions read now are where the next round stops

    await world.unheard.put(WATCHED, { _id: 'a', _rev: seed.rev, state: 'y' });
    await world.unheard.put(WATCHED, { _id: 'c', state: 'x' });
    await sched.sweep!.round(); // sweeps up to the positions of the previous round: nothing yet
    const of = async (t: { _id: string }) => world.jobs.engine.broker.list(instance.domain, { triggerId: t._id, limit: 10 });
    expect(await of(changed)).toHaveLength(0);
    await sched.sweep!.round();
    await until(() => s.runs.length === 1);
    expect(s.runs[0]).toMatchObject({ trigger_id: changed._id, event: { verb: 'UPDATED', doc: { _id: 'a', state: 'y' } } });
    expect(s.runs[0]!.event!.old).toBeUndefined();
    await sched.sweep!.round();
    await new Promise((r) => setTimeout(r, 100));
    expect(await of(changed)).toHaveLength(1);
    expect(await of(debounced)).toHaveLength(1); // c was covered by the debounced run already queued
  }, 30_000);

  it('a round visits a bounded number of triggers, the next ones in turn, and each lost run is still fired once', async () => {
    const s = storage();
    let opens = 0;
    const world = s.open(0, { visitsPerRound: 1, onOpen: () => opens++ });
    await world.jobs.start();
    const sched = world.jobs.scheduler;
    await sched.sweep!.round();
    const triggers = await Promise.all([1, 2, 3].map(() => sched.create(instance.domain, { type: '@event', arguments: `${WATCHED}:CREATED`, worker: 'rec' })));
    await world.unheard.put(WATCHED, { _id: 'lost', n: 1 });
    for (let i = 0; i < 3; i++) {
      opens = 0;
      await sched.sweep!.round(); // each trigger's first visit: its position, read after the write
      expect(opens).toBe(1);
    }
    expect(s.runs).toHaveLength(0);
    for (let i = 0; i < 3; i++) await sched.sweep!.round(); // each trigger's second visit: the write is swept
    await until(() => s.runs.length === 3);
    expect(s.runs.map((r) => r.trigger_id).sort()).toEqual(triggers.map((t) => t._id).sort());
    for (let i = 0; i < 3; i++) await sched.sweep!.round();
    await new Promise((r) => setTimeout(r, 100));
    expect(s.runs).toHaveLength(3);
  }, 30_000);

  it('a process hears the writes for an @event trigger another process created, from its next sweep on', async () => {
    const s = storage();
    const a = s.open(0);
    await a.jobs.start();
    const b = s.another(0);
    await b.jobs.start();
    await b.jobs.scheduler.sweep!.round();
    await a.jobs.scheduler.create(instance.domain, { type: '@event', arguments: `${WATCHED}:CREATED`, worker: 'rec' });
    await b.jobs.scheduler.sweep!.round();
    await b.store.put(WATCHED, { _id: 'through-b' });
    await until(() => s.runs.length === 1); // heard by b on its own bus, not swept (no round since)
    expect(s.runs[0]!.event).toMatchObject({ doc: { _id: 'through-b' } });
  }, 30_000);

  it('a round opens only the databases of the instances written since their triggers\' cursors were current, in this process and in a new one', async () => {
    const s = storage();
    const FARM = 12;
    let opens = 0;
    const world = s.open(0, { others: FARM, onOpen: () => opens++ });
    await world.jobs.start();
    const sched = world.jobs.scheduler;
    const triggers = [];
    for (let i = 0; i < FARM; i++) triggers.push(await sched.create(other(i).domain, { type: '@event', arguments: `${WATCHED}:CREATED`, worker: 'rec' }));
    // the first rounds find every cursor current and stamp it (SQLite: once the files' times are older than the margin)
    const settle = async (p = world) => {
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, STAMP_MARGIN_MS + 20));
        opens = 0;
        await p.jobs.scheduler.sweep!.round();
        if (opens === 0) return;
      }
      throw new Error(`the rounds still open ${opens} databases`);
    };
    await settle();
    await world.unheardOf(other(5)).put(WATCHED, { _id: 'lost-on-5' });
    await new Promise((r) => setTimeout(r, STAMP_MARGIN_MS + 20));
    for (let i = 0; i < 2; i++) {
      opens = 0;
      await sched.sweep!.round(); // reads the position past the write, then sweeps up to it
      expect(opens).toBe(1);
    }
    await until(() => s.runs.length === 1);
    expect(s.runs[0]).toMatchObject({ trigger_id: triggers[5]!._id, event: { doc: { _id: 'lost-on-5' } } });
    await settle();
    // another process (or this one restarted) knows from the cursors' stamps that nothing was written since
    const b = s.another(0, { others: FARM, onOpen: () => opens++ });
    opens = 0;
    await b.jobs.start(); // its first round
    await b.jobs.scheduler.sweep!.round();
    expect(opens).toBe(0);
    await world.unheardOf(other(7)).put(WATCHED, { _id: 'lost-on-7' });
    for (let i = 0; i < 2; i++) {
      opens = 0;
      await b.jobs.scheduler.sweep!.round();
      expect(opens).toBe(1);
    }
    await until(() => s.runs.length === 2);
    expect(s.runs[1]).toMatchObject({ trigger_id: triggers[7]!._id, event: { doc: { _id: 'lost-on-7' } } });
  }, 30_000);
});
