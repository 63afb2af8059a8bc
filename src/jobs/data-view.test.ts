/** Jobs and triggers read through /data (mirrored by the job system: jobs/mirror.ts), against a real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cozyClientNs from 'cozy-client';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { until } from '../../test/helpers/jobs.js';

// cozy-client is CommonJS: its class is `default` of module.exports, which the loader may or may not unwrap
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const cozyClient: any = cozyClientNs;
const CozyClient = typeof cozyClient.default === 'function' ? cozyClient.default : cozyClient.default.default;
const Q = cozyClient.Q ?? cozyClient.default.Q;

let h: TestHearth;
let reader: string;
beforeAll(async () => {
  h = await startTestHearth();
  reader = await h.cliToken('io.cozy.jobs:GET io.cozy.triggers:GET');
});
afterAll(() => h.close());

const get = (path: string, token = reader) => h.req('GET', path, { token });
/** Resolves with the document once /data serves it and `check` holds. */
async function mirrored(doctype: string, id: string, check: (doc: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
  let doc: Record<string, unknown> = {};
  await until(async () => {
    const res = await get(`/data/${doctype}/${id}`);
    doc = res.body;
    return res.status === 200 && check(doc);
  });
  return doc;
}

describe('/data/io.cozy.jobs and /data/io.cozy.triggers', () => {
  it('serve a job and a trigger in cozy-stack\'s document shapes, following the job to its end', async () => {
    const token = await h.cliToken('io.cozy.jobs:POST:log:worker');
    const queued = await h.req('POST', '/jobs/queue/log', { token, body: { data: { attributes: { arguments: 'hello' } } } });
    expect(queued.status).toBe(202);
    const job = await mirrored('io.cozy.jobs', queued.body.data.id, (d) => d.state === 'done');
    expect(job).toMatchObject({ _id: queued.body.data.id, _type: 'io.cozy.jobs', domain: h.domain, worker: 'log', message: 'hello', state: 'done', options: { max_exec_count: 1 } });
    expect(job._rev).toMatch(/^\d+-/);
    for (const at of ['queued_at', 'started_at', 'finished_at']) expect(Date.parse(String(job[at]))).toBeGreaterThan(Date.parse('2020-01-01'));
    for (const hidden of ['rights', 'instance_id', 'tries', 'arguments', 'error']) expect(job).not.toHaveProperty(hidden);

    const trigger = await h.hearth.jobs.scheduler.create(h.domain, { type: '@cron', arguments: '0 0 5 * * *', worker: 'konnector', message: { konnector: 'pajemploi', account: 'acc1' } });
    const doc = await mirrored('io.cozy.triggers', trigger._id);
    expect(doc).toMatchObject({
      _id: trigger._id, _type: 'io.cozy.triggers', domain: h.domain, type: '@cron', arguments: '0 0 5 * * *', worker: 'konnector', debounce: '',
      message: { konnector: 'pajemploi', account: 'acc1' },
    });
    // current_state is computed for /jobs/triggers, never stored (cozy-stack's omitempty)
    for (const hidden of ['rights', 'instance_id', 'current_state']) expect(doc).not.toHaveProperty(hidden);
    // deleted from the scheduler, deleted from /data
    await h.hearth.jobs.scheduler.delete(h.domain, trigger._id);
    await until(async () => (await get(`/data/io.cozy.triggers/${trigger._id}`)).status === 404);
  });

  it('list them in _all_docs, _normal_docs and _changes, whose longpoll wakes on a new job', async () => {
    const before = await get('/data/io.cozy.jobs/_changes?since=now');
    const since = before.body.last_seq as string;
    const poll = get(`/data/io.cozy.jobs/_changes?feed=longpoll&since=${since}&timeout=10000`);
    const job = await h.hearth.jobs.engine.push(h.domain, { worker: 'log', message: 'polled' });
    const changes = (await poll).body;
    expect(changes.results.map((r: { id: string }) => r.id)).toContain(job._id);
    await mirrored('io.cozy.jobs', job._id, (d) => d.state === 'done');
    const all = (await get('/data/io.cozy.jobs/_all_docs?include_docs=true')).body;
    expect(all.rows.find((r: { id: string }) => r.id === job._id).doc).toMatchObject({ worker: 'log', message: 'polled', state: 'done' });
    const normal = (await get('/data/io.cozy.jobs/_normal_docs?limit=100')).body;
    expect(normal.rows.map((d: { _id: string }) => d._id)).toContain(job._id);
    const feed = (await get(`/data/io.cozy.jobs/_changes?since=${since}&include_docs=true`)).body;
    const last = feed.results.filter((r: { id: string }) => r.id === job._id).at(-1);
    expect(last.seq).toEqual(expect.any(String));
    expect(last.doc.state).toBe('done');
  });

  it('answer the queries of cozy-home through cozy-client (Q on worker, message.konnector, message.account)', async () => {
    const sched = h.hearth.jobs.scheduler;
    const t1 = await sched.create(h.domain, { type: '@cron', arguments: '0 0 1 * * *', worker: 'konnector', message: { konnector: 'ameli', account: 'acc-ameli' } });
    const t2 = await sched.create(h.domain, { type: '@cron', arguments: '0 0 2 * * *', worker: 'konnector', message: { konnector: 'edf', account: 'acc-edf' } });
    const other = await sched.create(h.domain, { type: '@cron', arguments: '0 0 3 * * *', worker: 'log', message: 'not a konnector' });
    const j1 = await h.hearth.jobs.engine.push(h.domain, { worker: 'konnector', message: { konnector: 'ameli', account: 'acc-ameli' } });
    const j2 = await h.hearth.jobs.engine.push(h.domain, { worker: 'konnector', message: { konnector: 'edf', account: 'acc-edf' } });
    for (const t of [t1, t2, other]) await mirrored('io.cozy.triggers', t._id);
    for (const j of [j1, j2]) await mirrored('io.cozy.jobs', j._id);

    const client = new CozyClient({ uri: h.url, token: await h.cliToken('io.cozy.jobs:GET io.cozy.triggers:GET') });
    const ids = (res: { data: Array<{ _id: string }> }) => res.data.map((d) => d._id).sort();
    const konnectorTriggers = await client.query(Q('io.cozy.triggers').where({ worker: { $in: ['konnector', 'client'] } }).indexFields(['worker']));
    expect(ids(konnectorTriggers)).toEqual([t1._id, t2._id].sort());
    const ofAmeli = await client.query(Q('io.cozy.jobs').where({ worker: 'konnector', 'message.konnector': 'ameli' }).indexFields(['worker', 'message.konnector']));
    expect(ids(ofAmeli)).toEqual([j1._id]);
    const ofAccount = await client.query(Q('io.cozy.jobs').where({ 'message.account': 'acc-edf' }).indexFields(['message.account']));
    expect(ids(ofAccount)).toEqual([j2._id]);
    // an index is a read: a GET right defines one, on these read-only doctypes too (cozy-stack's defineIndex)
    const index = await h.req('POST', '/data/io.cozy.jobs/_index', { token: reader, body: { index: { fields: ['worker', 'state'] } } });
    expect(index.status).toBe(200);
    expect(index.body.result).toMatch(/created|exists/);
    const triggerOfAccount = await client.query(Q('io.cozy.triggers').where({ worker: 'konnector', 'message.account': 'acc-edf' }).indexFields(['worker', 'message.account']));
    expect(ids(triggerOfAccount)).toEqual([t2._id]);
  });

  it('publish no second io.cozy.jobs event for a mirrored job (realtime, metrics and triggers hear the engine\'s only); a trigger\'s mirroring publishes its own', async () => {
    const seen: Array<{ doctype: string; id: string; verb: string; doc: Record<string, unknown> }> = [];
    const stop = [h.hearth.bus.subscribe(h.domain, 'io.cozy.jobs', (e) => seen.push(e)), h.hearth.bus.subscribe(h.domain, 'io.cozy.triggers', (e) => seen.push(e))];
    const job = await h.hearth.jobs.engine.push(h.domain, { worker: 'log', message: 'once' });
    await mirrored('io.cozy.jobs', job._id, (d) => d.state === 'done');
    const trigger = await h.hearth.jobs.scheduler.create(h.domain, { type: '@cron', arguments: '0 0 6 * * *', worker: 'log', message: 'later' });
    await mirrored('io.cozy.triggers', trigger._id);
    // a write is readable once committed, and published once durable, a moment later
    await until(() => seen.some((e) => e.id === trigger._id));
    stop.forEach((unsubscribe) => unsubscribe());
    const ofJob = seen.filter((e) => e.id === job._id);
    expect(ofJob.map((e) => e.verb)).toEqual(['CREATED', 'UPDATED', 'UPDATED']);
    expect(ofJob.every((e) => e.doc._rev === undefined)).toBe(true);
    expect(seen.filter((e) => e.id === trigger._id).map((e) => [e.doctype, e.verb])).toEqual([['io.cozy.triggers', 'CREATED']]);
  });

  it('make a trigger change an io.cozy.triggers event, and a trigger\'s own runs none (no @event loop)', async () => {
    const sched = h.hearth.jobs.scheduler;
    const watcher = await sched.create(h.domain, { type: '@event', arguments: 'io.cozy.triggers', worker: 'log', message: 'a trigger changed' });
    await mirrored('io.cozy.triggers', watcher._id);
    const runs = async () => (await h.hearth.jobs.engine.broker.list(h.domain, { triggerId: watcher._id, limit: 100 })).filter((j) => j.state === 'done').length;
    // its own creation is the first change it sees
    await until(async () => (await runs()) === 1);
    const before = await runs();
    const created = await sched.create(h.domain, { type: '@cron', arguments: '0 0 7 * * *', worker: 'log', message: 'x' });
    await mirrored('io.cozy.triggers', created._id);
    await until(async () => (await runs()) === before + 1);
    // the watcher's run changed its own state: nothing in /data, so no event, so no second run
    await new Promise((r) => setTimeout(r, 600));
    expect(await runs()).toBe(before + 1);
    await sched.delete(h.domain, watcher._id);
  });

  it('refuse every write (403): jobs and triggers change through /jobs only', async () => {
    const owner = await h.cliToken('io.cozy.jobs io.cozy.triggers');
    const job = await h.hearth.jobs.engine.push(h.domain, { worker: 'log', message: 'ro' });
    const doc = await mirrored('io.cozy.jobs', job._id, (d) => d.state === 'done');
    for (const doctype of ['io.cozy.jobs', 'io.cozy.triggers']) {
      expect((await h.req('POST', `/data/${doctype}/`, { token: owner, body: { worker: 'log' } })).status).toBe(403);
      expect((await h.req('PUT', `/data/${doctype}/x1`, { token: owner, body: { worker: 'log' } })).status).toBe(403);
      expect((await h.req('POST', `/data/${doctype}/_bulk_docs`, { token: owner, body: { docs: [{ _id: 'x2', worker: 'log' }] } })).status).toBe(403);
    }
    expect((await h.req('PUT', `/data/io.cozy.jobs/${job._id}`, { token: owner, body: { ...doc, state: 'queued' } })).status).toBe(403);
    expect((await h.req('DELETE', `/data/io.cozy.jobs/${job._id}?rev=${String(doc._rev)}`, { token: owner })).status).toBe(403);
    expect((await mirrored('io.cozy.jobs', job._id)).state).toBe('done');
  });

  it('check rights as for any doctype: a rule on one worker reads its jobs only; another instance sees nothing', async () => {
    const logJob = await h.hearth.jobs.engine.push(h.domain, { worker: 'log', message: 'mine' });
    const konnJob = await h.hearth.jobs.engine.push(h.domain, { worker: 'konnector', message: { konnector: 'x' } });
    await mirrored('io.cozy.jobs', logJob._id);
    await mirrored('io.cozy.jobs', konnJob._id);
    const logOnly = await h.cliToken('io.cozy.jobs:GET:log:worker');
    expect((await get(`/data/io.cozy.jobs/${logJob._id}`, logOnly)).status).toBe(200);
    expect((await get(`/data/io.cozy.jobs/${konnJob._id}`, logOnly)).status).toBe(403);
    expect((await h.req('POST', '/data/io.cozy.jobs/_find', { token: logOnly, body: { selector: { worker: 'log' } } })).status).toBe(403);
    const contacts = await h.cliToken('io.cozy.contacts');
    expect((await get(`/data/io.cozy.jobs/${logJob._id}`, contacts)).status).toBe(403);
    expect((await get('/data/io.cozy.triggers/_all_docs', contacts)).status).toBe(403);
    const foreign = await h.cliToken('io.cozy.jobs', h.other);
    expect((await h.req('GET', `/data/io.cozy.jobs/${logJob._id}`, { token: foreign, host: h.otherDomain })).status).toBe(404);
    expect((await get(`/data/io.cozy.jobs/${logJob._id}`, foreign)).status).toBe(400);
  });
});
