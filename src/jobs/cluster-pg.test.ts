/**
 * Several job systems on one PostgreSQL database, each with its own pool, bus and folder, as separate `hearth`
 * processes would be (and one in a child process, to kill -9): each job runs once, a pushed job wakes the idle workers
 * of the others, a time trigger fires once per slot whatever the number of schedulers, and the job of a killed process
 * runs again elsewhere once its lease ended, exactly once more.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fakeInstance, until } from '../../test/helpers/jobs.js';
import { startPostgres, type PgServer } from '../../test/helpers/servers/postgres.js';
import { InProcessBus } from '../common/bus.js';
import { createPgPool, isPgUnavailable, type PgPool } from '../engines/postgres.js';
import type { InstanceRegistry } from '../instances/types.js';
import { createJobSystem, type JobSystem, type JobSystemDeps } from '../server/jobs.js';
import { SqliteDocStoreFactory } from '../data/sqlite/factory.js';
import type { Doc, DocStore } from '../data/store.js';
import type { WorkerDef } from './types.js';

const instance = { ...fakeInstance('cluster.jobs.example'), id: 'c1a57e0000000000000000000000000a' };
const registry = { get: async (d: string) => (d === instance.domain ? instance : null) } as unknown as InstanceRegistry;
let server: PgServer;
let db = 0;
const opened: Array<{ jobs: JobSystem; pool: PgPool; dir: string }> = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  server = await startPostgres();
});
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const { jobs, pool, dir } of opened.splice(0)) {
    await jobs.close();
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  }
});
afterAll(() => server?.stop());

/** A fresh database for one test. */
const freshDb = () => server.database_url(`cluster_${++db}`);

/** A job system as one process would have it, on the database of `url`. */
async function system(url: string, workers: WorkerDef[], extra: Partial<JobSystemDeps> = {}): Promise<JobSystem> {
  const pool = createPgPool({ url, max: 4, name: 'cluster' });
  const dir = mkdtempSync(join(tmpdir(), 'hearth-jobs-cluster-'));
  const jobs = createJobSystem({
    dataDir: dir, bus: new InProcessBus(), logger: pino({ level: 'silent' }), registry, workers, pg: pool, housekeepingMs: 0,
    ...extra,
  });
  opened.push({ jobs, pool, dir });
  await jobs.start();
  return jobs;
}

describe('job systems of several processes on one PostgreSQL', () => {
  it('1,000 jobs pushed through one process each run exactly once, spread over the three', async () => {
    const url = await freshDb();
    const runs = new Map<string, number>();
    const by = [0, 0, 0];
    const worker = (n: number): WorkerDef => ({
      name: 'count', concurrency: 4,
      async run(ctx) {
        runs.set(ctx.job._id, (runs.get(ctx.job._id) ?? 0) + 1);
        by[n]!++;
        await new Promise((r) => setTimeout(r, 2));
      },
    });
    const [a] = [await system(url, [worker(0)]), await system(url, [worker(1)]), await system(url, [worker(2)])];
    const ids: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const pushed = await Promise.all(Array.from({ length: 50 }, () => a!.engine.push(instance.domain, { worker: 'count' })));
      ids.push(...pushed.map((j) => j._id));
    }
    await until(() => runs.size === 1000, 180_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(new Set(ids).size).toBe(1000);
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(ids.every((id) => runs.get(id) === 1)).toBe(true);
    expect(by.reduce((x, y) => x + y)).toBe(1000);
    // every process took a share (the others were woken by the pushes of the first)
    for (const n of by) expect(n).toBeGreaterThan(0);
  }, 240_000);

  it('a job pushed through a busy process is claimed at once by an idle worker of another', async () => {
    const url = await freshDb();
    let release = () => undefined as void;
    const blocked = new Promise<void>((r) => (release = r));
    const ran: string[] = [];
    const a = await system(url, [{ name: 'w', concurrency: 1, async run(ctx) { ran.push(`a ${ctx.job._id}`); await blocked; } }]);
    const first = await a.engine.push(instance.domain, { worker: 'w' });
    await until(() => ran.length === 1, 30_000);
    expect(ran).toEqual([`a ${first._id}`]);
    // B starts idle with an empty queue: nothing but a wake-up makes it look again before a minute
    await system(url, [{ name: 'w', concurrency: 1, async run(ctx) { ran.push(`b ${ctx.job._id}`); } }]);
    const second = await a.engine.push(instance.domain, { worker: 'w' });
    await until(() => ran.length === 2, 30_000);
    expect(ran[1]).toBe(`b ${second._id}`);
    release();
  }, 60_000);

  it('an @every 1s trigger fires once a second, not once per process', async () => {
    const url = await freshDb();
    const rec: WorkerDef = { name: 'rec', concurrency: 4, async run() {} };
    const a = await system(url, [rec]);
    const trigger = await a.scheduler.create(instance.domain, { type: '@every', arguments: '1s', worker: 'rec' });
    const created = Date.parse(trigger.cozyMetadata!.createdAt);
    await system(url, [rec]);
    await system(url, [rec]);
    await new Promise((r) => setTimeout(r, 5_500));
    const stop = Date.now();
    for (const s of opened) await s.jobs.scheduler.close();
    const jobs = await a.engine.broker.list(instance.domain, { triggerId: trigger._id, limit: 100 });
    const slots = Math.floor((stop - created) / 1000);
    // each slot at most once, and every slot but perhaps the last one, which a stop may cut
    expect(jobs.length).toBeLessThanOrEqual(slots);
    expect(jobs.length).toBeGreaterThanOrEqual(slots - 1);
    const times = jobs.map((j) => Date.parse(j.queued_at)).sort((x, y) => x - y);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThan(500);
  }, 60_000);

  it('the mirror into /data writes each change once, whatever the number of processes that see it', async () => {
    const url = await freshDb();
    const dir = mkdtempSync(join(tmpdir(), 'hearth-jobs-cluster-mirror-'));
    const stores = new SqliteDocStoreFactory(dir, new InProcessBus(), { attachmentMaxBytes: 1 << 20, groupCommitMs: 0 });
    const store = stores.open(instance.domain, instance.id);
    const refused: unknown[] = [];
    // the one DocStore of the instance, as every process reaches it; its refused writes are counted
    const shared = Object.assign(Object.create(store) as DocStore, {
      async bulkDocs(doctype: string, docs: Doc[], newEdits: boolean) {
        const results = await store.bulkDocs(doctype, docs, newEdits);
        refused.push(...results.filter((r) => r.error));
        return results;
      },
    });
    const mirror = { storeFor: async () => shared, pollMs: 10 };
    const worker: WorkerDef = { name: 'w', concurrency: 2, async run() {} };
    const a = await system(url, [worker], { mirror });
    await system(url, [worker], { mirror });
    await system(url, [worker], { mirror });
    const ids = (await Promise.all(Array.from({ length: 30 }, () => a.engine.push(instance.domain, { worker: 'w' })))).map((j) => j._id);
    const mirrored = async () => (await store.allDocs('io.cozy.jobs', { keys: ids, include_docs: true })).rows.map((r) => r.doc as Doc | null);
    await until(async () => (await mirrored().catch(() => [])).filter((d) => d?.state === 'done').length === 30, 60_000);
    expect(refused).toEqual([]);
    // at most one revision per state (queued, running, done), often fewer: a round takes the latest state
    for (const doc of await mirrored()) expect(Number(String(doc!._rev).split('-')[0])).toBeLessThanOrEqual(3);
    for (const s of opened.splice(0)) {
      await s.jobs.close();
      await s.pool.end();
      rmSync(s.dir, { recursive: true, force: true });
    }
    await stores.close();
    rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  it('waiting for the mirror waits for the round that another process holds, not only for its own', async () => {
    const url = await freshDb();
    const dir = mkdtempSync(join(tmpdir(), 'hearth-jobs-cluster-flush-'));
    const stores = new SqliteDocStoreFactory(dir, new InProcessBus(), { attachmentMaxBytes: 1 << 20, groupCommitMs: 0 });
    const store = stores.open(instance.domain, instance.id);
    try {
      // a long poll: only the flush runs rounds in this process
      const s = await system(url, [{ name: 'w', async run() {} }], { mirror: { storeFor: async () => store, pollMs: 60_000 } });
      await s.mirrored();
      // another process's round under way: it holds the mirror's lock
      const other = createPgPool({ url, max: 1, name: 'other' });
      const holder = await other.connect();
      await holder.query("SELECT pg_advisory_lock(hashtext('hearth jobs mirror'))");
      const job = await s.engine.push(instance.domain, { worker: 'w' });
      let flushed = false;
      const flush = s.mirrored().then(() => (flushed = true));
      await new Promise((r) => setTimeout(r, 400));
      expect(flushed).toBe(false);
      await holder.query("SELECT pg_advisory_unlock(hashtext('hearth jobs mirror'))");
      holder.release();
      await other.end();
      await flush;
      expect((await store.get('io.cozy.jobs', job._id))._id).toBe(job._id);
    } finally {
      await stores.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the housekeeping purges the finished jobs older than 30 days from PostgreSQL, not the others', async () => {
    const url = await freshDb();
    const day = 86_400_000;
    const clock = { t: Date.now() - 31 * day, now: () => clock.t };
    const s = await system(url, [{ name: 'w', async run() {} }], { clock, retryDelayMs: () => 0 });
    const old = await s.engine.push(instance.domain, { worker: 'w' });
    clock.t = Date.now();
    const recent = await s.engine.push(instance.domain, { worker: 'w' });
    const state = async (id: string) => (await s.engine.broker.get(instance.domain, id))?.state;
    await until(async () => (await state(old._id)) === 'done' && (await state(recent._id)) === 'done', 30_000);
    expect(await s.housekeeping.purgeFinished()).toBe(1);
    expect(await s.engine.broker.get(instance.domain, old._id)).toBeNull();
    expect(await state(recent._id)).toBe('done');
  }, 60_000);

  it('a run whose lease was taken over is aborted, and its late end is refused (the job stays the new owner\'s)', async () => {
    const url = await freshDb();
    const reasons: string[] = [];
    const hang: WorkerDef = {
      name: 'hang', timeoutSeconds: 600,
      run: (ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => {
        reasons.push((ctx.signal.reason as Error).message);
        reject(ctx.signal.reason as Error);
      })),
    };
    const s = await system(url, [hang], { leaseMs: 600 });
    const job = await s.engine.push(instance.domain, { worker: 'hang' });
    await until(async () => (await s.engine.broker.get(instance.domain, job._id))?.state === 'running', 30_000);
    // another process took the job over (as recover does once a lease ended, here at once)
    const admin = createPgPool({ url, max: 1, name: 'admin' });
    await admin.query(`UPDATE hearth.jobs SET owner = 'another-process', lease_until = $2 WHERE id = $1`, [job._id, Date.now() + 60_000]);
    await admin.end();
    await until(() => reasons.length === 1, 30_000);
    expect(reasons[0]).toMatch(/lease was lost/);
    await new Promise((r) => setTimeout(r, 300));
    expect(await s.engine.broker.get(instance.domain, job._id)).toMatchObject({ state: 'running', tries: 1 });
  }, 60_000);

  it('PostgreSQL stopped and restarted: a push fails fast with the unavailable error (503), then jobs run again without a restart of the process', async () => {
    const url = await freshDb();
    const ran: string[] = [];
    const s = await system(url, [{ name: 'w', async run(ctx) { ran.push(ctx.job._id); } }], { leaseMs: 1500 });
    const before = await s.engine.push(instance.domain, { worker: 'w' });
    await until(() => ran.includes(before._id), 30_000);
    await server.halt();
    try {
      const refused = await s.engine.push(instance.domain, { worker: 'w' }).then(() => null, (e: unknown) => e);
      expect(isPgUnavailable(refused)).toBe(true);
    } finally {
      await server.start();
    }
    const after = await s.engine.push(instance.domain, { worker: 'w' });
    await until(async () => (await s.engine.broker.get(instance.domain, after._id))?.state === 'done', 30_000);
    expect(await s.engine.broker.get(instance.domain, after._id)).toMatchObject({ state: 'done', tries: 1 });
    expect(ran).toEqual([before._id, after._id]);
  }, 90_000);

  it('the job of a process killed in the middle of it runs again in another once its lease ended, exactly once more', async () => {
    const url = await freshDb();
    const dir = mkdtempSync(join(tmpdir(), 'hearth-jobs-cluster-marks-'));
    const marks = join(dir, 'marks.log');
    const lines = () => (existsSync(marks) ? readFileSync(marks, 'utf8').trim().split('\n') : []);
    const leaseMs = 1500;
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/jobs-pg-crash-main.ts', url, marks, String(leaseMs), 'seed'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', () => resolve());
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    await until(() => lines().includes(`${child.pid} start b`), 30_000);
    const runs: Array<{ id: string; tries: number | undefined }> = [];
    const other = await system(url, [{ name: 'mark', concurrency: 1, async run(ctx) { runs.push({ id: ctx.job._id, tries: ctx.job.tries }); } }], { leaseMs });
    // the child keeps renewing its lease: its live job is not taken
    await new Promise((r) => setTimeout(r, 3 * leaseMs));
    expect(runs).toEqual([]);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await until(() => runs.length === 1, 30_000);
    await new Promise((r) => setTimeout(r, 3 * leaseMs));
    expect(runs).toHaveLength(1);
    expect(runs[0]!.tries).toBe(2);
    expect(await other.engine.broker.get(instance.domain, runs[0]!.id)).toMatchObject({ state: 'done', tries: 2 });
    expect(lines()).toEqual([`${child.pid} start b`]);
    rmSync(dir, { recursive: true, force: true });
  }, 90_000);
});
