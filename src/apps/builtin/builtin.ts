/**
 * The built-in apps on every instance (issue 15): the apps of the built-in registry (`apps.builtinRegistry`,
 * src/apps/registry/builtin.ts) are installed on each new instance, and at each start every instance gets those it lacks
 * and the newer builds of those it has, through the installer (the same permission documents, code store and locks as
 * any install). The default app (`home`) goes first. An app the owner uninstalled is not put back (state.ts remembers
 * which built-in apps an instance had). A start whose built-in set did not change reads one row per instance and opens
 * no instance database; the work runs in the background, a few instances at a time, and a stop in the middle is
 * finished by the next start (an install cut short is undone, then done again).
 */
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import type { Instance, InstanceRegistry } from '../../instances/types.js';
import { LocalRegistry } from '../registry/local.js';
import { channelOf, compareVersions } from '../registry/versions.js';
import type { AppDoc, AppKind } from '../types.js';
import type { Installer } from '../install/installer.js';
import type { BuiltinStateStore } from './state.js';

export interface BuiltinApp {
  slug: string;
  kind: AppKind;
  version: string;
  created_at: string;
  sha256: string;
}

export interface BuiltinLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface BuiltinDeps {
  /** The built-in registry's folder, or null (none: nothing is installed). */
  dir: string | null;
  state: BuiltinStateStore;
  installer: Pick<Installer, 'install' | 'update' | 'recoverInterrupted'>;
  registry: Pick<InstanceRegistry, 'page'>;
  logger: BuiltinLogger;
  /** The slug installed first (the default redirection's app). */
  first: string;
  /** When this process started: an operation left `installing` before then was cut short by a stop. */
  startedAt: Date;
  /** Instances worked on at once by `upgradeAll` (default 2). */
  concurrency?: number;
}

/** What `ensure` did on one instance. */
export interface EnsureResult {
  installed: string[];
  updated: string[];
  /** Whether every built-in app is now as it should be (else the next start tries again). */
  complete: boolean;
}

const PAGE = 500;

/** Whether the installed `doc` is an older build of `app`: a newer version, or the same version rebuilt. */
export function outdated(doc: AppDoc, app: BuiltinApp): boolean {
  if (!doc.source.startsWith('registry://')) return false;
  if (doc.version === app.version) return doc.checksum !== app.sha256;
  return channelOf(doc.version) !== null && compareVersions(app, { version: doc.version, created_at: doc.updated_at }) > 0;
}

export class BuiltinApps {
  private catalogue: Promise<{ apps: BuiltinApp[]; fingerprint: string }> | null = null;
  /** The operation under way on each instance (one at a time per instance). */
  private readonly running = new Map<string, Promise<EnsureResult>>();
  private closed = false;

  constructor(private readonly deps: BuiltinDeps) {}

  /** The built-in apps (the latest stable version of each slug of the folder), the first one first, and their fingerprint. */
  apps(): Promise<{ apps: BuiltinApp[]; fingerprint: string }> {
    this.catalogue ??= (async () => {
      if (!this.deps.dir) return { apps: [], fingerprint: '' };
      const page = await new LocalRegistry(pathToFileURL(this.deps.dir).href).list({ limit: 1000, latestChannelVersion: 'stable' });
      const apps = page.data.flatMap((a): BuiltinApp[] => {
        const v = a.latest_version;
        return v ? [{ slug: a.slug, kind: v.type, version: v.version, created_at: v.created_at, sha256: v.sha256 }] : [];
      });
      apps.sort((a, b) => Number(b.slug === this.deps.first) - Number(a.slug === this.deps.first) || a.slug.localeCompare(b.slug));
      const fingerprint = apps.length ? createHash('sha256').update(JSON.stringify(apps)).digest('hex') : '';
      return { apps, fingerprint };
    })();
    return this.catalogue;
  }

  /** Brings one instance's built-in apps up to date (after the operation already under way on it, if any). */
  ensure(instance: Instance): Promise<EnsureResult> {
    const before = this.running.get(instance.id) ?? Promise.resolve(null);
    const mine = before.catch(() => null).then(() => this.ensureNow(instance));
    this.running.set(instance.id, mine);
    void mine.finally(() => {
      if (this.running.get(instance.id) === mine) this.running.delete(instance.id);
    }).catch(() => undefined);
    return mine;
  }

  /** `ensure` in the background (a new instance): the outcome is logged. */
  schedule(instance: Instance): void {
    if (this.closed || !this.deps.dir) return;
    this.ensure(instance).catch((e: unknown) => this.deps.logger.warn({ domain: instance.domain, err: String(e) }, 'the built-in apps could not be installed'));
  }

  private async ensureNow(instance: Instance): Promise<EnsureResult> {
    const result: EnsureResult = { installed: [], updated: [], complete: true };
    const { apps, fingerprint } = await this.apps();
    const row = await this.deps.state.get(instance.id);
    if (!fingerprint || row?.fingerprint === fingerprint) return result;
    const seen = new Set(row?.seen ?? []);
    for (const app of apps) {
      if (this.closed) {
        result.complete = false;
        break;
      }
      try {
        const done = await this.ensureApp(instance, app, seen.has(app.slug));
        if (done === 'busy') result.complete = false;
        else if (done !== 'absent') {
          if (done !== 'current') result[done].push(app.slug);
          seen.add(app.slug);
          await this.deps.state.set(instance.id, { fingerprint: '', seen: [...seen] });
        }
      } catch (e) {
        result.complete = false;
        this.deps.logger.warn({ domain: instance.domain, slug: app.slug, err: e instanceof Error ? e.message : String(e) }, 'a built-in app could not be installed or updated: the next start tries again');
      }
    }
    await this.deps.state.set(instance.id, { fingerprint: result.complete ? fingerprint : '', seen: [...seen] });
    return result;
  }

  private async ensureApp(instance: Instance, app: BuiltinApp, seen: boolean): Promise<'installed' | 'updated' | 'current' | 'absent' | 'busy'> {
    const { installer } = this.deps;
    const doc = await installer.recoverInterrupted(instance, app.kind, app.slug, this.deps.startedAt);
    if (!doc) {
      if (seen) return 'absent'; // the owner uninstalled it
      const outcome = await (await installer.install(instance, app.kind, app.slug, { source: `registry://${app.slug}/stable` })).done;
      if (outcome.error) throw outcome.error;
      return 'installed';
    }
    if (doc.state === 'installing' || doc.state === 'upgrading') return 'busy';
    if (!outdated(doc, app)) return 'current';
    // the built-in apps ship with Hearth: their new permissions were accepted with the upgrade of Hearth itself
    const outcome = await (await installer.update(instance, app.kind, app.slug, { permissionsAcked: true })).done;
    if (outcome.error) throw outcome.error;
    return 'updated';
  }

  /**
   * Every instance's built-in apps brought up to date, `concurrency` instances at a time (a start runs it in the
   * background once listening). Instances whose row says the current set was applied cost one SQLite read.
   */
  async upgradeAll(): Promise<{ instances: number; changed: number; incomplete: number; ms: number }> {
    const started = performance.now();
    const stats = { instances: 0, changed: 0, incomplete: 0, ms: 0 };
    const { fingerprint } = await this.apps();
    if (!fingerprint) return stats;
    let after: string | undefined;
    for (;;) {
      const page = await this.deps.registry.page({ limit: PAGE, ...(after === undefined ? {} : { after }) });
      const rows = await this.deps.state.many(page.map((i) => i.id));
      const todo = page.filter((i) => rows.get(i.id)?.fingerprint !== fingerprint);
      stats.instances += page.length;
      let next = 0;
      const worker = async () => {
        while (next < todo.length && !this.closed) {
          const instance = todo[next++]!;
          const r = await this.ensure(instance).catch(() => ({ installed: [], updated: [], complete: false }));
          if (r.installed.length || r.updated.length) stats.changed++;
          if (!r.complete) stats.incomplete++;
        }
      };
      await Promise.all(Array.from({ length: this.deps.concurrency ?? 2 }, worker));
      if (page.length < PAGE || this.closed) break;
      after = page[page.length - 1]!.domain;
    }
    stats.ms = performance.now() - started;
    if (stats.changed || stats.incomplete) this.deps.logger.info({ ...stats, ms: Math.round(stats.ms) }, 'built-in apps installed and updated');
    return stats;
  }

  /** Stops taking new work, and waits for the operations under way. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running.values()].map((p) => p.catch(() => undefined)));
  }
}
