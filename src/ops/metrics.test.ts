/** GET /metrics on the admin port of a real server, and the job metrics of a real engine. */
import type { AddressInfo } from 'node:net';
import { register } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobDoc } from '../jobs/types.js';
import { rawRequest, startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { openTestJobs, until } from '../../test/helpers/jobs.js';
import { HearthMetrics } from './metrics.js';

const basic = (p: string) => ({ authorization: 'Basic ' + Buffer.from(`admin:${p}`).toString('base64') });
let h: TestHearth;
let adminPort: number;
const admin = (path: string, headers: Record<string, string> = basic('admin-secret')) => rawRequest(adminPort, 'GET', path, { host: `127.0.0.1:${adminPort}`, headers });
/** The value of one sample line of the exposition text, or undefined. */
const sample = (text: string, name: string, labels = ''): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};

beforeAll(async () => {
  h = await startTestHearth();
  await h.hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
  adminPort = (h.hearth.adminApp.server.address() as AddressInfo).port;
});
afterAll(() => h.close());

describe('GET /metrics (admin port)', () => {
  it('needs the admin passphrase', async () => {
    const none = await admin('/metrics', {});
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic/);
    expect(none.text).not.toContain('hearth_');
    expect((await admin('/metrics', basic('wrong'))).status).toBe(401);
    // not on the public port
    expect((await h.req('GET', '/metrics')).status).toBe(404);
  });

  it('times the public requests by route pattern and status, never by URL', async () => {
    const token = await h.cliToken('io.cozy.notes');
    const created = await h.req('POST', '/data/io.cozy.notes/', { token, body: { title: 'metrics' } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await h.req('GET', `/data/io.cozy.notes/${id}`, { token })).status).toBe(200);
    expect((await h.req('GET', '/data/io.cozy.notes/no-such-doc', { token })).status).toBe(404);
    expect((await h.req('GET', `/no/such/route/${id}`)).status).toBe(404);
    const res = await admin('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const route = 'method="GET",route="/data/:doctype/:docid"';
    expect(sample(res.text, 'hearth_http_request_duration_seconds_count', `${route},status_code="200"`)).toBe(1);
    expect(sample(res.text, 'hearth_http_request_duration_seconds_count', `${route},status_code="404"`)).toBe(1);
    expect(sample(res.text, 'hearth_http_request_duration_seconds_bucket', `le="+Inf",${route},status_code="200"`)).toBe(1);
    expect(sample(res.text, 'hearth_http_request_duration_seconds_count', 'method="POST",route="/data/:doctype/",status_code="201"')).toBe(1);
    expect(sample(res.text, 'hearth_http_request_duration_seconds_count', 'method="GET",route="(unmatched)",status_code="404"')).toBeGreaterThanOrEqual(1);
    expect(res.text).not.toContain(id);
    expect(res.text).not.toContain('no-such-doc');
  });

  it('counts job runs by worker and state, with their durations', async () => {
    const job = await h.hearth.jobs.engine.push(h.domain, { worker: 'log', message: 'hello metrics' });
    await new Promise<void>((resolve) => {
      const stop = h.hearth.bus.subscribe(h.domain, 'io.cozy.jobs', (e) => {
        if (e.id === job._id && (e.doc as unknown as JobDoc).state === 'done') {
          stop();
          resolve();
        }
      });
    });
    const text = (await admin('/metrics')).text;
    expect(sample(text, 'hearth_jobs_queued_total', 'worker="log"')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'hearth_job_executions_total', 'worker="log",state="done"')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'hearth_job_duration_seconds_count', 'worker="log",state="done"')).toBeGreaterThanOrEqual(1);
  });

  it('reports the instances, the database sizes, the realtime connections and Node\'s metrics', async () => {
    let text = (await admin('/metrics')).text;
    expect(sample(text, 'hearth_instances')).toBe(2);
    for (const db of ['registry', 'sessions', 'jobs', 'instances_docs']) expect(sample(text, 'hearth_database_size_bytes', `db="${db}"`)).toBeGreaterThan(0);
    expect(sample(text, 'hearth_realtime_connections')).toBe(0);
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toContain('nodejs_heap_size_used_bytes');
    await h.hearth.registry.create({ domain: 'third.example.org' });
    h.hearth.metrics.countRealtimeConnections(() => 3);
    text = (await admin('/metrics')).text;
    expect(sample(text, 'hearth_instances')).toBe(3);
    expect(sample(text, 'hearth_realtime_connections')).toBe(3);
  });
});

describe('job metrics of an engine', () => {
  it('counts retries, errors and timeouts', async () => {
    const t = await openTestJobs([
      { name: 'flaky', maxExecCount: 2, run: async () => { throw new Error('always fails'); } },
      { name: 'slow', run: ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))) },
    ]);
    const metrics = new HearthMetrics({ dataDir: t.dir, instanceCount: async () => 1 });
    const stop = metrics.observeJobs(t.bus);
    try {
      const flaky = await t.jobs.engine.push(t.instance.domain, { worker: 'flaky' });
      const slow = await t.jobs.engine.push(t.instance.domain, { worker: 'slow', options: { timeout: 1 } });
      const state = async (id: string) => (await t.jobs.engine.broker.get(t.instance.domain, id))?.state;
      await until(async () => (await state(flaky._id)) === 'errored' && (await state(slow._id)) === 'errored');
      // a stored state can be read just before its write is acknowledged and its event published: wait for both events
      const ended = (text: string) =>
        sample(text, 'hearth_job_executions_total', 'worker="flaky",state="errored"') !== undefined &&
        sample(text, 'hearth_job_duration_seconds_count', 'worker="slow",state="errored"') !== undefined;
      await until(async () => ended(await metrics.metrics()));
      const text = await metrics.metrics();
      expect(sample(text, 'hearth_jobs_queued_total', 'worker="flaky"')).toBe(1);
      expect(sample(text, 'hearth_job_executions_total', 'worker="flaky",state="retry"')).toBe(1);
      expect(sample(text, 'hearth_job_executions_total', 'worker="flaky",state="errored"')).toBe(1);
      expect(sample(text, 'hearth_job_timeouts_total', 'worker="flaky"')).toBeUndefined();
      expect(sample(text, 'hearth_job_timeouts_total', 'worker="slow"')).toBe(1);
      expect(sample(text, 'hearth_job_duration_seconds_count', 'worker="slow",state="errored"')).toBe(1);
      expect(sample(text, 'hearth_database_size_bytes', 'db="jobs"')).toBeGreaterThan(0);
      // this Hearth's registry only: prom-client's global one stays empty
      expect(await register.getMetricsAsJSON()).toEqual([]);
    } finally {
      stop();
      await t.close();
    }
  });
});
