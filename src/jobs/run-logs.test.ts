/**
 * The log lines of past runs on a real server: a konnector run from its trigger prints lines, which GET /jobs/:id/logs
 * answers after the run (the last MAX_LINES of them, with how many were dropped), to a token that may read the job
 * only; the KEEP_RUNS latest runs of a trigger are kept.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPackageServer, type PackageServer } from '../../test/helpers/app-packages.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { until } from '../../test/helpers/jobs.js';
import { KEEP_RUNS, MAX_LINES, RUN_LOGS_DOCTYPE, RunLogs } from './run-logs.js';

let h: TestHearth;
let pkgs: PackageServer;
let token: string;

beforeAll(async () => {
  h = await startTestHearth({ jobs: { konnectorsDir: null, appsDir: null, sandboxMemoryMb: 128, sandboxOutputBytes: 256 * 1024, eventSweepMs: 30_000 } });
  pkgs = await startPackageServer();
  token = await h.cliToken('io.cozy.konnectors io.cozy.accounts io.cozy.triggers:ALL:konnector:worker io.cozy.jobs:GET:konnector:worker');
}, 60_000);
afterAll(async () => {
  await h.close();
  await pkgs.close();
});

describe('the log of a past run', () => {
  it('keeps the last lines a konnector printed, for whoever may read the job', async () => {
    const script = `for (let i = 1; i <= ${MAX_LINES + 50}; i++) console.log(JSON.stringify({ type: i % 2 ? 'info' : 'debug', message: 'line ' + i }));
console.log(JSON.stringify({ type: 'warning', message: 'x'.repeat(5000) }));`;
    const manifest = { slug: 'talker', type: 'konnector', version: '1.0.0', main: 'index.js', permissions: { bills: { type: 'io.cozy.bills' } } };
    const url = await pkgs.add(`talker-${Date.now()}`, { 'manifest.konnector': manifest, 'package.json': '{"type":"module"}', 'index.js': script });
    expect((await h.req('POST', `/konnectors/talker?Source=${encodeURIComponent(url)}`, { token })).status).toBe(202);
    await until(async () => (await h.req('GET', '/konnectors/talker', { token })).body?.data?.attributes?.state === 'ready', 30_000);
    const trigger = await h.req('POST', '/jobs/triggers', {
      token, headers: { 'content-type': 'application/vnd.api+json' },
      body: { data: { attributes: { type: '@cron', arguments: '0 0 3 * * *', worker: 'konnector', message: { konnector: 'talker' } } } },
    });
    expect(trigger.status).toBe(201);
    const launched = await h.req('POST', `/jobs/triggers/${trigger.body.data.id}/launch`, { token });
    expect(launched.status).toBe(201);
    const jobId = launched.body.data.id as string;
    await until(async () => ['done', 'errored'].includes((await h.req('GET', `/jobs/${jobId}`, { token })).body?.data?.attributes?.state), 60_000);
    const res = await h.req('GET', `/jobs/${jobId}/logs`, { token });
    expect(res.status).toBe(200);
    const { lines, dropped } = res.body.data.attributes as { lines: Array<{ type: string; message: string; time: string }>; dropped: number };
    expect(lines).toHaveLength(MAX_LINES);
    expect(dropped).toBe(51);
    expect(lines[0]).toMatchObject({ type: 'debug', message: 'line 52' });
    expect(lines.at(-2)).toMatchObject({ type: 'debug', message: `line ${MAX_LINES + 50}` });
    expect(lines.at(-1)!.message).toHaveLength(1000);
    expect(Date.parse(lines[0]!.time)).not.toBeNaN();
    // who may not read the job may not read its log; an unknown job is 404
    expect((await h.req('GET', `/jobs/${jobId}/logs`, { token: await h.cliToken('io.cozy.jobs:GET:thumbnail:worker') })).status).toBe(403);
    expect((await h.req('GET', `/jobs/${jobId}/logs`)).status).toBe(401);
    expect((await h.req('GET', '/jobs/nope/logs', { token })).status).toBe(404);
  }, 120_000);

  it(`keeps the ${KEEP_RUNS} latest runs of a trigger`, async () => {
    const logs = new RunLogs((i) => h.hearth.storeOf(i));
    // all within one millisecond of the clock (a fast machine): the runs still keep their order
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-08T02:30:00Z') });
    try {
      for (let i = 0; i < KEEP_RUNS + 3; i++) await logs.save(h.instance, { _id: `run-${String(i).padStart(2, '0')}`, trigger_id: 'trig-keep', worker: 'konnector' }, { lines: [{ type: 'info', message: `run ${i}`, time: new Date().toISOString() }], dropped: 0 });
    } finally {
      vi.useRealTimers();
    }
    await logs.save(h.instance, { _id: 'other', trigger_id: 'trig-other', worker: 'konnector' }, { lines: [], dropped: 0 });
    const { docs } = await h.hearth.storeOf(h.instance).find(RUN_LOGS_DOCTYPE, { selector: { trigger_id: 'trig-keep' }, limit: 100, skip: 0 });
    expect(docs.map((d) => d._id).sort()).toEqual(Array.from({ length: KEEP_RUNS }, (_, i) => `run-${String(i + 3).padStart(2, '0')}`));
    expect((await logs.read(h.instance, 'run-12')).lines[0]!.message).toBe('run 12');
    expect(await logs.read(h.instance, 'run-00')).toEqual({ lines: [], dropped: 0 });
    expect((await logs.read(h.instance, 'other')).lines).toEqual([]);
  });
});
