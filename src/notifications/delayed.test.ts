/** `at`: the notification waits in an @at trigger of the job system, survives a restart, then is delivered in-app and by mail. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { until } from '../../test/helpers/jobs.js';
import { startTestSmtp, type TestSmtp } from '../../test/helpers/smtp.js';

let h: TestHearth;
let smtp: TestSmtp;
const JSONAPI = { 'content-type': 'application/vnd.api+json' };

beforeAll(async () => {
  smtp = await startTestSmtp();
  h = await startTestHearth({ mail: smtp.config });
  await h.hearth.registry.modify(h.domain, { email: 'alice@example.org', publicName: 'Alice' });
});
afterAll(async () => {
  await h.close();
  await smtp.close();
});

const send = async (attributes: Record<string, unknown>) =>
  h.req('POST', '/notifications', { token: await h.cliToken('io.cozy.notifications:POST'), headers: JSONAPI, body: { data: { attributes } } });

describe('notifications with "at"', () => {
  it('are delivered at their time, after a restart', async () => {
    const at = new Date(Date.now() + 4000).toISOString();
    const r = await send({ category: 'system', title: 'Later', message: 'at its time', at });
    expect(r.status).toBe(201);
    const id: string = r.body.data.id;
    expect(r.body.data.meta).toEqual({ scheduled_at: at });
    expect(r.body.data.attributes).toMatchObject({ title: 'Later', category: 'system', originator: 'cli' });
    expect(r.body.data.attributes.at).toBeUndefined();
    // its id sorts by delivery time
    expect(parseInt(id.slice(0, 12), 16)).toBe(Date.parse(at));
    const triggers = await h.hearth.jobs.scheduler.list(h.domain, { workers: ['notification'] });
    expect(triggers).toHaveLength(1);
    expect(triggers[0]).toMatchObject({ type: '@at', arguments: at });
    const reader = await h.cliToken('io.cozy.notifications:GET');
    expect((await h.req('GET', `/notifications/${id}`, { token: reader })).status).toBe(404);

    await h.restart();
    const before = smtp.received.length;
    const events: string[] = [];
    h.hearth.bus.subscribe(h.domain, 'io.cozy.notifications', (e) => events.push(`${e.verb} ${e.id}`));
    await until(async () => (await h.req('GET', `/notifications/${id}`, { token: reader })).status === 200, 15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(at));
    // the event goes out once the write is durable (the WAL's fsync), which may be just after a reader sees it
    await until(async () => events.includes(`CREATED ${id}`), 5_000);
    expect(events).toContain(`CREATED ${id}`);
    const doc = (await h.req('GET', `/notifications/${id}`, { token: reader })).body.data;
    expect(doc.attributes).toMatchObject({ title: 'Later', message: 'at its time', source_id: 'cozy/cli//system/' });
    expect(Date.parse(doc.attributes.created_at)).toBeGreaterThanOrEqual(Date.parse(at));
    await until(() => smtp.received.length > before, 15_000);
    expect(smtp.received[before]!.mail.subject).toBe('Later');
    expect(await h.hearth.jobs.scheduler.list(h.domain, { workers: ['notification'] })).toEqual([]);
    const runs = await h.hearth.jobs.engine.broker.list(h.domain, { worker: 'notification', limit: 5 });
    expect(runs.map((j) => j.state)).toEqual(['done']);
  });

  it('a waiting notification cannot be changed through /jobs/triggers, and a changed one is not delivered (its signature no longer matches)', async () => {
    // due in 10 minutes, so that it cannot fire before the test has read and forged it (on a busy machine a second went by)
    const r = await send({ category: 'system', title: 'Genuine', at: new Date(Date.now() + 600_000).toISOString() });
    const id: string = r.body.data.id;
    const [trigger] = await h.hearth.jobs.scheduler.list(h.domain, { workers: ['notification'] });
    const message = trigger!.message as { pending: string; mac: string };
    const forged = { ...message, pending: message.pending.replace('Genuine', 'Forged') };
    const patch = await h.req('PATCH', `/jobs/triggers/${trigger!._id}`, { token: await h.cliToken('io.cozy.triggers'), headers: JSONAPI, body: { data: { attributes: { message: forged } } } });
    expect(patch.status).toBe(403);
    // changed behind the API's back (e.g. in jobs.sqlite), and made due now: the signature still stops it
    await h.hearth.jobs.scheduler.patch(h.domain, trigger!._id, { message: forged, arguments: new Date(Date.now() + 500).toISOString() });
    await until(async () => (await h.hearth.jobs.engine.broker.list(h.domain, { worker: 'notification', limit: 10 })).some((j) => j.state === 'errored'), 15_000);
    const job = (await h.hearth.jobs.engine.broker.list(h.domain, { worker: 'notification', limit: 10 })).find((j) => j.state === 'errored')!;
    expect(job.error).toMatch(/not a pending notification signed by this server/);
    expect((await h.req('GET', `/notifications/${id}`, { token: await h.cliToken('io.cozy.notifications:GET') })).status).toBe(404);
  });

  it('an "at" just past is delivered at once; the stack pushes its own system notifications', async () => {
    const r = await send({ category: 'system', title: 'Late a bit', at: new Date(Date.now() - 60_000).toISOString() });
    expect(r.status).toBe(201);
    expect(r.body.data.meta.channels).toEqual({ in_app: true, mail: true });
    const stack = await h.hearth.notifications.pushStack(h.instance, { title: 'From the stack' });
    expect('scheduledAt' in stack).toBe(false);
    expect(stack.doc).toMatchObject({ originator: 'stack', category: 'system', source_id: 'cozy/stack//system/' });
  });
});
