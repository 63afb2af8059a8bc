/**
 * A job acts with the rights of the token that queued it (or created its trigger): a token limited to one folder
 * cannot make the zip or unzip worker read or write outside it, while its direct requests there are 403.
 */
import type { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { mkdir, ROOT, upload } from '../../../test/helpers/files.js';
import { until } from '../../../test/helpers/jobs.js';

let h: TestHearth;
let owner: string;
let scoped: string;
let mine: string;
let other: string;
let secret: string;
let own: string;
let otherZip: string;
let mineZip: string;
/** What the io.cozy.jobs events (realtime subscribers get them) carried. */
const published: Array<Record<string, unknown>> = [];

async function zipOf(entries: Record<string, string>): Promise<Buffer> {
  const z = new ZipFile();
  for (const [name, text] of Object.entries(entries)) z.addBuffer(Buffer.from(text), name);
  z.end();
  return Buffer.concat(await (z.outputStream as Readable).toArray());
}

/** Queues a job with the scoped token and waits for its end; returns the job's attributes. */
async function runJob(worker: string, args: unknown): Promise<Record<string, unknown>> {
  const res = await h.req('POST', `/jobs/queue/${worker}`, { token: scoped, body: { data: { attributes: { arguments: args } } } });
  expect(res.status, res.text).toBe(202);
  return endOf(res.body.data.id as string);
}

async function endOf(id: string): Promise<Record<string, unknown>> {
  let attrs: Record<string, unknown> = {};
  await until(async () => {
    attrs = (await h.req('GET', `/jobs/${id}`, { token: owner })).body.data.attributes;
    return attrs.state === 'done' || attrs.state === 'errored';
  }, 10_000);
  return attrs;
}

const exists = async (path: string) => (await h.req('GET', `/files/metadata?Path=${encodeURIComponent(path)}`, { token: owner })).status === 200;

beforeAll(async () => {
  h = await startTestHearth();
  h.hearth.bus.subscribe('*', 'io.cozy.jobs', (e) => published.push(e.doc));
  owner = await h.cliToken('io.cozy.files io.cozy.jobs io.cozy.triggers');
  mine = (await mkdir(h, owner, ROOT, 'mine')).id;
  other = (await mkdir(h, owner, ROOT, 'other')).id;
  secret = (await upload(h, owner, other, 'secret.txt', 'the secret')).id;
  own = (await upload(h, owner, mine, 'own.txt', 'my own')).id;
  otherZip = (await upload(h, owner, other, 'theirs.zip', await zipOf({ 'inside.txt': 'not for the token' }))).id;
  mineZip = (await upload(h, owner, mine, 'mine.zip', await zipOf({ 'a.txt': 'alpha', 'sub/b.txt': 'beta' }))).id;
  scoped = await h.cliToken(`io.cozy.files:ALL:${mine} io.cozy.jobs:POST:zip:worker io.cozy.jobs:POST:unzip:worker io.cozy.triggers:POST:zip:worker`);
});
afterAll(() => h.close());

describe('jobs act with the rights of the token that queued them', () => {
  it('refuses the direct requests the tests below try through the workers', async () => {
    expect((await h.req('GET', `/files/download/${secret}`, { token: scoped })).status).toBe(403);
    expect((await h.req('POST', `/files/${other}?Type=file&Name=x.txt`, { token: scoped, raw: 'x' })).status).toBe(403);
  });

  it('zip: packs only files the token may read, into a folder where it may write', async () => {
    const stolen = await runJob('zip', { files: { 'secret.txt': secret }, dir_id: mine, filename: 'stolen.zip' });
    expect(stolen.state).toBe('errored');
    expect(String(stolen.error)).toMatch(/no GET right/);
    expect(await exists('/mine/stolen.zip')).toBe(false);
    const outside = await runJob('zip', { files: { 'own.txt': own }, dir_id: other, filename: 'dropped.zip' });
    expect(outside.state).toBe('errored');
    expect(String(outside.error)).toMatch(/no POST right/);
    expect(await exists('/other/dropped.zip')).toBe(false);
    const fine = await runJob('zip', { files: { 'own.txt': own }, dir_id: mine, filename: 'fine.zip' });
    expect(fine).toMatchObject({ state: 'done' });
    expect(await exists('/mine/fine.zip')).toBe(true);
  });

  it('unzip: reads only an archive the token may read, and extracts only where it may write', async () => {
    const outside = await runJob('unzip', { zip: mineZip, destination: other });
    expect(outside.state).toBe('errored');
    expect(String(outside.error)).toMatch(/no POST right/);
    expect(await exists('/other/a.txt')).toBe(false);
    expect(await exists('/other/sub')).toBe(false);
    const theirs = await runJob('unzip', { zip: otherZip, destination: mine });
    expect(theirs.state).toBe('errored');
    expect(await exists('/mine/inside.txt')).toBe(false);
    const out = (await mkdir(h, scoped, mine, 'out')).id;
    expect(await runJob('unzip', { zip: mineZip, destination: out })).toMatchObject({ state: 'done' });
    expect(await exists('/mine/out/sub/b.txt')).toBe(true);
  });

  it('a trigger\'s jobs act with the rights of the token that created it', async () => {
    const body = { data: { attributes: { type: '@webhook', worker: 'zip', message: { files: { 'secret.txt': secret }, dir_id: mine, filename: 'hooked.zip' } } } };
    const created = await h.req('POST', '/jobs/triggers', { token: scoped, body });
    expect(created.status, created.text).toBe(201);
    expect(created.body.data.attributes.rights).toBeUndefined();
    expect((await h.req('POST', `/jobs/webhooks/${created.body.data.id}`, { raw: '' })).status).toBe(204);
    let job: Record<string, unknown> = {};
    await until(async () => {
      job = (await h.req('GET', `/jobs/triggers/${created.body.data.id}/jobs`, { token: owner })).body.data?.[0] ?? {};
      return job.id !== undefined;
    });
    const end = await endOf(String(job.id));
    expect(end.state).toBe('errored');
    expect(end.rights).toBeUndefined();
    expect(await exists('/mine/hooked.zip')).toBe(false);
  });

  it('acts with the rights the token\'s app has when the job runs, not those it had when the trigger was made', async () => {
    const scope = (files: string) => `${files} io.cozy.triggers:POST:zip:worker io.cozy.jobs:POST:zip:worker`;
    await h.hearth.perms.grantApp(h.instance, 'zipper', scope('io.cozy.files'));
    const app = await h.hearth.appToken(h.instance, 'zipper');
    const headers = { cookie: `cozysessid=${app.session_cookie}` };
    const hook = async (filename: string) => {
      const body = { data: { attributes: { type: '@webhook', worker: 'zip', message: { files: { 'secret.txt': secret }, dir_id: mine, filename } } } };
      const created = await h.req('POST', '/jobs/triggers', { token: app.token, headers, body });
      expect(created.status, created.text).toBe(201);
      return created.body.data.id as string;
    };
    const fire = async (id: string) => {
      expect((await h.req('POST', `/jobs/webhooks/${id}`, { raw: '' })).status).toBe(204);
      let job: Record<string, unknown> = {};
      await until(async () => (job = (await h.req('GET', `/jobs/triggers/${id}/jobs`, { token: owner })).body.data?.[0] ?? {}).id !== undefined);
      return endOf(String(job.id));
    };
    const before = await hook('before.zip');
    const after = await hook('after.zip');
    expect(await fire(before)).toMatchObject({ state: 'done' });
    expect(await exists('/mine/before.zip')).toBe(true);
    // the app's rights are narrowed to one folder: its trigger's next job cannot read the secret any more
    await h.hearth.perms.grantApp(h.instance, 'zipper', scope(`io.cozy.files:ALL:${mine}`));
    const refused = await fire(after);
    expect(refused.state).toBe('errored');
    expect(String(refused.error)).toMatch(/no GET right/);
    expect(await exists('/mine/after.zip')).toBe(false);
  });

  it('a trigger changed by another token acts with that token\'s rights', async () => {
    const wide = await h.cliToken('io.cozy.files io.cozy.triggers:ALL:zip:worker');
    const body = { data: { attributes: { type: '@webhook', worker: 'zip', message: { files: { 'own.txt': own }, dir_id: mine, filename: 'patched.zip' } } } };
    const id = (await h.req('POST', '/jobs/triggers', { token: wide, body })).body.data.id as string;
    const patcher = await h.cliToken(`io.cozy.files:ALL:${mine} io.cozy.triggers:PATCH:zip:worker`);
    const patch = { data: { attributes: { message: { files: { 'secret.txt': secret }, dir_id: mine, filename: 'patched.zip' } } } };
    expect((await h.req('PATCH', `/jobs/triggers/${id}`, { token: patcher, body: patch })).status).toBe(200);
    expect((await h.req('POST', `/jobs/webhooks/${id}`, { raw: '' })).status).toBe(204);
    let job: Record<string, unknown> = {};
    await until(async () => (job = (await h.req('GET', `/jobs/triggers/${id}/jobs`, { token: owner })).body.data?.[0] ?? {}).id !== undefined);
    expect(await endOf(String(job.id))).toMatchObject({ state: 'errored' });
    expect(await exists('/mine/patched.zip')).toBe(false);
  });

  it('never serves the rights kept with a job, nor its instance\'s id, in the io.cozy.jobs events', () => {
    expect(published.length).toBeGreaterThan(10);
    expect(published.filter((d) => 'rights' in d || 'instance_id' in d)).toEqual([]);
  });
});
