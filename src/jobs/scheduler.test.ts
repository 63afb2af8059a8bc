import { afterEach, describe, expect, it } from 'vitest';
import { openTestJobs, until, type TestJobs } from '../../test/helpers/jobs.js';
import { PermanentJobError, type JobContext, type WorkerDef } from './types.js';

let t: TestJobs | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

const runs: JobContext['job'][] = [];
const recorder: WorkerDef = { name: 'rec', concurrency: 4, async run(ctx) { runs.push(ctx.job); } };
const S = 1000;

async function open(workers: WorkerDef[] = [recorder]) {
  runs.length = 0;
  t = await openTestJobs(workers);
  return t;
}
const domain = () => t!.instance.domain;
const jobsOf = (triggerId: string) => t!.jobs.engine.broker.list(domain(), { triggerId, limit: 100 });
async function advance(ms: number) {
  t!.clock.t += ms;
  return t!.jobs.scheduler.tick();
}

describe('time triggers (a clock the test moves)', () => {
  it('@in fires once after its delay, then the trigger is gone', async () => {
    await open();
    const trigger = await t!.jobs.scheduler.create(domain(), { type: '@in', arguments: '10m', worker: 'rec', message: { a: 1 } });
    expect(await advance(9 * 60 * S)).toBe(0);
    expect(await advance(60 * S)).toBe(1);
    await until(() => runs.length === 1);
    expect(runs[0]).toMatchObject({ message: { a: 1 }, trigger_id: trigger._id });
    await expect(t!.jobs.scheduler.get(domain(), trigger._id)).rejects.toThrow(/no trigger/);
  });

  it('@at fires at its date, and at once when the date just passed', async () => {
    await open();
    const at = new Date(t!.clock.t + 5 * S).toISOString();
    await t!.jobs.scheduler.create(domain(), { type: '@at', arguments: at, worker: 'rec' });
    expect(await advance(4 * S)).toBe(0);
    expect(await advance(S)).toBe(1);
    await t!.jobs.scheduler.create(domain(), { type: '@at', arguments: new Date(t!.clock.t - S).toISOString(), worker: 'rec' });
    expect(await t!.jobs.scheduler.tick()).toBe(1);
  });

  it('@every fires each period; a long stop fires a missed slot once, not once per slot', async () => {
    await open();
    const trigger = await t!.jobs.scheduler.create(domain(), { type: '@every', arguments: '30m', worker: 'rec' });
    expect(await advance(30 * 60 * S)).toBe(1);
    expect(await advance(30 * 60 * S)).toBe(1);
    expect(await advance(10 * 3600 * S)).toBe(1);
    expect(await advance(10 * 60 * S)).toBe(0);
    await until(async () => (await jobsOf(trigger._id)).length === 3);
  });

  it('@cron fires at the matching seconds; PATCH changes its schedule', async () => {
    await open();
    t!.clock.t = Date.parse('2026-06-01T10:00:00Z');
    const trigger = await t!.jobs.scheduler.create(domain(), { type: '@cron', arguments: '30 0 12 * * *', worker: 'rec' });
    t!.clock.t = Date.parse('2026-06-01T12:00:29Z');
    expect(await t!.jobs.scheduler.tick()).toBe(0);
    t!.clock.t = Date.parse('2026-06-01T12:00:30Z');
    expect(await t!.jobs.scheduler.tick()).toBe(1);
    await t!.jobs.scheduler.patch(domain(), trigger._id, { arguments: '0 0 13 * * *' });
    t!.clock.t = Date.parse('2026-06-01T12:59:59Z');
    expect(await t!.jobs.scheduler.tick()).toBe(0);
    t!.clock.t = Date.parse('2026-06-01T13:00:00Z');
    expect(await t!.jobs.scheduler.tick()).toBe(1);
    t!.clock.t = Date.parse('2026-06-02T12:00:30Z');
    expect(await t!.jobs.scheduler.tick()).toBe(0);
  });

  it('@daily between 8am and 6pm fires once a day inside the window', async () => {
    await open();
    t!.clock.t = Date.parse('2026-06-01T00:00:00Z');
    await t!.jobs.scheduler.create(domain(), { type: '@daily', arguments: 'between 8am and 6pm', worker: 'rec' });
    const fired: number[] = [];
    for (let h = 0; h < 72; h++) {
      if (await advance(3600 * S)) fired.push(t!.clock.t);
    }
    expect(fired).toHaveLength(3);
    for (const at of fired) expect(new Date(at - 1).getUTCHours()).toBeGreaterThanOrEqual(8);
    for (const at of fired) expect(new Date(at - 3600 * S).getUTCHours()).toBeLessThan(18);
  });

  it('time triggers survive a restart', async () => {
    await open();
    await t!.jobs.scheduler.create(domain(), { type: '@in', arguments: '1h', worker: 'rec' });
    await t!.reopen();
    expect(await advance(3600 * S)).toBe(1);
  });

  it('refuses bad types, arguments, workers and debounces with 400s', async () => {
    await open();
    const s = t!.jobs.scheduler;
    await expect(s.create(domain(), { type: '@sometimes', worker: 'rec' })).rejects.toMatchObject({ status: 400 });
    await expect(s.create(domain(), { type: '@cron', arguments: '* * *', worker: 'rec' })).rejects.toMatchObject({ status: 400 });
    await expect(s.create(domain(), { type: '@every', arguments: 'soon', worker: 'rec' })).rejects.toMatchObject({ status: 400 });
    await expect(s.create(domain(), { type: '@in', arguments: '1h', worker: 'nope' })).rejects.toMatchObject({ status: 400 });
    await expect(s.create(domain(), { type: '@event', arguments: 'io.cozy.files', worker: 'rec', debounce: 'x' })).rejects.toMatchObject({ status: 400 });
    await expect(s.create(domain(), { type: '@client', worker: 'rec' })).rejects.toMatchObject({ status: 400 });
  });
});

describe('one real @every', () => {
  it('fires on its own, every second, with the system clock', async () => {
    runs.length = 0;
    const { openTestJobs: open2 } = await import('../../test/helpers/jobs.js');
    t = await open2([recorder]);
    t.clock.now = () => Date.now();
    const trigger = await t.jobs.scheduler.create(domain(), { type: '@every', arguments: '1s', worker: 'rec' });
    await until(() => runs.filter((r) => r.trigger_id === trigger._id).length >= 2, 5000);
    const stamps = (await jobsOf(trigger._id)).map((j) => Date.parse(j.queued_at)).sort();
    // @every runs at createdAt + k·1s, never earlier, and a late run does not make the next one early; under load a run
    // may be late, so the gap between two runs can be under a second (the catch-up skips to the next slot), but the k-th
    // run never comes before its slot
    const createdAt = Date.parse(String(trigger.cozyMetadata?.createdAt));
    expect(stamps[0]!).toBeGreaterThanOrEqual(createdAt + 1000);
    expect(stamps[1]!).toBeGreaterThanOrEqual(createdAt + 2000);
  });
});

describe('@event, @webhook, @client and debounce', () => {
  const change = (verb: 'CREATED' | 'UPDATED', doc: Record<string, unknown>, old?: Record<string, unknown>) =>
    t!.bus.publish({ domain: domain(), doctype: 'io.cozy.bank.operations', id: String(doc._id), verb, doc, ...(old ? { old } : {}) });

  it('fires on a matching change only, with the event in the job', async () => {
    await open();
    await t!.jobs.scheduler.create(domain(), { type: '@event', arguments: 'io.cozy.bank.operations:UPDATED:!=:category', worker: 'rec' });
    change('CREATED', { _id: 'op1', category: 'food' });
    change('UPDATED', { _id: 'op1', category: 'food', amount: 3 }, { _id: 'op1', category: 'food' });
    t!.bus.publish({ domain: 'other.example', doctype: 'io.cozy.bank.operations', id: 'op1', verb: 'UPDATED', doc: { _id: 'op1', category: 'x' }, old: { _id: 'op1', category: 'food' } });
    change('UPDATED', { _id: 'op1', category: 'rent' }, { _id: 'op1', category: 'food' });
    await until(() => runs.length === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toHaveLength(1);
    expect(runs[0]!.event).toMatchObject({ verb: 'UPDATED', doc: { category: 'rent' }, old: { category: 'food' } });
  });

  it('survives a restart, and stops listening once deleted', async () => {
    await open();
    const trigger = await t!.jobs.scheduler.create(domain(), { type: '@event', arguments: 'io.cozy.bank.operations', worker: 'rec' });
    await t!.reopen();
    change('CREATED', { _id: 'a' });
    await until(() => runs.length === 1);
    await t!.jobs.scheduler.delete(domain(), trigger._id);
    change('CREATED', { _id: 'b' });
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toHaveLength(1);
  });

  it('a debounce makes one job of a burst, run once the delay has passed', async () => {
    await open();
    const trigger = await t!.jobs.scheduler.create(domain(), { type: '@event', arguments: 'io.cozy.bank.operations:CREATED', worker: 'rec', debounce: '10s' });
    for (let i = 0; i < 5; i++) change('CREATED', { _id: `op${i}` });
    await until(async () => (await jobsOf(trigger._id)).length === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toHaveLength(0);
    t!.clock.t += 10 * S;
    await t!.reopen();
    await until(() => runs.length === 1);
    expect((await jobsOf(trigger._id)).length).toBe(1);
  });

  it('@client: launch makes a job the client reports done; the trigger state follows', async () => {
    await open();
    const trigger = await t!.jobs.scheduler.create(domain(), { type: '@client', worker: 'client' });
    const job = (await t!.jobs.scheduler.launch(trigger))!;
    expect(job.state).toBe('running');
    await t!.jobs.engine.report(domain(), job._id, 'errored', 'LOGIN_FAILED');
    expect((await t!.jobs.scheduler.get(domain(), trigger._id)).current_state).toMatchObject({ status: 'errored', last_error: 'LOGIN_FAILED', last_failed_job_id: job._id, last_manual_job_id: job._id });
  });

  it('a konnector whose last run said LOGIN_FAILED is not run automatically, only manually', async () => {
    const konnector: WorkerDef = { name: 'konnector', async run(ctx) { runs.push(ctx.job); throw new PermanentJobError('LOGIN_FAILED'); } };
    await open([konnector]);
    const trigger = await t!.jobs.scheduler.create(domain(), { type: '@every', arguments: '1h', worker: 'konnector', message: { konnector: 'k' } });
    await advance(3600 * S);
    await until(async () => (await t!.jobs.scheduler.get(domain(), trigger._id)).current_state?.status === 'errored');
    expect(await advance(3600 * S)).toBe(1); // its slot passes …
    expect((await jobsOf(trigger._id)).length).toBe(1); // … without a job
    await t!.jobs.scheduler.launch(await t!.jobs.scheduler.get(domain(), trigger._id));
    await until(() => runs.length === 2);
  });
});
