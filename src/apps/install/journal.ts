/**
 * The install journal's two ends (apps/code/store.ts InstallIntent): installs, updates and uninstalls. An install
 * records its intent with its code reference in one durable commit, then writes its triggers without waiting for the
 * disk, then its permission document and app doc (durable); `settle` drops the intent once the triggers are durable too
 * (one fsync of the triggers' database for all the installs that ended within SETTLE_MS). An update records its intent,
 * with what its undo restores, before its `upgrading` doc; an uninstall before it removes anything; each drops it at
 * its end. After a crash, `recover` takes each intent left, and only those: an install whose app doc names its code is
 * finished (the triggers the doc names, lost with their unsynced commit, are made again with their ids), any other is
 * undone (its triggers, permission document, `installing` doc and code reference go), as a failed install is; an update
 * cut before its new doc was written goes back to the old version whole, one cut after is finished; an uninstall is
 * finished.
 */
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

export interface Recovered { finished: number; undone: number; triggersMade: number; triggersRemoved: number }

export class InstallJournal {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

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

  /** Lets the intents of ended installs go (at stop). */
  close(): Promise<void> {
    return this.flush();
  }

  /**
   * Finishes or undoes each operation a stop left in flight. `before`: the start of this process (an `installing` or
   * `upgrading` doc written since is an operation of this process, left alone). `instanceOf`: the instance of a domain
   * (null: gone).
   */
  async recover(instanceOf: (domain: string, id: string) => Promise<Instance | null>, before: Date): Promise<Recovered> {
    const out: Recovered = { finished: 0, undone: 0, triggersMade: 0, triggersRemoved: 0 };
    const ended: string[] = [];
    for (const intent of await this.deps.code.inFlight()) {
      const instance = await instanceOf(intent.domain, intent.instanceId);
      if (instance) {
        const done = await this.deps.locks.withLock(appLockKey(instance, intent.kind, intent.slug), async () => {
          const doc = await findApp(this.deps.storeOf(instance), intent.kind, intent.slug);
          if ((doc?.state === 'installing' || doc?.state === 'upgrading') && Date.parse(doc.updated_at) >= before.getTime()) return false; // this process's
          out[await this.resolve(instance, intent, doc, out)]++;
          return true;
        });
        if (!done) continue;
      }
      ended.push(intent.id);
    }
    await this.deps.code.end(ended);
    return out;
  }

  /**
   * One operation left in flight, `doc` the app's doc now. An install whose doc is whole is finished, any other undone.
   * An update whose doc still says `upgrading` goes back to the version before (its doc, permissions, triggers, code);
   * one whose doc was written is finished (the old code's reference goes). An uninstall is finished, unless the doc
   * names other code since (then the app is left as its doc says).
   */
  private async resolve(instance: Instance, intent: InstallIntent, doc: AppDoc | null, out: Recovered): Promise<'finished' | 'undone'> {
    const { kind, slug } = intent;
    const settled = doc !== null && doc.state !== 'installing' && doc.state !== 'upgrading';
    if (intent.op === 'update' && doc?.state === 'upgrading') {
      const undo = JSON.parse(intent.undo ?? '{}') as Partial<UpdateUndo>;
      const back: AppDoc = { ...doc, state: undo.state === 'installed' ? 'installed' : 'ready', updated_at: new Date().toISOString() };
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
    const finished = intent.op === 'uninstall' ? gone : !gone && (intent.op === 'install') === (doc!.checksum === intent.sha256);
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
