import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { until } from '../../test/helpers/jobs.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());

type Resource = { id: string; type: string; attributes: Record<string, unknown>; links: Record<string, string> };
const data = (body: unknown) => (body as { data: Resource }).data;
const list = (body: unknown) => (body as { data: Resource[] }).data;
const jobBody = (args: unknown, options?: unknown) => ({ data: { attributes: { arguments: args, ...(options ? { options } : {}) } } });
const triggerBody = (attributes: Record<string, unknown>) => ({ data: { attributes } });

describe('POST /jobs/queue/:worker', () => {
  it('queues a job with a right restricted to the worker, and the job runs', async () => {
    const token = await h.cliToken('io.cozy.jobs:POST,GET:log:worker');
    const res = await h.req('POST', '/jobs/queue/log', { token, body: jobBody('hello', { timeout: 5 }), headers: { 'content-type': 'application/vnd.api+json' } });
    expect(res.status).toBe(202);
    expect(res.headers['content-type']).toContain('application/vnd.api+json');
    const job = data(res.body);
    expect(job).toMatchObject({ type: 'io.cozy.jobs', attributes: { worker: 'log', domain: h.domain, arguments: 'hello', message: 'hello', options: { timeout: 5, max_exec_count: 1 } }, links: { self: `/jobs/${job.id}` } });
    await until(async () => data((await h.req('GET', `/jobs/${job.id}`, { token })).body).attributes.state === 'done');
  });

  it('refuses a whole-doctype right, another worker, an internal worker, an unknown worker, no token', async () => {
    const whole = await h.cliToken('io.cozy.jobs');
    expect((await h.req('POST', '/jobs/queue/log', { token: whole, body: jobBody(null) })).status).toBe(403);
    const mail = await h.cliToken('io.cozy.jobs:POST:sendmail:worker');
    expect((await h.req('POST', '/jobs/queue/log', { token: mail, body: jobBody(null) })).status).toBe(403);
    expect((await h.req('POST', '/jobs/queue/nope', { token: mail, body: jobBody(null) })).status).toBe(400);
    expect((await h.req('POST', '/jobs/queue/log', { body: jobBody(null) })).status).toBe(401);
    const bad = await h.cliToken('io.cozy.jobs:POST:log:worker');
    expect((await h.req('POST', '/jobs/queue/log', { token: bad, body: { arguments: 1 } })).status).toBe(400);
    expect((await h.req('POST', '/jobs/queue/log', { token: bad, body: jobBody(null, { max_exec_count: 99 }) })).status).toBe(400);
  });

  it('a job of another instance is not found; a token of another instance is refused', async () => {
    const token = await h.cliToken('io.cozy.jobs:POST,GET:log:worker');
    const job = data((await h.req('POST', '/jobs/queue/log', { token, body: jobBody(1) })).body);
    const other = await h.cliToken('io.cozy.jobs:GET:log:worker', h.other);
    const res = await rawRequest(h.port, 'GET', `/jobs/${job.id}`, { host: h.otherDomain, token: other });
    expect(res.status).toBe(404);
    expect((await h.req('GET', `/jobs/${job.id}`, { token: other })).status).toBe(400);
  });
});

describe('/jobs/triggers', () => {
  it('creates, lists with current_state, shows, patches, launches and deletes a trigger', async () => {
    const token = await h.cliToken('io.cozy.triggers:ALL:log:worker io.cozy.jobs:GET:log:worker');
    const created = await h.req('POST', '/jobs/triggers', { token, body: triggerBody({ type: '@cron', arguments: '0 0 3 * * *', worker: 'log', message: 'nightly' }) });
    expect(created.status).toBe(201);
    const trigger = data(created.body);
    expect(trigger).toMatchObject({ type: 'io.cozy.triggers', attributes: { type: '@cron', arguments: '0 0 3 * * *', worker: 'log', message: 'nightly', domain: h.domain } });
    const listed = list((await h.req('GET', '/jobs/triggers?Worker=log&Type=@cron,@every', { token })).body);
    expect(listed.map((t) => t.id)).toContain(trigger.id);
    expect(listed.find((t) => t.id === trigger.id)!.attributes.current_state).toMatchObject({ trigger_id: trigger.id, status: '' });
    const patched = await h.req('PATCH', `/jobs/triggers/${trigger.id}`, { token, body: triggerBody({ arguments: '0 30 4 * * *' }) });
    expect(data(patched.body).attributes.arguments).toBe('0 30 4 * * *');
    const launched = await h.req('POST', `/jobs/triggers/${trigger.id}/launch`, { token });
    expect(launched.status).toBe(201);
    const job = data(launched.body);
    expect(job.attributes).toMatchObject({ trigger_id: trigger.id, manual_execution: true, worker: 'log' });
    await until(async () => data((await h.req('GET', `/jobs/triggers/${trigger.id}/state`, { token })).body).attributes.status === 'done');
    const state = data((await h.req('GET', `/jobs/triggers/${trigger.id}/state`, { token })).body);
    expect(state).toMatchObject({ type: 'io.cozy.triggers.state', attributes: { last_successful_job_id: job.id, last_manual_job_id: job.id } });
    const jobs = list((await h.req('GET', `/jobs/triggers/${trigger.id}/jobs?Limit=5`, { token })).body);
    expect(jobs.map((j) => j.id)).toEqual([job.id]);
    expect((await h.req('DELETE', `/jobs/triggers/${trigger.id}`, { token })).status).toBe(204);
    expect((await h.req('GET', `/jobs/triggers/${trigger.id}`, { token })).status).toBe(404);
  });

  it('refuses triggers for a worker the token has no right on, and bad arguments', async () => {
    const token = await h.cliToken('io.cozy.triggers:ALL:log:worker');
    expect((await h.req('POST', '/jobs/triggers', { token, body: triggerBody({ type: '@in', arguments: '1h', worker: 'sendmail' }) })).status).toBe(403);
    expect((await h.req('POST', '/jobs/triggers', { token, body: triggerBody({ type: '@in', arguments: 'one hour', worker: 'log' }) })).status).toBe(400);
    expect((await h.req('POST', '/jobs/triggers', { token, body: triggerBody({ type: '@hourlyish', worker: 'log' }) })).status).toBe(400);
    const whole = await h.cliToken('io.cozy.triggers');
    expect((await h.req('POST', '/jobs/triggers', { token: whole, body: triggerBody({ type: '@in', arguments: '1h', worker: 'log' }) })).status).toBe(403);
  });
});

describe("the stack's own triggers", () => {
  it('cannot be changed or launched through the API, even with every right on triggers', async () => {
    const doc = await h.hearth.jobs.scheduler.create(h.domain, { type: '@in', arguments: '1h', worker: 'clean-clients', message: null });
    const token = await h.cliToken('io.cozy.triggers io.cozy.triggers:ALL:clean-clients:worker');
    const patched = await h.req('PATCH', `/jobs/triggers/${doc._id}`, { token, body: triggerBody({ arguments: '1s' }) });
    expect(patched.status).toBe(403);
    expect(patched.text).toMatch(/internal clean-clients worker cannot be changed/);
    expect((await h.req('POST', `/jobs/triggers/${doc._id}/launch`, { token })).status).toBe(403);
    expect((await h.hearth.jobs.scheduler.list(h.domain, { workers: ['clean-clients'] })).find((t) => t._id === doc._id)?.arguments).toBe('1h');
  });
});

describe('POST /jobs/webhooks/:id', () => {
  it('needs no token, turns the JSON body into the job payload, and answers 204', async () => {
    const token = await h.cliToken('io.cozy.triggers:ALL:log:worker io.cozy.jobs:GET:log:worker');
    const trigger = data((await h.req('POST', '/jobs/triggers', { token, body: triggerBody({ type: '@webhook', worker: 'log', message: 'hook' }) })).body);
    expect(trigger.links.webhook).toBe(`/jobs/webhooks/${trigger.id}`);
    const res = await h.req('POST', trigger.links.webhook!, { body: { account_id: '0672e560' } });
    expect(res.status).toBe(204);
    const jobs = list((await h.req('GET', `/jobs/triggers/${trigger.id}/jobs`, { token })).body);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.attributes.payload).toEqual({ account_id: '0672e560' });
  });

  it('refuses a body that is not JSON, an unknown trigger, a trigger of another type or instance', async () => {
    const token = await h.cliToken('io.cozy.triggers:ALL:log:worker');
    const hook = data((await h.req('POST', '/jobs/triggers', { token, body: triggerBody({ type: '@webhook', worker: 'log' }) })).body);
    expect((await h.req('POST', `/jobs/webhooks/${hook.id}`, { raw: 'not json', headers: { 'content-type': 'text/plain' } })).status).toBe(400);
    expect((await h.req('POST', '/jobs/webhooks/0123456789abcdef0123456789abcdef', { body: {} })).status).toBe(404);
    const cron = data((await h.req('POST', '/jobs/triggers', { token, body: triggerBody({ type: '@in', arguments: '1h', worker: 'log' }) })).body);
    expect((await h.req('POST', `/jobs/webhooks/${cron.id}`, { body: {} })).status).toBe(404);
    expect((await rawRequest(h.port, 'POST', `/jobs/webhooks/${hook.id}`, { host: h.otherDomain, body: {} })).status).toBe(404);
  });
});
