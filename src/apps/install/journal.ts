/**
 * The install journal's two ends (apps/code/store.ts InstallIntent). An install records its intent with its code
 * reference in one durable commit, then writes its triggers without waiting for the disk, then its permission document
 * and app doc (durable); `settle` drops the intent once the triggers are durable too (one fsync of the triggers'
 * database for all the installs that ended within SETTLE_MS). After a crash, `recover` takes each intent left, and only
 * those: an install whose app doc names its code is finished (the triggers the doc names, lost with their unsynced
 * commit, are made again with their ids), any other is undone (its triggers, permission document, `installing` doc and
 * code reference go), as a failed install is.
 */
import type { Locks } from '../../common/locks.js';
import type { DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import { findApp } from '../repo.js';
import { KIND, type AppKind } from '../types.js';
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
   * Finishes or undoes each install a stop left in flight. `before`: the start of this process (an `installing` doc
   * written since is an operation of this process, left alone). `instanceOf`: the instance of a domain (null: gone).
   */
  async recover(instanceOf: (domain: string, id: string) => Promise<Instance | null>, before: Date): Promise<Recovered> {
    const out: Recovered = { finished: 0, undone: 0, triggersMade: 0, triggersRemoved: 0 };
    const ended: string[] = [];
    for (const intent of await this.deps.code.inFlight()) {
      const instance = await instanceOf(intent.domain, intent.instanceId);
      if (instance) {
        const { kind, slug } = intent;
        const done = await this.deps.locks.withLock(appLockKey(instance, kind, slug), async () => {
          const store = this.deps.storeOf(instance);
          const doc = await findApp(store, kind, slug);
          if (doc?.state === 'installing' && Date.parse(doc.updated_at) >= before.getTime()) return false; // this process's
          const whole = doc !== null && doc.state !== 'installing';
          const fixed = await repairTriggers(this.deps.triggers, instance, slug, whole ? servicesOf(doc.services) : {});
          out.triggersMade += fixed.made;
          out.triggersRemoved += fixed.removed;
          if (!whole) {
            await this.deps.perms.setAppPermissions(instance, KIND[kind].permKind, slug, null);
            if (doc) await store.put(KIND[kind].doctype, { _id: doc._id, _rev: doc._rev!, _deleted: true });
          }
          if (doc?.checksum !== intent.sha256 || !whole) await this.deps.code.release(instance, kind, slug, intent.sha256);
          if (whole && doc.checksum === intent.sha256) out.finished++;
          else out.undone++;
          return true;
        });
        if (!done) continue;
      }
      ended.push(intent.id);
    }
    await this.deps.code.end(ended);
    return out;
  }
}
