/**
 * After a machine crash under the local code store (its `intentsLost`): an install's intent and code reference are
 * committed there without their fsync (apps/code/local-store.ts begin), its triggers in jobs.sqlite without theirs, and
 * its one durable write is the commit of its permission document and app doc in the instance's docs.sqlite. A killed
 * process loses none of those commits (the kernel has them) and the journal (journal.ts) finds every intent; a power
 * loss may lose any of the unsynced ones, in any combination, while the instance's commit stays or goes whole. The
 * app docs are then the truth, and every app of every instance is aligned with its doc, as the journal would have:
 * - a settled doc (ready, installed): its service triggers are those it names (made again with their ids when lost,
 *   others removed), and its code references that of its `checksum` only (restoreCodeRefs gives that one back: the
 *   store is `refsStale` too, so gc removes nothing until then);
 * - no doc, or one left `installing`: the install did not take effect and is undone (its triggers, permission document,
 *   doc and references go), whatever of it survived;
 * - `upgrading`: left to its update's intent, which is fsynced (journal.ts recover resolved it before this runs).
 * Uninstalls and updates keep their intents' fsync, so only installs need this. It reads every instance's database,
 * once, and only after a machine crash (the boot id changed under a store left open).
 */
import type { DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import type { AppCodeStore } from '../code/store.js';
import { appPages } from '../repo.js';
import { KIND, type AppDoc, type AppKind } from '../types.js';
import { repairTriggers, servicesOf, type ServiceTriggers } from './services.js';

export interface ReconcileDeps {
  store: AppCodeStore;
  storeOf(instance: Instance): DocStore;
  perms: Pick<PermissionResolver, 'setAppPermissions'>;
  triggers: ServiceTriggers;
}

export interface Reconciled { instances: number; undone: number; triggersMade: number; triggersRemoved: number; refsReleased: number; failed: number }

/** Aligns every app with its doc when the store lost intents (else does nothing); clears `intentsLost` once all went well. */
export async function reconcileLostIntents(deps: ReconcileDeps, instances: () => Promise<Instance[]>): Promise<Reconciled> {
  const out: Reconciled = { instances: 0, undone: 0, triggersMade: 0, triggersRemoved: 0, refsReleased: 0, failed: 0 };
  if (!deps.store.intentsLost) return out;
  for (const instance of await instances()) {
    try {
      await reconcileInstance(deps, instance, out);
      out.instances++;
    } catch {
      out.failed++; // intentsLost stays: the next start tries again
    }
  }
  if (out.failed === 0) await deps.store.intentsRecovered?.();
  return out;
}

async function reconcileInstance(deps: ReconcileDeps, instance: Instance, out: Reconciled): Promise<void> {
  const store = deps.storeOf(instance);
  const docs = new Map<string, AppDoc>();
  for (const kind of ['webapp', 'konnector'] as const) {
    for await (const page of appPages(store, kind)) for (const doc of page) docs.set(`${kind}/${doc.slug}`, doc);
  }
  const refs = await deps.store.refs({ instanceId: instance.id });
  const triggered = (await deps.triggers.list(instance.domain, { workers: ['service'] })).flatMap((t) => {
    const slug = (t.message as { slug?: unknown } | null)?.slug;
    return typeof slug === 'string' ? [`webapp/${slug}`] : [];
  });
  for (const key of new Set([...docs.keys(), ...refs.map((r) => `${r.kind}/${r.slug}`), ...triggered])) {
    const doc = docs.get(key) ?? null;
    if (doc?.state === 'upgrading') continue;
    const [kind, slug] = key.split('/') as [AppKind, string];
    const kept = doc && doc.state !== 'installing' ? doc : null;
    if (kind === 'webapp') {
      const fixed = await repairTriggers(deps.triggers, instance, slug, kept ? servicesOf(kept.services) : {});
      out.triggersMade += fixed.made;
      out.triggersRemoved += fixed.removed;
    }
    if (!kept) {
      await deps.perms.setAppPermissions(instance, KIND[kind].permKind, slug, null);
      if (doc) await store.put(KIND[kind].doctype, { _id: doc._id, _rev: doc._rev!, _deleted: true });
      out.undone++;
    }
    for (const ref of refs) {
      if (ref.kind === kind && ref.slug === slug && ref.sha256 !== kept?.checksum && (await deps.store.release(ref))) out.refsReleased++;
    }
  }
}
