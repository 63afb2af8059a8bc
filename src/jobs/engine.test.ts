import { afterEach, describe, expect, it } from 'vitest';
import { openTestJobs, until, type TestJobs } from '../../test/helpers/jobs.js';
import { PermanentJobError, type JobDoc, type WorkerDef } from './types.js';

let t: TestJobs | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

const get = (id: string) => t!.jobs.engine.broker.get(t!.instance.domain, id);
const stateOf = async (id: string) => (await get(id))?.state;

describe('the job engine', () => {
  it('runs a queued job once, with its message, and publishes each state on the bus', async () => {
    const seen: unknown[] = [];
    t = await openTestJobs([{ name: 'echo', async run(ctx) { seen.push(ctx.job.message); ctx.emit({ type: 'info', message: 'hi' }); } }]);
    const logs: unknown[] = [];
    t.bus.subscribe(t.instance.domain, 'io.cozy.jobs.events', (e) => logs.push(e.doc));
    const job = await t.jobs.engine.push(t.instance.domain, { worker: 'echo', message: { n: 1 } });
    expect(job.state).toBe('queued');
    // the event follows the acknowledged write, which may come a moment after a read sees the commit (wal-sync.ts)
    await until(() => t!.events.some((e) => e.id === job._id && (e.doc as unknown as JobDoc).state === 'done'));
    expect(seen).toEqual([{ n: 1 }]);
    const done = (await get(job._id))!;
    expect(done.finished_at).toBeDefined();
    expect(done.started_at).toBeDefined();
    expect(t.events.filter((e) => e.id === job._id).map((e) => [e.verb, (e.doc as unknown as JobDoc).state])).toEqual([
      ['CREATED', 'queued'], ['UPDATED', 'running'], ['UPDATED', 'done'],
    ]);
    expect(logs).toEqual([expect.objectContaining({ job_id: job._id, type: 'info', message: 'hi' })]);
  });

  it('does not start a run the engine was told to stop before it began (closing), and leaves no rejection unhandled', async () => {
    let started = 0;
    t = await openTestJobs([{ name: 'late', async run(ctx) { started++; ctx.signal.throwIfAborted(); } }]);
    // the engine closes while the job is claimed but its run has not begun (it is reading the job's instance)
    const deps = (t.jobs.engine as unknown as { deps: { instanceOf(domain: string): Promise<unknown> } }).deps;
    const instanceOf = deps.instanceOf.bind(deps);
    let entered!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((r) => (entered = r));
    const gate = new Promise<void>((r) => (release = r));
    deps.instanceOf = async (domain) => {
      entered();
      await gate;
      return instanceOf(domain);
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await t.jobs.engine.push(t.instance.domain, { worker: 'late' });
      await reached;
      const closing = t.jobs.engine.close();
      release();
      await closing;
      await new Promise((r) => setTimeout(r, 50));
      expect(started).toBe(0);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('retries a failing job up to max_exec_count, then errors with the last error', async () => {
    let runs = 0;
    t = await openTestJobs([{ name: 'flaky', maxExecCount: 3, async run() { runs++; throw new Error(`boom ${runs}`); } }]);
    const job = await t.jobs.engine.push(t.instance.domain, { worker: 'flaky' });
    await until(async () => (await stateOf(job._id)) === 'errored');
    expect(runs).toBe(3);
    expect(await get(job._id)).toMatchObject({ state: 'errored', error: 'boom 3', tries: 3 });
  });

  it('the options of a job override the worker defaults; a permanent error is not retried', async () => {
    let runs = 0;
    t = await openTestJobs([{ name: 'bad', maxExecCount: 5, async run() { runs++; throw new PermanentJobError('LOGIN_FAILED'); } }]);
    const job = await t.jobs.engine.push(t.instance.domain, { worker: 'bad', options: { max_exec_count: 4, timeout: 30 } });
    expect(job.options).toEqual({ max_exec_count: 4, timeout: 30 });
    await until(async () => (await stateOf(job._id)) === 'errored');
    expect(runs).toBe(1);
    expect((await get(job._id))!.error).toBe('LOGIN_FAILED');
  });

  it('aborts a run past its timeout (its signal is aborted) and retries it', async () => {
    const aborted: boolean[] = [];
    const slow: WorkerDef = {
      name: 'slow', timeoutSeconds: 0.05, maxExecCount: 2,
      run: (ctx) => new Promise((_r, reject) => ctx.signal.addEventListener('abort', () => (aborted.push(true), reject(new Error('stopped'))))),
    };
    t = await openTestJobs([slow]);
    const job = await t.jobs.engine.push(t.instance.domain, { worker: 'slow' });
    await until(async () => (await stateOf(job._id)) === 'errored');
    expect(aborted).toEqual([true, true]);
    expect((await get(job._id))!.error).toMatch(/timeout of 0.05 s/);
  });

  it('never runs more jobs of a worker at once than its concurrency', async () => {
    let now = 0;
    let peak = 0;
    t = await openTestJobs([{ name: 'busy', concurrency: 2, async run() { peak = Math.max(peak, ++now); await new Promise((r) => setTimeout(r, 20)); now--; } }]);
    const jobs = await Promise.all(Array.from({ length: 7 }, () => t!.jobs.engine.push(t!.instance.domain, { worker: 'busy' })));
    await until(async () => (await Promise.all(jobs.map((j) => stateOf(j._id)))).every((s) => s === 'done'));
    expect(peak).toBe(2);
  });

  it('runs a job pushed while the pool was reading its next due time (the wake-up of its push is not lost)', async () => {
    const ran: string[] = [];
    t = await openTestJobs([{ name: 'late', async run(ctx) { ran.push(ctx.job._id); } }], { start: false });
    // the first read of the next due time (at start, with an empty queue) answers only once the job is pushed
    const broker = t.jobs.engine.broker;
    const nextDue = broker.nextDue.bind(broker);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let reading!: () => void;
    const read = new Promise<void>((r) => (reading = r));
    let first = true;
    broker.nextDue = async (worker) => {
      const due = await nextDue(worker);
      if (first) {
        first = false;
        reading();
        await held;
      }
      return due;
    };
    await t.jobs.start();
    await read;
    const job = await t.jobs.engine.push(t.instance.domain, { worker: 'late' });
    release();
    await until(() => ran.includes(job._id));
    await until(async () => (await stateOf(job._id)) === 'done');
  });

  it('refuses unknown workers and options out of bounds', async () => {
    t = await openTestJobs([{ name: 'noop', async run() {} }]);
    await expect(t.jobs.engine.push(t.instance.domain, { worker: 'nope' })).rejects.toThrow(/no worker named "nope"/);
    await expect(t.jobs.engine.push(t.instance.domain, { worker: 'noop', options: { max_exec_count: 0 } })).rejects.toThrow(/max_exec_count/);
    await expect(t.jobs.engine.push(t.instance.domain, { worker: 'noop', options: { timeout: -1 } })).rejects.toThrow(/timeout/);
  });

  it('refuses a job for a domain no instance has; a job whose instance is gone (its domain now another\'s) errors without running', async () => {
    let runs = 0;
    t = await openTestJobs([{ name: 'noop', maxExecCount: 3, async run() { runs++; } }], { start: false });
    await expect(t.jobs.engine.push('gone.example', { worker: 'noop' })).rejects.toMatchObject({ status: 404 });
    const job = await t.jobs.engine.push(t.instance.domain, { worker: 'noop' });
    t.instance.id = 'f'.repeat(32); // the instance was destroyed and a new one has its domain
    expect(await t.jobs.engine.broker.get(t.instance.domain, job._id)).toBeNull();
    expect(await t.jobs.engine.broker.list(t.instance.domain, { limit: 10 })).toEqual([]);
    await t.jobs.start();
    await until(() => t!.events.some((e) => e.id === job._id && e.doc.state === 'errored'));
    expect(String(t.events.find((e) => e.id === job._id && e.doc.state === 'errored')!.doc.error)).toMatch(/no longer exists/);
    expect(runs).toBe(0);
  });
});

describe('jobs across a restart', () => {
  it('queued jobs run after a restart; finished ones never run again', async () => {
    const runs: string[] = [];
    const worker: WorkerDef = { name: 'rec', async run(ctx) { runs.push(ctx.job._id); } };
    t = await openTestJobs([], { start: true });
    const a = await t.jobs.engine.broker.push({ domain: t.instance.domain, worker: 'rec', message: null, options: { timeout: 5, max_exec_count: 1 }, runAt: t.clock.t }, t.clock.t);
    await t.reopen([worker]);
    await until(async () => (await stateOf(a._id)) === 'done');
    await t.reopen([worker]);
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toEqual([a._id]);
  });

  it('a run cut short by a dead process is retried if tries are left, errored otherwise (and its worker told)', async () => {
    t = await openTestJobs([], { start: true });
    const broker = t.jobs.engine.broker;
    const base = { domain: t.instance.domain, worker: 'rec', message: null, runAt: t.clock.t };
    const retried = await broker.push({ ...base, options: { timeout: 5, max_exec_count: 2 } }, t.clock.t);
    const last = await broker.push({ ...base, options: { timeout: 5, max_exec_count: 1 } }, t.clock.t);
    // the previous process claimed both, then died: their leases have ended
    await broker.claim('rec', t.clock.t, Date.now() - 1);
    await broker.claim('rec', t.clock.t, Date.now() - 1);
    const runs: string[] = [];
    const abandoned: string[] = [];
    await t.reopen([{ name: 'rec', async run(ctx) { runs.push(ctx.job._id); }, async abandoned(job) { abandoned.push(job._id); } }]);
    await until(async () => (await stateOf(retried._id)) === 'done');
    expect(runs).toEqual([retried._id]);
    expect(await get(last._id)).toMatchObject({ state: 'errored', error: 'the server stopped during the run' });
    expect(abandoned).toEqual([last._id]);
  });

  it('a graceful shutdown gives the try back to the interrupted run', async () => {
    let started = 0;
    const hang: WorkerDef = { name: 'hang', maxExecCount: 1, timeoutSeconds: 60, run: (ctx) => { started++; return new Promise((_r, rej) => ctx.signal.addEventListener('abort', () => rej(new Error('stopped')))); } };
    t = await openTestJobs([hang]);
    const job = await t.jobs.engine.push(t.instance.domain, { worker: 'hang' });
    await until(() => started === 1);
    await t.reopen([{ name: 'hang', async run() {} }]);
    await until(async () => (await stateOf(job._id)) === 'done');
    expect((await get(job._id))!.tries).toBe(1);
  });

  it('never shows a trigger\'s job ended while the trigger still says running (both are written in the same turn)', async () => {
    t = await openTestJobs([{ name: 'quick', async run() {} }, { name: 'broken', maxExecCount: 1, async run() { throw new PermanentJobError('no'); } }]);
    const seen: string[] = [];
    let watching = true;
    // a reader that looks between any two turns of the event loop, as an HTTP request could
    const watch = async (triggerId: string, jobId: () => string | undefined) => {
      while (watching) {
        const id = jobId();
        const job = id ? await get(id) : null;
        const state = (await t!.jobs.scheduler.get(t!.instance.domain, triggerId)).current_state?.status;
        // not if the next launch began meanwhile: the trigger's state may then be its new job's (queued)
        if (job && jobId() === id && (job.state === 'done' || job.state === 'errored')) seen.push(`${job.state}/${state}`);
        await new Promise((r) => setImmediate(r));
      }
    };
    for (const worker of ['quick', 'broken']) {
      const trigger = await t.jobs.scheduler.create(t.instance.domain, { type: '@cron', arguments: '0 0 4 * * *', worker, message: null });
      let jobId: string | undefined;
      watching = true;
      const watcher = watch(trigger._id, () => jobId);
      for (let i = 0; i < 5; i++) {
        jobId = undefined;
        jobId = (await t.jobs.scheduler.launch(trigger))!._id;
        await until(async () => ['done', 'errored'].includes((await stateOf(jobId!))!));
      }
      watching = false;
      await watcher;
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((s) => s !== 'done/done' && s !== 'errored/errored')).toEqual([]);
  });
});
