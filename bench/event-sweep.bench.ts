/**
 * `npm run bench`, @event sweep (issue 16): what a round of the sweep costs on a farm of N instances with one @event
 * trigger each, and how many rounds a run lost by the bus (a write nobody published) waits, with the index of the
 * writes (DocStoreFactory.writeStamps: the sweep opens only the databases of the instances written since) beside the
 * sweep without it (every trigger in turn, 500 visits a round), in the same run, on the same storage: SQLite, then a
 * private PostgreSQL. Writes bench/RESULTS-event-sweep.md. BENCH_QUICK=1: a smaller farm, no results file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus } from '../src/common/bus.js';
import type { WorkerDef } from '../src/jobs/types.js';
import { eventWorld, other, STAMP_MARGIN_MS, WATCHED, type EventWorld } from '../test/helpers/event-world.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { BENCH_DIR, fmtMs, gitInfo, log, machine } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const FARM = QUICK ? 200 : 2_000;
const VISITS = 500;

const loadAvg = () => loadavg().map((l) => l.toFixed(1)).join(', ');
const loadStart = loadAvg();
const pg = await startPostgres();
const workers: WorkerDef[] = [{ name: 'rec', async run() {} }];
const rows: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Variant { name: string; world: EventWorld; opens: number }

/** One round: its time (ms) and the databases it opened. */
async function round(v: Variant): Promise<{ ms: number; opens: number }> {
  v.opens = 0;
  const t0 = performance.now();
  await v.world.jobs.scheduler.sweep!.round();
  return { ms: performance.now() - t0, opens: v.opens };
}

/** Rounds until the lost run of instance `i` is queued: how many, and their total time. */
async function recover(v: Variant, i: number, triggerId: string): Promise<{ rounds: number; ms: number; opens: number }> {
  await v.world.unheardOf(other(i)).put(WATCHED, { _id: `lost-${v.name}-${i}` });
  let ms = 0;
  let opens = 0;
  for (let r = 1; r <= 2 * Math.ceil(FARM / VISITS) + 2; r++) {
    await sleep(STAMP_MARGIN_MS + 20); // the SQLite stamps' margin (shortened for tests and this bench)
    const one = await round(v);
    ms += one.ms;
    opens += one.opens;
    if ((await v.world.jobs.engine.broker.list(other(i).domain, { triggerId, limit: 10 })).length > 0) return { rounds: r, ms, opens };
  }
  throw new Error(`${v.name}: the lost run was not recovered`);
}

try {
  for (const engine of ['sqlite', 'postgres'] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-sweep-'));
    const pgUrl = engine === 'postgres' ? await pg.database_url(`bench_sweep_${Date.now()}`) : null;
    const variants: Variant[] = [];
    for (const stamps of [true, false]) {
      const v: Variant = { name: stamps ? 'index' : 'none', world: null as unknown as EventWorld, opens: 0 };
      v.world = eventWorld(dir, pgUrl, new InProcessBus(), workers, 0, { others: FARM, stamps, visitsPerRound: VISITS, onOpen: () => v.opens++ });
      variants.push(v);
    }
    const t0 = performance.now();
    const triggers: string[] = [];
    for (let i = 0; i < FARM; i++) triggers.push((await variants[0]!.world.jobs.scheduler.create(other(i).domain, { type: '@event', arguments: `${WATCHED}:CREATED`, worker: 'rec' }))._id);
    log(`event-sweep ${engine}: ${FARM} triggers made in ${fmtMs(performance.now() - t0)} ms`);
    // each variant's rounds over the whole farm, so that every trigger has its position (and, with the index, its stamp)
    for (const v of variants) for (let r = 0; r < Math.ceil(FARM / VISITS) + 1; r++) { await sleep(STAMP_MARGIN_MS + 20); await round(v); }
    const idle = new Map<string, { ms: number; opens: number }>();
    for (const v of variants) {
      const some = [];
      for (let r = 0; r < 3; r++) some.push(await round(v));
      idle.set(v.name, some.sort((a, b) => a.ms - b.ms)[1]!);
    }
    // the lost run: an instance in the middle of the farm (the next one for the second variant: a new document each)
    const k = Math.floor(FARM / 2);
    const rec = new Map<string, { rounds: number; ms: number; opens: number }>();
    for (const v of variants) rec.set(v.name, await recover(v, v.name === 'index' ? k : k + 1, triggers[v.name === 'index' ? k : k + 1]!));
    for (const v of variants) {
      const i = idle.get(v.name)!;
      const r = rec.get(v.name)!;
      rows.push(`| ${engine} | ${v.name === 'index' ? 'with the index of the writes' : 'without (every trigger in turn)'} | ${fmtMs(i.ms)} ms | ${i.opens} | ${r.rounds} | ${fmtMs(r.ms)} ms | ${r.opens} |`);
      log(`event-sweep ${engine} ${v.name}: idle round ${fmtMs(i.ms)} ms (${i.opens} opened), lost run queued after ${r.rounds} rounds (${fmtMs(r.ms)} ms, ${r.opens} opened)`);
    }
    for (const v of variants) await v.world.close();
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  await pg.stop();
}
const loadEnd = loadAvg();
if (!QUICK) {
  writeFileSync(join(BENCH_DIR, 'RESULTS-event-sweep.md'), `# The @event sweep on a farm

Written by \`node --import tsx bench/event-sweep.bench.ts\` (\`BENCH_SUITES=event-sweep npm run bench\`) on ${new Date().toISOString()}.
${machine()}; ${gitInfo()}. Load average (1, 5, 15 min) ${loadStart} at the start, ${loadEnd} at the end (the 2 cores are shared).

A farm of ${FARM} instances with one \`@event\` trigger each (src/jobs/event-sweep.ts), on one storage, swept by two
processes in turn: one reads the engines' index of the writes (DocStoreFactory.writeStamps) and opens only the
databases of the instances written since their trigger's cursor was current; the reference (the sweep before it) visits
every trigger in turn, ${VISITS} a round. Idle round: the median of 3 rounds with nothing written. Lost run: one document
written to one instance without its event (a process killed between COMMIT and publish); rounds until its job is
queued (at \`jobs.eventSweepMs\`, 30 s by default, that many periods), and their total time and databases opened.
Rounds are ${STAMP_MARGIN_MS + 20} ms apart here (the SQLite stamps' margin is shortened to ${STAMP_MARGIN_MS} ms, 2 s in
\`hearth\`).

| docs engine | sweep | idle round | databases opened | lost run: rounds | their time | databases opened |
|---|---|---:|---:|---:|---:|---:|
${rows.join('\n')}
`);
}
process.exit(0);
