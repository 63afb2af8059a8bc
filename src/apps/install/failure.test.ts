/**
 * Updates and uninstalls that fail without a crash (an engine's error at the points the kill -9 tests crash at, made
 * to throw by armFailPoint): in the same process, at once, the journal's rules apply (journal.ts repair). An update
 * that failed after its new permissions and triggers is undone whole (the old version's doc with the error, its
 * permissions, its triggers with their ids, only its code referenced, the new code removed); one that failed after its
 * new doc is finished; an uninstall that failed midway is finished. When the repair fails too, it is tried again until
 * it works. No intent is left. In the default project (SQLite) and in postgres-state (the intents in
 * hearth.app_installs, the documents and triggers on PostgreSQL).
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { appState, type AppState } from '../../../test/helpers/app-state.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { until } from '../../../test/helpers/jobs.js';
import { armFailPoint } from '../../common/crash-point.js';

let h: TestHearth;
let pkgs: PackageServer;
let token: string;
beforeAll(async () => {
  [h, pkgs] = await Promise.all([startTestHearth(), startPackageServer()]);
  token = await h.cliToken('io.cozy.apps');
});
afterAll(async () => {
  await Promise.all([h?.close(), pkgs?.close()]);
});

const notes = { type: 'io.cozy.notes' };
const keep = { type: 'node', file: 'keep.js', trigger: '@cron 0 0 5 * * *' };
const v1 = (slug: string) => ({ slug, type: 'webapp', version: '1.0.0', permissions: { notes }, services: { tidy: { type: 'node', file: 'tidy.js', trigger: '@cron 0 0 3 * * *' }, keep } });
// tidy's trigger changes (the old one goes, a new one is made), keep's stays; a permission is added (acked)
const v2 = (slug: string) => ({ ...v1(slug), version: '2.0.0', permissions: { notes, contacts: { type: 'io.cozy.contacts' } }, services: { tidy: { type: 'node', file: 'tidy.js', trigger: '@cron 0 30 3 * * *' }, keep } });
const files = (manifest: object) => ({ 'manifest.webapp': manifest, 'index.html': '<html></html>', 'tidy.js': '', 'keep.js': '' });

const state = (slug: string) => appState(h.hearth, h.instance, slug);

/** Installs version 1 of `slug`; returns its state and the sources of versions 1 and 2. */
async function installed(slug: string): Promise<{ before: AppState; first: string; next: string }> {
  const [first, next] = [await pkgs.add(`${slug}-1`, files(v1(slug))), await pkgs.add(`${slug}-2`, files(v2(slug)))];
  expect((await (await h.hearth.installer.install(h.instance, 'webapp', slug, { source: first })).done).error).toBeNull();
  await until(async () => (await state(slug)).inFlight === 0, 10_000); // the install's intent goes once its trigger is durable
  const before = await state(slug);
  expect(before).toMatchObject({ doc: { state: 'ready', version: '1.0.0' }, inFlight: 0 });
  expect(Object.keys(before.triggers)).toHaveLength(2);
  return { before, first, next };
}

/** The update to `next` through the API with its progress (SSE): the text of its events. */
async function update(slug: string, next: string): Promise<string> {
  const res = await h.req('PUT', `/apps/${slug}?Source=${encodeURIComponent(next)}&PermissionsAcked=true`, { token, headers: { accept: 'text/event-stream' } });
  expect(res.status).toBe(200);
  return res.text;
}

/** Arms the fail point `name` for `times` failures, disarmed at the test's end. */
function failAt(name: string, times = 1): void {
  onTestFinished(armFailPoint(name, times));
}

describe('an update that fails', () => {
  it('after its new permissions and triggers, is undone at once: the old version whole, the error told and kept', async () => {
    const { before, next } = await installed('mender');
    failAt('apps.update.applied');
    expect(await update('mender', next)).toMatch(/event: error\r\ndata: "the update of mender failed \(injected failure at apps\.update\.applied\): it was undone, mender is back to version 1\.0\.0"/);
    const after = await state('mender');
    expect(after).toEqual(before); // doc, permissions, both triggers with their ids, only the old code, no intent
    expect((await h.req('GET', '/apps/mender', { token })).body.data.attributes).toMatchObject({ state: 'ready', version: '1.0.0', error: 'injected failure at apps.update.applied' });
    // the new version's code went with its reference
    const stored = await h.hearth.appCode.refs({});
    expect(stored.filter((r) => r.slug === 'mender').map((r) => r.sha256)).toEqual([before.doc!.checksum]);
  });

  it('after its new doc, is finished at once: the new version ready, only its code referenced', async () => {
    const { before, next } = await installed('fixer');
    failAt('apps.update.written');
    const events = await update('fixer', next);
    expect(events).not.toMatch(/event: error/);
    const after = await state('fixer');
    expect(after).toMatchObject({ doc: { state: 'ready', version: '2.0.0' }, permissions: v2('fixer').permissions, inFlight: 0 });
    expect(after.refs).toEqual([after.doc!.checksum]);
    expect(await h.hearth.appCode.has(before.doc!.checksum)).toBe(false);
    const services = after.doc!.services as Record<string, { trigger_id: string }>;
    expect(after.triggers).toEqual({ [services.tidy!.trigger_id]: '0 30 3 * * *', [services.keep!.trigger_id]: '0 0 5 * * *' });
  });

  it('at its last step (its intent ended), after a same-version update took effect, succeeds', async () => {
    const { before, first } = await installed('keeper');
    failAt('apps.update.ended');
    expect(await update('keeper', first)).not.toMatch(/event: error/);
    const after = await state('keeper');
    expect(after).toEqual(before);
    expect((await h.req('GET', '/apps/keeper', { token })).body.data.attributes).toMatchObject({ state: 'ready', version: '1.0.0', source: first });
  });

  it('at its last step, after an update waiting for the approval of its permissions was recorded, succeeds', async () => {
    const { before, next } = await installed('asker');
    failAt('apps.update.ended');
    const res = await h.req('PUT', `/apps/asker?Source=${encodeURIComponent(next)}`, { token, headers: { accept: 'text/event-stream' } });
    expect(res.text).not.toMatch(/event: error/);
    expect(await state('asker')).toEqual(before); // the new code's reference went too
    expect((await h.req('GET', '/apps/asker', { token })).body.data.attributes).toMatchObject({ state: 'ready', version: '1.0.0', available_version: '2.0.0' });
  });

  it('whose undo fails too, is undone by the retry', async () => {
    const { before, next } = await installed('patcher');
    failAt('apps.update.applied');
    failAt('apps.journal.resolve');
    expect(await update('patcher', next)).toMatch(/event: error\r\ndata: "the update of patcher failed \(injected failure at apps\.update\.applied\) and could not be undone yet: it is retried in the background"/);
    await until(async () => (await state('patcher')).inFlight === 0, 10_000);
    expect(await state('patcher')).toEqual(before);
  });
});

describe('an uninstall that fails midway', () => {
  it('is finished at once: no doc, permission document, trigger, code reference or intent left', async () => {
    await installed('parting');
    failAt('apps.uninstall.triggers');
    const res = await h.req('DELETE', '/apps/parting', { token });
    expect(res.status).toBe(200);
    expect(await state('parting')).toEqual({ doc: null, permissions: undefined, triggers: {}, refs: [], inFlight: 0 });
  });

  it('whose finishing fails too, answers 503 and is finished by the retry', async () => {
    await installed('leaving');
    failAt('apps.uninstall.triggers');
    failAt('apps.journal.resolve');
    const res = await h.req('DELETE', '/apps/leaving', { token });
    expect(res.status).toBe(503);
    expect(res.body.errors[0]).toMatchObject({ status: '503', title: 'service_unavailable', detail: expect.stringContaining('leaving was not uninstalled whole (injected failure at apps.uninstall.triggers)') });
    await until(async () => (await state('leaving')).inFlight === 0, 10_000);
    expect(await state('leaving')).toEqual({ doc: null, permissions: undefined, triggers: {}, refs: [], inFlight: 0 });
  });
});
