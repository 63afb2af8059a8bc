/**
 * The recovery of installs in flight reads the journal's intents and their instances only (journal.ts): of several
 * instances with the app, the start after a crash opens the two that had an install in flight, undoes the one without
 * an app doc (its orphan trigger and its code reference go) and finishes the other (its lost trigger is made again).
 * Only the intents of gone processes are taken (apps/code/store.ts claimIntents): this process's own are left alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { until } from '../../../test/helpers/jobs.js';
import { Conflict } from '../../common/errors.js';
import { InProcessLocks } from '../../common/locks.js';
import type { DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import { findApp } from '../repo.js';
import { appCodeOf } from './code.js';
import { Installer } from './installer.js';

let h: TestHearth;
let pkgs: PackageServer;
beforeAll(async () => {
  h = await startTestHearth({ dev: true });
  pkgs = await startPackageServer();
});
afterAll(async () => {
  await h.close();
  await pkgs.close();
});

const MANIFEST = { slug: 'tidy', name: 'Tidy', type: 'webapp', version: '1.0.0', permissions: { notes: { type: 'io.cozy.notes' } }, services: { sweep: { type: 'node', file: 'sweep.js', trigger: '@cron 0 0 4 * * *' } } };

describe('the recovery of installs in flight', () => {
  it('opens only the instances of the intents left, undoing or finishing each', async () => {
    const { hearth } = h;
    const source = await pkgs.add('tidy', { 'manifest.webapp': MANIFEST, 'index.html': '<html>tidy</html>', 'sweep.js': '' });
    const instances: Instance[] = [];
    for (let i = 0; i < 4; i++) {
      const instance = await hearth.registry.create({ domain: `j${i}.journal.test` });
      if (i < 3) expect((await (await hearth.installer.install(instance, 'webapp', 'tidy', { source })).done).error).toBeNull();
      instances.push(instance);
    }
    await hearth.installer.close(); // the intents of these installs go now rather than within 200 ms
    const [, whole, , half] = instances as [Instance, Instance, Instance, Instance];
    const sha256 = (await findApp(hearth.storeOf(whole), 'webapp', 'tidy'))!.checksum;
    const code = appCodeOf(hearth.appCode, { dev: true, limits: { maxEntries: 100, maxUnpackedBytes: 1e6 } });
    // what two crashes left: an install killed after its trigger (no app doc), and one killed after its app doc
    // whose trigger's commit was lost
    const cut = [await code.begin(half, 'webapp', 'tidy', sha256)];
    const orphan = await hearth.jobs.scheduler.create(half.domain, { type: '@cron', arguments: '0 0 4 * * *', worker: 'service', message: { slug: 'tidy', name: 'sweep' } });
    cut.push(await code.begin(whole, 'webapp', 'tidy', sha256));
    // their process gone: this one no longer holds them (as the intents a killed process left)
    await code.letGo(cut);
    const lost = (await findApp(hearth.storeOf(whole), 'webapp', 'tidy'))!.services!.sweep!.trigger_id!;
    await hearth.jobs.scheduler.delete(whole.domain, lost);
    const opened = new Set<string>();
    const installer = new Installer({
      storeOf: (instance) => (opened.add(instance.domain), hearth.storeOf(instance)),
      locks: new InProcessLocks(),
      perms: hearth.perms, triggers: hearth.jobs.scheduler, skipPermissionsCheck: false, code,
    });
    const out = await installer.recoverInFlight(async (domain) => hearth.registry.get(domain));
    expect(out).toEqual({ finished: 1, undone: 1, triggersMade: 1, triggersRemoved: 1, left: 0 });
    expect([...opened].sort()).toEqual([whole.domain, half.domain].sort());
    expect(await code.inFlight()).toEqual([]);
    const slugTriggers = async (instance: Instance) => (await hearth.jobs.scheduler.list(instance.domain, {})).filter((t) => (t.message as { slug?: string }).slug === 'tidy').map((t) => t._id);
    expect(await slugTriggers(half)).not.toContain(orphan._id);
    expect(await slugTriggers(half)).toEqual([]);
    expect(await hearth.appCode.refs({ instanceId: half.id })).toEqual([]);
    expect(await hearth.perms.appPermissions(half, 'app', 'tidy')).toBeNull();
    expect(await slugTriggers(whole)).toEqual([lost]);
    expect(await hearth.appCode.refs({ instanceId: whole.id })).toEqual([{ instanceId: whole.id, kind: 'webapp', slug: 'tidy', sha256 }]);
    expect(await hearth.appCode.has(sha256)).toBe(true);
    await installer.close();
  });
  it("leaves an intent whose app doc another process writes meanwhile (409) to a later sweep, and the start goes on", async () => {
    const { hearth } = h;
    const source = await pkgs.add('busy', { 'manifest.webapp': { ...MANIFEST, slug: 'busy', services: {} }, 'index.html': '<html>busy</html>' });
    const instance = await hearth.registry.create({ domain: 'busy.journal.test' });
    expect((await (await hearth.installer.install(instance, 'webapp', 'busy', { source })).done).error).toBeNull();
    await hearth.installer.close();
    const doc = (await findApp(hearth.storeOf(instance), 'webapp', 'busy'))!;
    const code = appCodeOf(hearth.appCode, { dev: true, limits: { maxEntries: 100, maxUnpackedBytes: 1e6 } });
    // an update a gone process left: its intent, its doc in `upgrading`
    await code.letGo([await code.begin(instance, 'webapp', 'busy', doc.checksum, 'update', JSON.stringify({ state: 'ready', permissions: null }))]);
    await hearth.storeOf(instance).put('io.cozy.apps', { ...doc, state: 'upgrading', updated_at: new Date(Date.now() - 60_000).toISOString() } as never);
    // whose next write lands between this recovery's read and its write
    let race = true;
    const racing = (store: DocStore): DocStore => new Proxy(store, {
      get: (target, key, receiver) => key === 'put'
        ? async (doctype: string, d: { _id: string }) => {
          if (race && doctype === 'io.cozy.apps' && d._id === doc._id) throw new Conflict();
          return target.put(doctype, d as never);
        }
        : Reflect.get(target, key, receiver),
    });
    // sweeping often, so that this test sees the sweep after the start
    const installer = new Installer({
      storeOf: (i) => racing(hearth.storeOf(i)), locks: new InProcessLocks(),
      perms: hearth.perms, triggers: hearth.jobs.scheduler, skipPermissionsCheck: false, code: { ...code, sweepMs: 40 },
    });
    const later: unknown[] = [];
    const out = await installer.recoverInFlight(async (domain) => hearth.registry.get(domain), (r) => later.push(r));
    expect(out).toMatchObject({ finished: 0, undone: 0, left: 1 });
    expect((await code.inFlight()).map((i) => i.slug)).toEqual(['busy']); // given back, for a later sweep
    // which takes it again, and is told to the caller: one more 409 first, then (the doc no longer racing) the old
    // version put back
    await until(() => later.length > 0);
    expect(later[0]).toMatchObject({ finished: 0, undone: 0, left: 1 });
    race = false;
    await until(() => later.some((r) => (r as { undone?: number }).undone === 1));
    // sweeps between the two (a loaded machine) met the race again; none failed, and the last put the version back
    for (const r of later.slice(0, -1)) expect(r).toMatchObject({ finished: 0, undone: 0, left: 1 });
    expect(later.at(-1)).toMatchObject({ undone: 1, left: 0 });
    expect(await code.inFlight()).toEqual([]);
    expect((await findApp(hearth.storeOf(instance), 'webapp', 'busy'))!.state).toBe('ready');
    await installer.close();
  });
  it('leaves alone the intents of an operation this process runs (they are its own, whatever their age)', async () => {
    const { hearth } = h;
    const instance = await hearth.registry.create({ domain: 'own.journal.test' });
    const code = appCodeOf(hearth.appCode, { dev: true, limits: { maxEntries: 100, maxUnpackedBytes: 1e6 } });
    const id = await code.begin(instance, 'webapp', 'mine', 'a'.repeat(64), 'uninstall');
    const installer = new Installer({ storeOf: (i) => hearth.storeOf(i), locks: new InProcessLocks(), perms: hearth.perms, triggers: hearth.jobs.scheduler, skipPermissionsCheck: false, code });
    expect(await installer.recoverInFlight(async (domain) => hearth.registry.get(domain))).toMatchObject({ finished: 0, undone: 0, left: 0 });
    expect((await code.inFlight()).map((i) => i.id)).toContain(id);
    await installer.close();
    await code.end([id]);
  });
});
