/**
 * The install journal's two ends (apps/code/store.ts InstallIntent): installs, updates and uninstalls. An install
 * records its intent with its code reference in one commit (that a kill cannot lose; its flush carried by the documents'
 * on PostgreSQL, none on SQLite, where a machine crash is handled by reconcile.ts), then writes its triggers without waiting for the
 * disk, then its permission document and app doc (durable); `settle` drops the intent once the triggers are durable too
 * (one fsync of the triggers' database for all the installs that ended within SETTLE_MS). An update records its intent,
 * with what its undo restores, before its `upgrading` doc; an uninstall before it removes anything; each drops it at
 * its end. Each intent is its process's while that process lives (its owner renews a lease: apps/code/store.ts
 * claimIntents); once a process is gone, `recover` (at start, then now and then in every running process) takes each
 * intent it left, and only those, each in one process: an install whose app doc names its code is
 * finished (the triggers the doc names, lost with their unsynced commit, are made again with their ids), any other is
 * undone (its triggers, permission document, `installing` doc and code reference go), as a failed install is; an update
 * cut before its new doc was written goes back to the old version whole, one cut after is finished; an uninstall is
 * finished. An update or an uninstall that fails without a crash (an engine's error) is repaired at once by the same
 * rules, in the same process (`repair`), and tried again until it works while the engine still fails.
 */
import { crashPoint } from '../../common/crash-point.js';
import { Conflict } from '../../common/errors.js';
import type { Locks } from '../../common/locks.js';
import type { Doc, DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import { findApp } from '../repo.js';
import type { InstallIntent } from '../code/store.js';
import { KIND, type AppDoc, type AppKind, type AppState } from '../types.js';
import { repairTriggers, servicesOf, type ServiceTriggers } from './services.js';
import type { AppCode } from './types.js';

/** How long ended installs wait for the one fsync of the triggers' database that lets their intents go. */
const SETTLE_MS = 200;
/** A repair that failed is tried again after this, then after 4 times as long each time, up to RETRY_MAX_MS. */
const RETRY_MS = 250;
const RETRY_MAX_MS = 60_000;

export function appLockKey(instance: Instance, kind: AppKind, slug: string): string {
  return `apps/${instance.id}/${kind}/${slug}`;
}

export interface JournalDeps {
  storeOf(instance: Instance): DocStore;
  locks: Locks;
  perms: Pick<PermissionResolver, 'setAppPermissions'>;
  code: AppCode;
  triggers: ServiceTriggers;
}

/** What the undo of an update restores (its intent's `undo`): the state and the permission rules before it. */
export interface UpdateUndo { state: AppState; permissions: Record<string, unknown> | null }

export interface Recovered {
  finished: number; undone: number; triggersMade: number; triggersRemoved: number;
  /** Intents left for a later start: their app doc changed while this one resolved them (409: another process at work). */
  left: number;
}

export type Resolution = 'finished' | 'undone';

/** The instance of a domain and id (null: gone). */
type InstanceOf = (domain: string, id: string) => Promise<Instance | null>;

export class InstallJournal {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  /** The repairs to try again (their timers), and those running: close() waits for them. */
  private readonly retries = new Set<NodeJS.Timeout>();
  private readonly repairing = new Set<Promise<unknown>>();
  private closed = false;
  /** The next sweep for the intents of gone processes (recover). */
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: JournalDeps) {}

  /** The install of `id` is durable but for its triggers when `triggers`: its intent goes once they are too. */
  settle(id: string, triggers: boolean): void {
    if (!triggers) {
      this.deps.code.end([id]).catch(() => undefined); // kept: the next start finds the install whole
      return;
    }
    this.pending.push(id);
    this.timer ??= setTimeout(() => void this.flush(), SETTLE_MS);
  }

  private flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      if (!batch.length) return;
      await this.deps.triggers.sync();
      await this.deps.code.end(batch);
    }).catch(() => undefined); // intents kept: the next start finishes their installs again, which changes nothing
    return this.flushing;
  }

  /** Lets the intents of ended installs go (at stop), and stops sweeping; repairs still to try again are left to another process's sweep or the next start. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
    await Promise.allSettled([...this.repairing]);
    await this.flush();
  }

  /**
   * An operation of this process that failed (an exception, not a crash), its intent still there: finished or undone
   * at once, by the rules the next start would apply (resolve), and its intent dropped. `held`: the caller holds the
   * app's lock. `error`: what an undone update's doc keeps in its `error`. Resolves with what was done, or null when
   * the repair failed too (the engine still failing): it is then tried again under the app's lock, after RETRY_MS and
   * 4 times as long each next time, until it works or this process stops (the next start does it then).
   */
  async repair(instance: Instance, intent: InstallIntent, opts: { held?: boolean; error?: string } = {}): Promise<Resolution | null> {
    try {
      return await this.track(opts.held ? this.repairOnce(instance, intent, opts.error, true) : this.locked(instance, intent, opts.error, true));
    } catch {
      this.retry(instance, intent, opts.error, RETRY_MS);
      return null;
    }
  }

  /** `first`: no repair of this intent ran before (so a settled doc is the operation's own last write, not an undo's). */
  private locked(instance: Instance, intent: InstallIntent, error: string | undefined, first = false): Promise<Resolution> {
    return this.deps.locks.withLock(appLockKey(instance, intent.kind, intent.slug), () => this.repairOnce(instance, intent, error, first));
  }

  private async repairOnce(instance: Instance, intent: InstallIntent, error: string | undefined, first: boolean): Promise<Resolution> {
    const doc = await findApp(this.deps.storeOf(instance), intent.kind, intent.slug);
    const done = await this.resolve(instance, intent, doc, { finished: 0, undone: 0, triggersMade: 0, triggersRemoved: 0, left: 0 }, error, first);
    await this.deps.code.end([intent.id]);
    return done;
  }

  private retry(instance: Instance, intent: InstallIntent, error: string | undefined, delay: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      this.track(this.locked(instance, intent, error)).catch(() => this.retry(instance, intent, error, Math.min(delay * 4, RETRY_MAX_MS)));
    }, delay);
    timer.unref();
    this.retries.add(timer);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.repairing.add(work);
    void work.catch(() => undefined).finally(() => this.repairing.delete(work));
    return work;
  }

  /**
   * Finishes or undoes each operation whose process is gone, now, then every `sweepMs` or so until close(): an
   * operation's intent is its process's while that process renews it (apps/code/store.ts claimIntents), so a start
   * beside running processes (shared PostgreSQL) leaves their operations alone, and a process killed while this one runs
   * has its operations resolved once its lease ran out, without a restart; each by one process only. An intent whose app
   * doc another process writes meanwhile (a 409) is given back (`left`) for a later sweep. `instanceOf`: the instance
   * of a domain (null: gone). `onLater`: told what a later sweep did when it did something, or why it failed.
   */
  async recover(instanceOf: InstanceOf, onLater?: (r: Recovered | Error) => void): Promise<Recovered> {
    const out = await this.sweep(instanceOf);
    this.scheduleSweep(instanceOf, onLater);
    return out;
  }

  private scheduleSweep(instanceOf: InstanceOf, onLater?: (r: Recovered | Error) => void): void {
    if (this.closed) return;
    // a random offset: processes started together spread their sweeps out
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = null;
      // a sweep that failed (an engine away) gives its intents back: the next one takes them again
      void this.track(this.sweep(instanceOf))
        .then((r) => { if (r.finished + r.undone + r.left > 0) onLater?.(r); }, (e: unknown) => onLater?.(e instanceof Error ? e : new Error(String(e))))
        .finally(() => this.scheduleSweep(instanceOf, onLater));
    }, this.deps.code.sweepMs * (0.75 + Math.random() / 2));
    this.sweepTimer.unref();
  }

  private async sweep(instanceOf: InstanceOf): Promise<Recovered> {
    const out: Recovered = { finished: 0, undone: 0, triggersMade: 0, triggersRemoved: 0, left: 0 };
    const left: string[] = []; // given back once this sweep is over (a claim meanwhile would take them again)
    try {
      for (let batch = await this.deps.code.claim(); batch.length > 0; batch = await this.deps.code.claim()) {
        const ended: string[] = [];
        try {
          for (const intent of batch) (await this.resolveTaken(instanceOf, intent, out) ? ended : left).push(intent.id);
        } catch (e) {
          left.push(...batch.map((i) => i.id).filter((id) => !ended.includes(id) && !left.includes(id)));
          throw e;
        } finally {
          await this.deps.code.end(ended);
        }
      }
    } finally {
      if (left.length) await this.deps.code.letGo(left);
    }
    return out;
  }

  /** Resolves one intent taken from a gone process; false when left (a 409: another process wrote its app doc meanwhile). */
  private async resolveTaken(instanceOf: InstanceOf, intent: InstallIntent, out: Recovered): Promise<boolean> {
    const instance = await instanceOf(intent.domain, intent.instanceId);
    if (!instance) return true;
    return this.deps.locks.withLock(appLockKey(instance, intent.kind, intent.slug), async () => {
      const doc = await findApp(this.deps.storeOf(instance), intent.kind, intent.slug);
      out[await this.resolve(instance, intent, doc, out)]++;
      return true;
    }).catch((e: unknown) => {
      if (!(e instanceof Conflict)) throw e;
      out.left++;
      return false;
    });
  }

  /**
   * One operation left in flight, `doc` the app's doc now. An install whose doc is whole is finished, any other undone.
   * An update whose doc still says `upgrading` goes back to the version before (its doc, permissions, triggers, code);
   * one whose doc was written is finished (the old code's reference goes). An uninstall is finished, unless the doc
   * names other code since (then the app is left as its doc says). `error`: kept in the doc of an undone update.
   * `own`: a settled doc is the update's own last write (the first repair in its process: no undo ran), so the update
   * is finished even when that write kept the old code (the same version, or one waiting for the owner's approval);
   * otherwise a settled doc naming the old code may be an undo's, cut before its intent went, and is counted undone.
   */
  private async resolve(instance: Instance, intent: InstallIntent, doc: AppDoc | null, out: Recovered, error?: string, own = false): Promise<Resolution> {
    crashPoint('apps.journal.resolve');
    const { kind, slug } = intent;
    const settled = doc !== null && doc.state !== 'installing' && doc.state !== 'upgrading';
    if (intent.op === 'update' && doc?.state === 'upgrading') {
      const undo = JSON.parse(intent.undo ?? '{}') as Partial<UpdateUndo>;
      const back: AppDoc = { ...doc, state: undo.state === 'installed' ? 'installed' : 'ready', updated_at: new Date().toISOString(), ...(error !== undefined ? { error } : {}) };
      await this.deps.perms.setAppPermissions(instance, KIND[kind].permKind, slug, undo.permissions ?? null);
      await this.align(instance, kind, slug, back, out);
      await this.deps.storeOf(instance).put(KIND[kind].doctype, back as unknown as Doc);
      return 'undone';
    }
    const gone = intent.op === 'uninstall' ? !doc || (settled && doc.checksum === intent.sha256) : !settled;
    if (intent.op === 'update' && doc?.state === 'installing') return 'undone'; // a later install's: its own intent says
    await this.align(instance, kind, slug, gone ? null : doc, out);
    if (gone) {
      await this.deps.perms.setAppPermissions(instance, KIND[kind].permKind, slug, null);
      if (doc) await this.deps.storeOf(instance).put(KIND[kind].doctype, { _id: doc._id, _rev: doc._rev!, _deleted: true });
    }
    const same = doc?.checksum === intent.sha256;
    const finished = intent.op === 'uninstall' ? gone : !gone && (intent.op === 'install' ? same : own || !same);
    return finished ? 'finished' : 'undone';
  }

  /** Makes the app's service triggers those `doc` names (none without a doc) and its code references that of `doc`. */
  private async align(instance: Instance, kind: AppKind, slug: string, doc: AppDoc | null, out: Recovered): Promise<void> {
    if (kind === 'webapp') {
      const fixed = await repairTriggers(this.deps.triggers, instance, slug, doc ? servicesOf(doc.services) : {});
      out.triggersMade += fixed.made;
      out.triggersRemoved += fixed.removed;
    }
    for (const sha256 of await this.deps.code.held(instance, kind, slug)) {
      if (sha256 !== doc?.checksum) await this.deps.code.release(instance, kind, slug, sha256);
    }
  }
}
