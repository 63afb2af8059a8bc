/** POST /realtime/:doctype/:id (NOTIFIED) and the job engine's io.cozy.jobs.events. */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { openWs, type RtClient } from '../../test/helpers/ws.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/konnectors', import.meta.url));
let h: TestHearth;

beforeAll(async () => {
  h = await startTestHearth({ jobs: { konnectorsDir: FIXTURES, appsDir: null, sandboxMemoryMb: 128, sandboxOutputBytes: 256 * 1024, eventSweepMs: 30_000 } });
});
afterAll(() => h.close());

async function listening(token: string, type: string, host = h.domain): Promise<RtClient> {
  const c = await openWs(h.port, host);
  c.auth(token);
  c.subscribe(type);
  await c.barrier();
  return c;
}

describe('POST /realtime/:doctype/:id', () => {
  it('sends a NOTIFIED event with the body as the doc (and its _id), to this instance only; 204', async () => {
    const c = await listening(await h.cliToken('io.cozy.jobs:GET'), 'io.cozy.jobs');
    const other = await listening(await h.cliToken('io.cozy.jobs:GET', h.other), 'io.cozy.jobs', h.otherDomain);
    const token = await h.cliToken('io.cozy.jobs:POST');
    const res = await h.req('POST', '/realtime/io.cozy.jobs/job-42', { token, body: { subtype: 'progress', imported: 10, total: 42 } });
    expect(res.status, res.text).toBe(204);
    expect(await c.next((m) => m.event === 'NOTIFIED')).toEqual({
      event: 'NOTIFIED',
      payload: { type: 'io.cozy.jobs', id: 'job-42', doc: { subtype: 'progress', imported: 10, total: 42, _id: 'job-42' } },
    });
    const mine = await h.req('POST', '/realtime/io.cozy.jobs/job-43', { token: await h.cliToken('io.cozy.jobs:POST', h.other), body: { n: 1 }, host: h.otherDomain });
    expect(mine.status).toBe(204);
    expect((await other.next((m) => m.event === 'NOTIFIED')).payload.id).toBe('job-43');
    expect(other.messages.some((m) => m.payload.id === 'job-42')).toBe(false);
    await c.close();
    await other.close();
  });

  it('needs POST on that document: a rule on another id or only GET is refused', async () => {
    const body = { body: { x: 1 } };
    expect((await h.req('POST', '/realtime/io.cozy.jobs/a', body)).status).toBe(401);
    expect((await h.req('POST', '/realtime/io.cozy.jobs/a', { ...body, token: await h.cliToken('io.cozy.jobs:GET') })).status).toBe(403);
    expect((await h.req('POST', '/realtime/io.cozy.jobs/a', { ...body, token: await h.cliToken('io.cozy.jobs:POST:b') })).status).toBe(403);
    expect((await h.req('POST', '/realtime/io.cozy.jobs/a', { ...body, token: await h.cliToken('io.cozy.jobs:POST', h.other) })).status).toBe(400);
    const res = await h.req('POST', '/realtime/io.cozy.jobs/a', { ...body, token: await h.cliToken('io.cozy.jobs:POST:a') });
    expect(res.status).toBe(204);
  });

  it('refuses a body that is not a JSON object, a bad doctype and a large body', async () => {
    const token = await h.cliToken('io.cozy.jobs:POST');
    const array = await h.req('POST', '/realtime/io.cozy.jobs/a', { token, body: [1, 2] });
    expect(array.status).toBe(400);
    expect(array.body.errors[0].detail).toMatch(/JSON object/);
    expect((await h.req('POST', '/realtime/IO.COZY/a', { token, body: {} })).status).toBe(400);
    expect((await h.req('POST', '/realtime/io.cozy.jobs/a', { token, body: { big: 'x'.repeat(300 * 1024) } })).status).toBe(413);
  });
});

describe('io.cozy.jobs.events', () => {
  it('carries what a konnector prints, to a token with GET on io.cozy.jobs.events', async () => {
    const refused = await openWs(h.port, h.domain);
    refused.auth(await h.cliToken('io.cozy.jobs'));
    refused.subscribe('io.cozy.jobs.events');
    expect((await refused.next()).payload.status).toBe('403 Forbidden');
    await refused.close();

    const c = await listening(await h.cliToken('io.cozy.jobs.events'), 'io.cozy.jobs.events');
    const job = await h.hearth.jobs.engine.push(h.domain, { worker: 'konnector', message: { konnector: 'sample', amount: 3 } });
    const first = await c.next((m) => m.event === 'CREATED', 30_000);
    expect(first.payload).toMatchObject({ type: 'io.cozy.jobs.events', id: job._id, doc: { job_id: job._id, worker: 'konnector', type: 'info', message: 'starting' } });
    await c.close();
  });
});
