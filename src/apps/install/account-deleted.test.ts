/**
 * Deleting an io.cozy.accounts document through /data, as cozy-stack's account hook: the account's konnector triggers
 * go with it (the other accounts' stay), and its konnector's `on_delete_account` script runs once, with the account's
 * id and last revision and `account_deleted: true`, and reads the account at that revision (its credentials in clear for
 * that konnector only); a konnector without such a script gets no job. The kept copy goes once that job has ended, or
 * after a week.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { until } from '../../../test/helpers/jobs.js';
import { SOFT_DELETED_ACCOUNTS_DOCTYPE } from '../../jobs/sandbox/accounts.js';
import type { DocStore } from '../../data/store.js';
import { KEEP_COPY_MS } from './account-deleted.js';
import { finishKonnectorUninstall, type OnDeleteDeps } from './on-delete.js';

let h: TestHearth;
let pkgs: PackageServer;
let token: string;

beforeAll(async () => {
  h = await startTestHearth({ jobs: { konnectorsDir: null, appsDir: null, sandboxMemoryMb: 128, sandboxOutputBytes: 256 * 1024, eventSweepMs: 30_000 } });
  pkgs = await startPackageServer();
  token = await h.cliToken('io.cozy.konnectors io.cozy.accounts io.cozy.triggers:ALL:konnector:worker io.cozy.bills');
}, 60_000);
afterAll(async () => {
  await h.close();
  await pkgs.close();
});

async function installKonnector(slug: string, extra: Record<string, unknown>, files: Record<string, string>): Promise<void> {
  const manifest = { slug, type: 'konnector', version: '1.0.0', main: 'index.js', permissions: { bills: { type: 'io.cozy.bills' } }, ...extra };
  const url = await pkgs.add(`${slug}-${Date.now()}`, { 'manifest.konnector': manifest, 'package.json': '{"type":"module"}', 'index.js': '', ...files });
  expect((await h.req('POST', `/konnectors/${slug}?Source=${encodeURIComponent(url)}`, { token })).status).toBe(202);
  await until(async () => (await h.req('GET', `/konnectors/${slug}`, { token })).body?.data?.attributes?.state === 'ready', 30_000);
}

async function accountWithTrigger(slug: string, login: string): Promise<{ id: string; rev: string; trigger: string }> {
  const created = await h.req('POST', '/data/io.cozy.accounts/', { token, body: { account_type: slug, auth: { login, password: 'p' } } });
  expect(created.status).toBe(201);
  const trigger = await h.req('POST', '/jobs/triggers', {
    token, headers: { 'content-type': 'application/vnd.api+json' },
    body: { data: { attributes: { type: '@cron', arguments: '0 0 3 * * *', worker: 'konnector', message: { account: created.body.id, konnector: slug } } } },
  });
  expect(trigger.status).toBe(201);
  return { id: created.body.id, rev: created.body.rev, trigger: trigger.body.data.id };
}

/** The kept copy of a deleted account, or null. */
const keptCopy = (id: string) => h.hearth.storeOf(h.instance).get(SOFT_DELETED_ACCOUNTS_DOCTYPE, id).catch(() => null);
const triggerIds = async () => (await h.hearth.jobs.scheduler.list(h.domain, { workers: ['konnector'] })).map((t) => t._id).sort();
const deletedJobs = async () => (await h.hearth.jobs.engine.broker.list(h.domain, { worker: 'konnector', limit: 100 }))
  .filter((j) => (j.message as { account_deleted?: boolean }).account_deleted === true);

describe('a deleted account', () => {
  it('takes its triggers with it and runs its konnector\'s on_delete_account once', async () => {
    // the script reads the deleted account at its last revision (cozy-stack keeps it for that), then says what it saw
    // it waits for the test's go (a bill) so that the test reads the kept revision while the clean-up runs
    const script = `const f = JSON.parse(process.env.COZY_FIELDS);
const auth = { authorization: 'Bearer ' + process.env.COZY_CREDENTIALS };
for (let i = 0; i < 600 && !(await fetch(process.env.COZY_URL + '/data/io.cozy.bills/go', { headers: auth })).ok; i++) await new Promise((r) => setTimeout(r, 100));
const acc = await fetch(process.env.COZY_URL + '/data/io.cozy.accounts/' + f.account + '?rev=' + f.account_rev, { headers: auth });
const doc = acc.ok ? await acc.json() : {};
const res = await fetch(process.env.COZY_URL + '/data/io.cozy.bills/', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ cleaned_account: f.account, rev: f.account_rev, read: acc.status, login: doc.auth?.login, password: doc.auth?.password }) });
console.log(JSON.stringify({ type: res.ok ? 'info' : 'error', message: 'cleaned ' + res.status }));`;
    await installKonnector('tidy', { on_delete_account: 'ondelete.js', permissions: { bills: { type: 'io.cozy.bills' }, accounts: { type: 'io.cozy.accounts', verbs: ['GET'] } } }, { 'ondelete.js': script });
    const gone = await accountWithTrigger('tidy', 'ann');
    const kept = await accountWithTrigger('tidy', 'ben');
    expect(await triggerIds()).toEqual([gone.trigger, kept.trigger].sort());

    expect((await h.req('DELETE', `/data/io.cozy.accounts/${gone.id}?rev=${gone.rev}`, { token })).status).toBe(200);
    await until(async () => (await triggerIds()).length === 1, 20_000);
    expect(await triggerIds()).toEqual([kept.trigger]);
    await until(async () => (await deletedJobs()).some((j) => j.state === 'running'), 30_000);
    // while it runs, for anyone else the kept revision is as stored: sealed; another revision of it is not there
    const asStored = await h.req('GET', `/data/io.cozy.accounts/${gone.id}?rev=${gone.rev}`, { token });
    expect(asStored.status).toBe(200);
    expect(asStored.body.auth).toEqual({ login: 'ann', credentials_encrypted: expect.any(String) });
    expect((await h.req('GET', `/data/io.cozy.accounts/${gone.id}?rev=1-00000000000000000000000000000000`, { token })).status).toBe(404);
    expect((await h.req('PUT', '/data/io.cozy.bills/go', { token, body: {} })).status).toBeLessThan(300);
    await until(async () => (await deletedJobs()).some((j) => j.state === 'done' || j.state === 'errored'), 30_000);
    const jobs = await deletedJobs();
    expect(jobs.map((j) => ({ state: j.state, message: j.message }))).toEqual([
      { state: 'done', message: { account: gone.id, account_rev: gone.rev, konnector: 'tidy', account_deleted: true } },
    ]);
    const bills = await h.req('GET', '/data/io.cozy.bills/_all_docs?include_docs=true', { token });
    expect(bills.body.rows.map((r: { doc: Record<string, unknown> }) => r.doc).filter((d: Record<string, unknown>) => d.cleaned_account)).toEqual([
      expect.objectContaining({ cleaned_account: gone.id, rev: gone.rev, read: 200, login: 'ann', password: 'p' }),
    ]);
    // its job ended: the kept copy is gone, the old revision no longer readable
    await until(async () => (await keptCopy(gone.id)) === null, 20_000);
    expect((await h.req('GET', `/data/io.cozy.accounts/${gone.id}?rev=${gone.rev}`, { token })).status).toBe(404);
    expect((await h.req('GET', `/data/io.cozy.accounts/${gone.id}`, { token })).status).toBe(404);
  }, 90_000);

  it('sweeps the kept copies older than a week (their job never ended here) at the next deletion; younger ones stay', async () => {
    const store = h.hearth.storeOf(h.instance);
    const day = 24 * 3600_000;
    await store.put(SOFT_DELETED_ACCOUNTS_DOCTYPE, { _id: 'old-copy', account_type: 'tidy', soft_deleted_rev: '1-a', soft_deleted_at: new Date(Date.now() - KEEP_COPY_MS - day).toISOString() });
    await store.put(SOFT_DELETED_ACCOUNTS_DOCTYPE, { _id: 'undated-copy', account_type: 'tidy', soft_deleted_rev: '1-b' });
    await store.put(SOFT_DELETED_ACCOUNTS_DOCTYPE, { _id: 'young-copy', account_type: 'tidy', soft_deleted_rev: '1-c', soft_deleted_at: new Date(Date.now() - day).toISOString() });
    await installKonnector('sweeper', {}, {});
    const acc = await accountWithTrigger('sweeper', 'eve');
    expect((await h.req('DELETE', `/data/io.cozy.accounts/${acc.id}?rev=${acc.rev}`, { token })).status).toBe(200);
    await until(async () => (await keptCopy('old-copy')) === null && (await keptCopy('undated-copy')) === null, 20_000);
    expect(await keptCopy('young-copy')).toMatchObject({ soft_deleted_rev: '1-c' });
  }, 60_000);

  it('of a konnector without on_delete_account: its triggers go, no job runs', async () => {
    await installKonnector('plainer', {}, {});
    const before = (await deletedJobs()).length;
    const acc = await accountWithTrigger('plainer', 'cy');
    expect(await triggerIds()).toContain(acc.trigger);
    expect((await h.req('DELETE', `/data/io.cozy.accounts/${acc.id}?rev=${acc.rev}`, { token })).status).toBe(200);
    await until(async () => !(await triggerIds()).includes(acc.trigger), 20_000);
    expect((await deletedJobs()).length).toBe(before);
  }, 60_000);

  it('deleted by the uninstall of its konnector: on_delete_account runs once, not again for the deletion', async () => {
    await installKonnector('leaving', { on_delete_account: 'ondelete.js' }, { 'ondelete.js': 'console.log(JSON.stringify({ type: "info", message: "bye" }));' });
    const acc = await accountWithTrigger('leaving', 'dee');
    expect((await h.req('DELETE', '/konnectors/leaving', { token })).status).toBe(202);
    await until(async () => (await h.req('GET', '/konnectors/leaving', { token })).status === 404, 30_000);
    await until(async () => (await h.req('GET', `/data/io.cozy.accounts/${acc.id}`, { token })).status === 404, 30_000);
    // its trigger goes (the deletion was handled); a second job would be queued by then
    await until(async () => !(await triggerIds()).includes(acc.trigger), 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect((await deletedJobs()).filter((j) => (j.message as { account?: string }).account === acc.id)).toHaveLength(1);
  }, 90_000);

  const onceScript = `const f = JSON.parse(process.env.COZY_FIELDS);
const res = await fetch(process.env.COZY_URL + '/data/io.cozy.bills/', { method: 'POST', headers: { authorization: 'Bearer ' + process.env.COZY_CREDENTIALS, 'content-type': 'application/json' }, body: JSON.stringify({ once_for: f.account }) });
console.log(JSON.stringify({ type: res.ok ? 'info' : 'error', message: 'cleaned ' + res.status }));`;
  const deps = (): OnDeleteDeps => ({ storeOf: (i) => h.hearth.storeOf(i), engine: h.hearth.jobs.engine, installer: h.hearth.installer });
  /** The store of a run that stops at the second write of the konnector's doc: after its first job is queued, before it is recorded (as a kill -9 there would). */
  const cutAfterQueueing = (store: DocStore): DocStore => {
    let writes = 0;
    return new Proxy(store, {
      get(target, key) {
        if (key === 'put') return (doctype: string, doc: Parameters<DocStore['put']>[1]) => (doctype === 'io.cozy.konnectors' && ++writes === 2 ? Promise.reject(new Error('stopped here')) : target.put(doctype, doc));
        const v = Reflect.get(target, key, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
  const cleanedOnce = async (account: string) => (await h.req('GET', '/data/io.cozy.bills/_all_docs?include_docs=true', { token })).body.rows.filter((r: { doc: Record<string, unknown> }) => r.doc.once_for === account);

  it('deleted by an uninstall cut between queueing its on_delete_account and recording it: the next run takes that job, the script runs once', async () => {
    await installKonnector('onceonly', { on_delete_account: 'ondelete.js' }, { 'ondelete.js': onceScript });
    const acc = await accountWithTrigger('onceonly', 'fay');
    await expect(finishKonnectorUninstall({ ...deps(), storeOf: (i) => cutAfterQueueing(h.hearth.storeOf(i)) }, h.instance, 'onceonly', new AbortController().signal)).rejects.toThrow('stopped here');
    const mine = async () => (await deletedJobs()).filter((j) => (j.message as { account?: string }).account === acc.id);
    expect(await mine()).toHaveLength(1);
    // the job engine runs the uninstall job again: it waits for the queued job rather than queueing another
    await finishKonnectorUninstall(deps(), h.instance, 'onceonly', new AbortController().signal);
    expect((await h.req('GET', '/konnectors/onceonly', { token })).status).toBe(404);
    expect((await mine()).map((j) => j.state)).toEqual(['done']);
    expect(await cleanedOnce(acc.id)).toHaveLength(1);
  }, 90_000);

  it('cut there, then resumed after the housekeeping purged that ended job: the script is not run again', async () => {
    await installKonnector('purged', { on_delete_account: 'ondelete.js' }, { 'ondelete.js': onceScript });
    const acc = await accountWithTrigger('purged', 'gus');
    await expect(finishKonnectorUninstall({ ...deps(), storeOf: (i) => cutAfterQueueing(h.hearth.storeOf(i)) }, h.instance, 'purged', new AbortController().signal)).rejects.toThrow('stopped here');
    await until(async () => (await cleanedOnce(acc.id)).length === 1, 30_000);
    const mine = async () => (await deletedJobs()).filter((j) => (j.message as { account?: string }).account === acc.id);
    await until(async () => (await mine())[0]?.state === 'done', 30_000);
    // the stop lasted past the purge's delay: the record is that old, and the purge took the ended job
    const store = h.hearth.storeOf(h.instance);
    const doc = await store.get('io.cozy.konnectors', 'io.cozy.konnectors/purged');
    const recorded = doc.on_delete_account_jobs as { since: number };
    await store.put('io.cozy.konnectors', { ...doc, on_delete_account_jobs: { ...recorded, since: recorded.since - 31 * 24 * 3_600_000 } });
    expect(await h.hearth.jobs.engine.broker.purge(h.domain, Date.now() + 1000, ['konnector'])).toBeGreaterThan(0);
    expect(await mine()).toHaveLength(0);
    await finishKonnectorUninstall(deps(), h.instance, 'purged', new AbortController().signal);
    expect((await h.req('GET', '/konnectors/purged', { token })).status).toBe(404);
    expect(await mine()).toHaveLength(0);
    expect(await cleanedOnce(acc.id)).toHaveLength(1);
  }, 90_000);
});
