/**
 * An update across kill -9 (installer.ts, journal.ts): its intent, with the permission rules and state before it, is
 * durable before its `upgrading` doc. Killed after its new triggers, permission document and the removal of the stale
 * trigger, before the new doc, the next start puts the old version back whole (doc, permissions, the stale trigger with
 * its id, no new trigger, only the old code referenced); killed after the new doc, before the old code's reference went,
 * the next start finishes it (only the new code referenced, the old one removed). One server start per crash point;
 * each next start runs in the test's process (createHearth recovers before it returns).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { appState } from '../../../test/helpers/app-state.js';
import { crashChain } from '../../../test/helpers/crash.js';
import { rawRequest, testConfig } from '../../../test/helpers/hearth.js';
import { freePort } from '../../../test/helpers/ports.js';
import { createHearth, type Hearth } from '../../server/compose.js';
import type { Instance } from '../../instances/types.js';

let pkgs: PackageServer;
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-crash-update-'));
beforeAll(async () => {
  pkgs = await startPackageServer();
});
afterAll(async () => {
  await pkgs.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const notes = { type: 'io.cozy.notes' };
const keep = { type: 'node', file: 'keep.js', trigger: '@cron 0 0 5 * * *' };
const V1 = { slug: 'mender', type: 'webapp', version: '1.0.0', permissions: { notes }, services: { tidy: { type: 'node', file: 'tidy.js', trigger: '@cron 0 0 3 * * *' }, keep } };
// the trigger of tidy changes (the old one goes, a new one is made), keep's stays; a permission is added (acked)
const V2 = { ...V1, version: '2.0.0', permissions: { notes, contacts: { type: 'io.cozy.contacts' } }, services: { tidy: { type: 'node', file: 'tidy.js', trigger: '@cron 0 30 3 * * *' }, keep } };
const files = (manifest: object) => ({ 'manifest.webapp': manifest, 'index.html': '<html>mender</html>', 'tidy.js': '', 'keep.js': '' });

const open = () => createHearth(testConfig(dataDir), pino({ level: 'silent' }));

const state = (hearth: Hearth, instance: Instance) => appState(hearth, instance, 'mender');

describe('an update across a crash', () => {
  it('is undone, the old version whole, when killed before its new doc, and finished when killed after it', async () => {
    const port = await freePort();
    const domain = `localhost:${port}`;
    const chain = crashChain(dataDir, port, ['apps.update.applied', 'apps.update.written']); // each server loads while the test works
    onTestFinished(() => chain.close());
    const [v1, v2] = [await pkgs.add('mender-1', files(V1)), await pkgs.add('mender-2', files(V2))];
    let hearth = await open();
    let before: Awaited<ReturnType<typeof state>>;
    let token: string;
    try {
      const instance = await hearth.registry.create({ domain });
      expect((await (await hearth.installer.install(instance, 'webapp', 'mender', { source: v1 })).done).error).toBeNull();
      token = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.apps' });
      await hearth.installer.close(); // the install's intent goes now rather than within 200 ms
      before = await state(hearth, instance);
    } finally {
      await hearth.close();
    }
    expect(before).toMatchObject({ doc: { state: 'ready', version: '1.0.0' }, permissions: V1.permissions, inFlight: 0 });
    expect(Object.values(before.triggers).sort()).toEqual(['0 0 3 * * *', '0 0 5 * * *']);
    const update = (s: { port: number; domain: string }) => rawRequest(s.port, 'PUT', `/apps/mender?Source=${encodeURIComponent(v2)}&PermissionsAcked=true`, { host: s.domain, token });

    // killed after the new triggers, the new permissions and the removal of tidy's old trigger, before the new doc
    await chain.next(update);
    hearth = await open();
    try {
      expect(await state(hearth, (await hearth.registry.get(domain))!)).toEqual(before);
    } finally {
      await hearth.close();
    }

    // killed after the new doc, before the old code's reference went
    await chain.next(update);
    hearth = await open();
    try {
      const after = await state(hearth, (await hearth.registry.get(domain))!);
      expect(after.doc).toMatchObject({ state: 'ready', version: '2.0.0' });
      expect(after.doc!.checksum).not.toBe(before.doc!.checksum);
      expect(after.permissions).toEqual(V2.permissions);
      const services = after.doc!.services as Record<string, { trigger_id: string }>;
      const beforeServices = before.doc!.services as Record<string, { trigger_id: string }>;
      expect(services.keep!.trigger_id).toBe(beforeServices.keep!.trigger_id);
      expect(after.triggers).toEqual({ [services.tidy!.trigger_id]: '0 30 3 * * *', [services.keep!.trigger_id]: '0 0 5 * * *' });
      expect(after.refs).toEqual([after.doc!.checksum]);
      expect(after.inFlight).toBe(0);
      expect(await hearth.appCode.has(before.doc!.checksum)).toBe(false);
    } finally {
      await hearth.close();
    }
  }, 120_000);
});
