/**
 * Install intents on a PostgreSQL shared by several compositions (apps/code/shared-store.ts owners and leases,
 * journal.ts recover): an update held in the middle of its download (its intent and `upgrading` doc written, no lock
 * held) is left alone by a composition that starts meanwhile and by that one's sweeps, and then ends well; once its
 * owner stops renewing its lease (as a killed process would), another composition's sweep undoes it, without a restart.
 * Two compositions for both tests (each start on PostgreSQL costs seconds on a busy machine): the second starts during
 * the first test's held update.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { testConfig } from '../../../test/helpers/hearth.js';
import { startPostgres, type PgServer } from '../../../test/helpers/servers/postgres.js';
import { DEFAULTS } from '../../config/schema.js';
import type { Instance } from '../../instances/types.js';
import { createHearth, type Hearth } from '../../server/compose.js';
import { findApp } from '../repo.js';

/** Short leases, so that a stopped owner's intents are taken within a second. */
const LEASE_SECONDS = 0.6;
const MANIFEST = { slug: 'leasy', name: 'Leasy', type: 'webapp', version: '1.0.0', permissions: { notes: { type: 'io.cozy.notes' } } };

let pkgs: PackageServer;
let pg: PgServer;
const dirs: string[] = [];
const hearths: Hearth[] = [];
let a: Hearth;
let b: Hearth;
beforeAll(async () => {
  [pkgs, pg] = await Promise.all([startPackageServer(), startPostgres()]);
  a = await compose();
}, 60_000);
afterAll(async () => {
  for (const h of hearths) await h.close();
  await Promise.all([pkgs?.close(), pg?.stop()]);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A composition of its own (its own data directory, in-process locks) on the shared database. */
async function compose(): Promise<Hearth> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-intent-lease-'));
  dirs.push(dir);
  const config = testConfig(dir, { docs: { ...DEFAULTS.docs, engine: 'postgres', url: pg.url, poolSize: 4 } });
  config.apps = { ...config.apps, intentLeaseSeconds: LEASE_SECONDS };
  const hearth = await createHearth(config, pino({ level: 'silent' }));
  hearths.push(hearth);
  return hearth;
}

/** v1 installed on a new instance through `a`, then an update to v2 started there and held in its download. */
async function heldUpdate(domain: string) {
  const instance = await a.registry.create({ domain });
  const v1 = await pkgs.add(`leasy-1-${domain}`, { 'manifest.webapp': MANIFEST, 'index.html': `<html>${domain} 1</html>` });
  const v2 = await pkgs.add(`leasy-2-${domain}`, { 'manifest.webapp': { ...MANIFEST, version: '2.0.0' }, 'index.html': `<html>${domain} 2</html>` });
  expect((await (await a.installer.install(instance, 'webapp', 'leasy', { source: v1 })).done).error).toBeNull();
  let release!: () => void;
  pkgs.hold = new Promise<void>((r) => (release = r));
  onTestFinished(() => release());
  const op = await a.installer.update(instance, 'webapp', 'leasy', { source: v2 });
  const intents = async () => (await a.appCode.inFlight()).filter((i) => i.instanceId === instance.id).map((i) => i.op);
  expect(await intents()).toEqual(['update']);
  return {
    instance, op, intents,
    release() {
      pkgs.hold = null;
      release();
    },
  };
}

const leasy = async (h: Hearth, instance: Instance) => {
  const doc = await findApp(h.storeOf(instance), 'webapp', 'leasy');
  return { state: doc?.state, version: doc?.version };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('install intents on a shared PostgreSQL', () => {
  it('a composition started during another\'s update leaves it alone, and the update ends well', async () => {
    const held = await heldUpdate('busy.lease.test');
    b = await compose();
    // b's start, and its sweeps over three leases: a renews its lease meanwhile
    await sleep(3 * LEASE_SECONDS * 1000);
    expect(await leasy(b, held.instance)).toEqual({ state: 'upgrading', version: '1.0.0' });
    expect(await held.intents()).toEqual(['update']);
    held.release();
    expect((await held.op.done).error).toBeNull();
    expect(await leasy(b, held.instance)).toEqual({ state: 'ready', version: '2.0.0' });
    expect(await held.intents()).toEqual([]);
    expect((await b.appCode.refs({ instanceId: held.instance.id })).map((r) => r.slug)).toEqual(['leasy']);
  }, 30_000);

  it('an update whose owner stopped renewing is undone by another composition\'s sweep, without a restart', async () => {
    const held = await heldUpdate('gone.lease.test');
    // a's renewals stop, as a killed process's would (its store closed: it renews no more)
    await a.appCode.close();
    // b's sweep takes the intent once its lease ran out, and puts v1 back (one taker among several: shared-store.test.ts)
    await expect.poll(() => held.intents(), { timeout: 10_000, interval: 100 }).toEqual([]);
    expect(await leasy(b, held.instance)).toEqual({ state: 'ready', version: '1.0.0' });
    expect(await b.perms.appPermissions(held.instance, 'app', 'leasy')).toMatchObject({ permissions: MANIFEST.permissions });
    const refs = await b.appCode.refs({ instanceId: held.instance.id });
    expect(refs.map((r) => r.sha256)).toEqual([(await findApp(b.storeOf(held.instance), 'webapp', 'leasy'))!.checksum]);
    held.release();
    await held.op.done;
  }, 30_000);
});
