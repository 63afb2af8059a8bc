/**
 * An install writes its service triggers' io.cozy.triggers copies in its own commit (installer.ts `triggerCopy`): the
 * copy is there when the install ends, and the job mirror, finding it made, writes no new revision of it. A mirror
 * that copied the trigger first (the race the commit may lose) does not fail the install.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { InProcessLocks } from '../../common/locks.js';
import { triggerMirrorDoc } from '../../jobs/mirror.js';
import { TRIGGERS_DOCTYPE, type TriggerDoc } from '../../jobs/types.js';
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

const MANIFEST = { slug: 'copied', name: 'Copied', type: 'webapp', version: '1.0.0', permissions: { notes: { type: 'io.cozy.notes' } }, services: { watch: { type: 'node', file: 'watch.js', trigger: '@event io.cozy.notes:CREATED' } } };

describe("an install's trigger copies", () => {
  it('are written with the app doc, and the job mirror writes them no new revision', async () => {
    const { hearth } = h;
    const source = await pkgs.add('copied', { 'manifest.webapp': MANIFEST, 'index.html': '<html>copied</html>', 'watch.js': '' });
    const instance = await hearth.registry.create({ domain: 'copy.trigger.test' });
    expect((await (await hearth.installer.install(instance, 'webapp', 'copied', { source })).done).error).toBeNull();
    const store = hearth.storeOf(instance);
    const id = (await findApp(store, 'webapp', 'copied'))!.services!.watch!.trigger_id!;
    const copy = await store.get(TRIGGERS_DOCTYPE, id);
    expect(copy).toMatchObject({ _id: id, type: '@event', arguments: 'io.cozy.notes:CREATED', worker: 'service', message: { slug: 'copied', name: 'watch' } });
    await hearth.jobs.mirrored();
    expect((await store.get(TRIGGERS_DOCTYPE, id))._rev).toBe(copy._rev);
    expect(copy._rev).toMatch(/^1-/);
  });

  it('a copy the mirror made first does not fail the install', async () => {
    const { hearth } = h;
    const source = await pkgs.add('copied', { 'manifest.webapp': MANIFEST, 'index.html': '<html>copied</html>', 'watch.js': '' });
    const instance = await hearth.registry.create({ domain: 'race.trigger.test' });
    const scheduler = hearth.jobs.scheduler;
    // the trigger's copy written as soon as the trigger is, as a mirror round between the two commits would
    const triggers = {
      create: async (...a: Parameters<typeof scheduler.create>) => {
        const t = await scheduler.create(...a);
        await hearth.storeOf(instance).put(TRIGGERS_DOCTYPE, triggerMirrorDoc(t));
        return t;
      },
      delete: scheduler.delete.bind(scheduler), list: scheduler.list.bind(scheduler), sync: scheduler.sync.bind(scheduler),
    };
    const installer = new Installer({
      storeOf: hearth.storeOf, locks: new InProcessLocks(), perms: hearth.perms, triggers, skipPermissionsCheck: false,
      code: appCodeOf(hearth.appCode, { dev: true, limits: { maxEntries: 100, maxUnpackedBytes: 1e6 } }),
      triggerCopy: (t) => ({ doctype: TRIGGERS_DOCTYPE, doc: triggerMirrorDoc(t as TriggerDoc) }),
    });
    const out = await (await installer.install(instance, 'webapp', 'copied', { source })).done;
    expect(out.error).toBeNull();
    expect(out.doc).toMatchObject({ state: 'ready' });
    expect((await hearth.perms.appPermissions(instance, 'app', 'copied'))?.permissions).toMatchObject({ notes: { type: 'io.cozy.notes' } });
    const id = out.doc!.services!.watch!.trigger_id!;
    expect((await hearth.storeOf(instance).get(TRIGGERS_DOCTYPE, id))._rev).toMatch(/^1-/);
    await installer.close();
  });
});
