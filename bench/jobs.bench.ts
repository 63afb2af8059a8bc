/**
 * `npm run bench`, third part: the job system, each measure next to its reference in the same run.
 *   - no-op job throughput: jobs pushed then run by a worker that does nothing (concurrency 4), through
 *     the real engine and its SQLite broker; reference: the same three durable SQLite writes a job costs
 *     (insert, claim, finish; synchronous=FULL, one transaction each) in a bare loop, i.e. the disk's bound;
 *     then the same with the /data mirror on (jobs/mirror.ts, as `hearth serve` runs it: each job also written to
 *     the instance's DocStore), and how long the mirror takes to catch up once the last job is done;
 *   - @at scheduling latency: @at triggers due over a few seconds, from the due time to the start of the
 *     run; reference: a bare setTimeout for the same due times (Node's own timer lateness);
 *   - the start-up overhead of a sandboxed konnector process (permission model, env, work dir) against
 *     `node -e ""`.
 * Writes bench/RESULTS-jobs.md. BENCH_QUICK=1: smaller counts, no results file.
 */
import Database from 'better-sqlite3';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { InProcessBus } from '../src/common/bus.js';
import type { InstanceRegistry } from '../src/instances/types.js';
import { measureStartupOverhead } from '../src/jobs/sandbox/run.js';
import type { WorkerDef } from '../src/jobs/types.js';
import { createJobSystem } from '../src/server/jobs.js';
import { SqliteDocStoreFactory } from '../src/data/sqlite/factory.js';
import type { DocStore } from '../src/data/store.js';
import { fakeInstance } from '../test/helpers/jobs.js';
import { BENCH_DIR, fmtMs, fmtOps, fmtRatio, gitInfo, log, machine, percentile, tempDir } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const JOBS = QUICK ? 1000 : 5000;
const AT_TRIGGERS = QUICK ? 100 : 500;
const instance = { ...fakeInstance('bench.jobs.example'), id: 'be0c0000000000000000000000000001' };
const registry = { get: async (d: string) => (d === instance.domain ? instance : null) } as unknown as InstanceRegistry;

function system(dir: string, workers: WorkerDef[], mirrorTo?: DocStore) {
  return createJobSystem({
    dataDir: dir, bus: new InProcessBus(), logger: pino({ level: 'silent' }), registry, workers,
    ...(mirrorTo ? { mirror: { storeFor: async () => mirrorTo } } : {}),
  });
}

/** The no-op jobs with the /data mirror on: their rate, and the time from the last job done to the mirror caught up. */
async function mirroredThroughput(): Promise<{ hearth: number; catchUpMs: number }> {
  const dir = tempDir('hearth-bench-jobs-mirror-');
  const stores = new SqliteDocStoreFactory(dir, new InProcessBus(), { attachmentMaxBytes: 1 << 20, groupCommitMs: 2 });
  const { rate, catchUpMs } = await noopRun(dir, stores.open(instance.domain, instance.id));
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
  return { hearth: rate, catchUpMs };
}

/** JOBS no-op jobs pushed one by one and run (concurrency 4): jobs per second until the last one is done; with a mirror, the ms it then needs to catch up. */
async function noopRun(dir: string, mirrorTo?: DocStore): Promise<{ rate: number; catchUpMs: number }> {
  let done = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((r) => (finished = r));
  const jobs = system(dir, [{ name: 'noop', concurrency: 4, async run() { if (++done === JOBS) setImmediate(finished); } }], mirrorTo);
  await jobs.start();
  const start = performance.now();
  for (let i = 0; i < JOBS; i++) await jobs.engine.push(instance.domain, { worker: 'noop', message: { i } });
  await all;
  // the last job's "done" write follows its run: wait for the queue to be empty of running jobs
  while ((await jobs.engine.broker.list(instance.domain, { worker: 'noop', states: ['queued', 'running'], limit: 1 })).length) await new Promise((r) => setTimeout(r, 1));
  const rate = JOBS / ((performance.now() - start) / 1000);
  const t0 = performance.now();
  if (mirrorTo) {
    const db = new Database(join(dir, 'jobs.sqlite'), { readonly: true });
    while ((db.prepare('SELECT COUNT(*) AS n FROM mirror_outbox').get() as { n: number }).n > 0) await new Promise((r) => setTimeout(r, 5));
    db.close();
  }
  const catchUpMs = performance.now() - t0;
  await jobs.close();
  return { rate, catchUpMs };
}

async function noopThroughput(): Promise<{ hearth: number; raw: number }> {
  const dir = tempDir('hearth-bench-jobs-');
  const hearth = (await noopRun(dir)).rate;
  const db = new Database(join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE q (id INTEGER PRIMARY KEY, state TEXT, doc TEXT)');
  const ins = db.prepare("INSERT INTO q (state, doc) VALUES ('queued', ?)");
  const upd = db.prepare('UPDATE q SET state = ? WHERE id = ?');
  const t0 = performance.now();
  for (let i = 0; i < JOBS; i++) {
    const id = Number(ins.run(JSON.stringify({ i })).lastInsertRowid);
    upd.run('running', id);
    upd.run('done', id);
  }
  const raw = JOBS / ((performance.now() - t0) / 1000);
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { hearth, raw };
}

async function atLatency(): Promise<{ hearth: Float64Array; timer: Float64Array }> {
  const dir = tempDir('hearth-bench-at-');
  const late: number[] = [];
  const due = new Map<string, number>();
  const jobs = system(dir, [{ name: 'at', concurrency: 8, async run(ctx) { late.push(Date.now() - due.get(String(ctx.job.message))!); } }]);
  await jobs.start();
  const base = Date.now() + 1500;
  for (let i = 0; i < AT_TRIGGERS; i++) {
    const at = base + Math.floor((i * 3000) / AT_TRIGGERS);
    due.set(String(i), at);
    await jobs.scheduler.create(instance.domain, { type: '@at', arguments: new Date(at).toISOString(), worker: 'at', message: String(i) });
  }
  while (late.length < AT_TRIGGERS) await new Promise((r) => setTimeout(r, 20));
  await jobs.close();
  rmSync(dir, { recursive: true, force: true });

  const timerLate: number[] = [];
  const tbase = Date.now() + 500;
  await Promise.all(Array.from({ length: AT_TRIGGERS }, (_, i) => {
    const at = tbase + Math.floor((i * 3000) / AT_TRIGGERS);
    return new Promise<void>((r) => setTimeout(() => (timerLate.push(Date.now() - at), r()), at - Date.now()));
  }));
  return { hearth: Float64Array.from(late).sort(), timer: Float64Array.from(timerLate).sort() };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  log(`no-op jobs: ${JOBS}`);
  const tp = await noopThroughput();
  log(`no-op jobs: ${fmtOps(tp.hearth)} jobs/s, raw durable writes bound ${fmtOps(tp.raw)} jobs/s`);
  const mirrored = await mirroredThroughput();
  log(`no-op jobs with the /data mirror: ${fmtOps(mirrored.hearth)} jobs/s, caught up ${fmtMs(mirrored.catchUpMs)} ms after the last job`);
  log(`@at latency: ${AT_TRIGGERS} triggers over 3 s`);
  const at = await atLatency();
  const p = (a: Float64Array, q: number) => percentile(a, q);
  log(`@at latency p50 ${fmtMs(p(at.hearth, 0.5))} ms, p99 ${fmtMs(p(at.hearth, 0.99))} ms (setTimeout p99 ${fmtMs(p(at.timer, 0.99))} ms)`);
  const sb = await measureStartupOverhead(QUICK ? 3 : 10);
  log(`sandboxed start ${fmtMs(sb.sandboxedMs)} ms, plain node ${fmtMs(sb.plainMs)} ms`);

  const md = [
    '# Jobs benchmark (`npm run bench`, bench/jobs.bench.ts)',
    '',
    `Run ${new Date().toISOString()} on ${machine()}; ${gitInfo()}; ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
    '',
    '| measure | Hearth | reference | ratio |',
    '|---|---|---|---|',
    `| no-op jobs (${JOBS}, pushed one by one, concurrency 4) | ${fmtOps(tp.hearth)} jobs/s | ${fmtOps(tp.raw)} jobs/s: the 3 durable SQLite writes per job in a bare loop | ${fmtRatio(tp.hearth, tp.raw)} |`,
    `| no-op jobs with the /data mirror on (jobs/mirror.ts) | ${fmtOps(mirrored.hearth)} jobs/s | ${fmtOps(tp.hearth)} jobs/s: the same without it, just before | ${fmtRatio(mirrored.hearth, tp.hearth)} |`,
    `| the mirror caught up, after the last job done | ${fmtMs(mirrored.catchUpMs)} ms | – | – |`,
    `| @at latency p50 (${AT_TRIGGERS} triggers over 3 s) | ${fmtMs(p(at.hearth, 0.5))} ms | ${fmtMs(p(at.timer, 0.5))} ms: bare setTimeout | – |`,
    `| @at latency p99 | ${fmtMs(p(at.hearth, 0.99))} ms | ${fmtMs(p(at.timer, 0.99))} ms: bare setTimeout | – |`,
    `| @at latency max | ${fmtMs(at.hearth[at.hearth.length - 1]!)} ms | ${fmtMs(at.timer[at.timer.length - 1]!)} ms | – |`,
    `| process start (median of ${QUICK ? 3 : 10}) | ${fmtMs(sb.sandboxedMs)} ms sandboxed | ${fmtMs(sb.plainMs)} ms: \`node -e ""\` | ${fmtRatio(sb.sandboxedMs, sb.plainMs)} |`,
    '',
    'The issue sets no targets for these three; they are measured to follow them over time.',
    '',
    'The throughput is bounded by fsync: each job is three durable commits (queued, running, done), as the',
    'reference loop is. The @at latency is from the due time to the start of the run: the scheduler wakes on a',
    'timer at the soonest due trigger, creates the job durably, and the worker pool claims it.',
    '',
  ].join('\n');
  if (!QUICK) {
    writeFileSync(join(BENCH_DIR, 'RESULTS-jobs.md'), md);
    process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-jobs.md')}\n`);
  } else process.stdout.write(md);
}

await main();
