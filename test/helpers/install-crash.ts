/**
 * The install crash scenario (src/apps/install/install-crash*.test.ts), on the engines of `env` (TEST_PG_URL set: the
 * documents, jobs and code index on that PostgreSQL, test/helpers/engines.ts): one server start per crash point, each
 * killed there, each next start in the test's process (createHearth recovers before it returns), which reads the
 * result through the server's own interfaces.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { expect } from 'vitest';
import type { Instance } from '../../src/instances/types.js';
import { findApp } from '../../src/apps/repo.js';
import { createHearth, type Hearth } from '../../src/server/compose.js';
import type { PackageServer } from './app-packages.js';
import { crashChain } from './crash.js';
import { rawRequest, testConfig } from './hearth.js';
import { freePort } from './ports.js';

const MANIFEST = { slug: 'sturdy', name: 'Sturdy', type: 'webapp', version: '1.0.0', permissions: { notes: { type: 'io.cozy.notes' } }, services: { tidy: { type: 'node', file: 'tidy.js', trigger: '@cron 0 0 3 * * *' } } };

export interface InstallCrashWorld {
  dataDir: string;
  instanceId: string;
  /** A Hearth of the test's process on the data directory (the start after a crash). */
  open(): Promise<Hearth>;
  /** Runs `fn` on a Hearth of the test's process, closed after. */
  with<T>(fn: (hearth: Hearth, instance: Instance) => Promise<T>): Promise<T>;
  /** Starts the server (spawned ahead), asks for the install of stored code, and waits for it to die at the next crash point. */
  installUntil(point: string): Promise<void>;
  /** Ends a server spawned and not used. */
  close(): void;
}

/**
 * The code stored by an install on another instance, the instance `localhost:<port>` made, and its CLI token; the
 * servers to kill at `points` (in this order) spawned one after the other, each ahead of its turn (crash.ts crashChain).
 */
export async function installCrashWorld(pkgs: PackageServer, dataDir: string, points: string[], env: NodeJS.ProcessEnv = {}): Promise<InstallCrashWorld> {
  const port = await freePort();
  const domain = `localhost:${port}`;
  const chain = crashChain(dataDir, port, points, env);
  const url = await pkgs.add('sturdy', { 'manifest.webapp': MANIFEST, 'index.html': '<html>sturdy</html>', 'tidy.js': '' });
  // with its sha256, so that an install of stored code knows it
  const source = `${url}#${createHash('sha256').update(readFileSync(join(pkgs.dir, 'sturdy.tar.gz'))).digest('hex')}`;
  const open = () => createHearth(testConfig(dataDir), pino({ level: 'silent' }));
  const withHearth = async <T>(fn: (hearth: Hearth, instance: Instance) => Promise<T>): Promise<T> => {
    const hearth = await open();
    try {
      return await fn(hearth, (await hearth.registry.get(domain)) ?? (await hearth.registry.create({ domain })));
    } finally {
      await hearth.close();
    }
  };
  const { token, instanceId } = await withHearth(async (hearth, instance) => {
    const other = await hearth.registry.create({ domain: 'other.crash.test' });
    expect((await (await hearth.installer.install(other, 'webapp', 'sturdy', { source })).done).error).toBeNull();
    return { instanceId: instance.id, token: await hearth.tokens.issue(instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.apps' }) };
  });
  return {
    dataDir, instanceId, open, with: withHearth, close: () => chain.close(),
    installUntil: (point) => {
      expect(point).toBe(points.shift());
      return chain.next((s) => rawRequest(s.port, 'POST', `/apps/sturdy?Source=${encodeURIComponent(source)}`, { host: s.domain, token }));
    },
  };
}

/** What the instance holds of sturdy: its doc's state, its permission rules, its service triggers, its code references; and the intents left. */
export async function sturdyOn(hearth: Hearth, instance: Instance) {
  const doc = await findApp(hearth.storeOf(instance), 'webapp', 'sturdy');
  const triggers = (await hearth.jobs.scheduler.list(instance.domain, { workers: ['service'] })).filter((t) => (t.message as { slug?: string }).slug === 'sturdy');
  return {
    state: doc?.state ?? null,
    triggerIds: Object.values((doc?.services ?? {}) as Record<string, { trigger_id?: string }>).map((s) => s.trigger_id),
    permissions: (await hearth.perms.appPermissions(instance, 'app', 'sturdy'))?.permissions ?? null,
    triggers: triggers.map((t) => [t._id, t.type, t.arguments]),
    refs: (await hearth.appCode.refs({ instanceId: instance.id })).map((r) => r.slug),
    inFlight: (await hearth.appCode.inFlight()).length,
  };
}

/** What a crash before the app doc leaves after the next start: nothing (no doc, permission document, trigger, reference, intent). */
export const UNDONE = { state: null, triggerIds: [], permissions: null, triggers: [], refs: [], inFlight: 0 };

/** The install whole: `ready`, its permission document, the trigger its doc names (`id`). */
export const finished = (id: string) => ({ state: 'ready', triggerIds: [id], permissions: MANIFEST.permissions, triggers: [[id, '@cron', '0 0 3 * * *']], refs: ['sturdy'], inFlight: 0 });
