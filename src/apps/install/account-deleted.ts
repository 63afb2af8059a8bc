/**
 * What happens when an io.cozy.accounts document is deleted, as cozy-stack's hook does (model/account/accounts.go,
 * the EventDelete hook): the konnector triggers of that account are deleted, and when the account's konnector
 * (`account_type`) is installed with an `on_delete_account` script, a konnector job
 * `{account, account_rev, konnector, account_deleted: true}` runs it (the konnector cleans the account on its
 * service), reading the account at that revision (kept in io.cozy.accounts.soft_deleted). A deletion marked `manual_cleaning: true` (the uninstall of a konnector, on-delete.ts, which ran
 * `on_delete_account` before deleting) loses its triggers but queues no job: the same end as cozy-stack's
 * CleanAndWait, which deletes those triggers itself.
 *
 * The kept copy is deleted once its `on_delete_account` job has ended (done, or errored for good), when this process
 * sees that job end; copies older than KEEP_COPY_MS (their job ran elsewhere, or never ended) are swept at each
 * account deletion of the instance.
 */
import type { Logger } from 'pino';
import type { DocEvent, EventBus, Unsubscribe } from '../../common/bus.js';
import { Conflict, NotFound } from '../../common/errors.js';
import type { DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { JobEngine } from '../../jobs/engine.js';
import type { Scheduler } from '../../jobs/scheduler.js';
import { findApp } from '../repo.js';
import { SOFT_DELETED_ACCOUNTS_DOCTYPE } from '../../jobs/sandbox/accounts.js';
import { JOBS_DOCTYPE } from '../../jobs/types.js';
import { ACCOUNTS_DOCTYPE } from './on-delete.js';

/** How long a deleted account's kept copy may wait for its `on_delete_account` job at most. */
export const KEEP_COPY_MS = 7 * 24 * 3600_000;

export interface AccountDeletedDeps {
  bus: EventBus;
  /** The instance that has this domain now (null once destroyed). */
  instanceOf(domain: string): Promise<Instance | null>;
  storeOf(instance: Instance): DocStore;
  scheduler: Pick<Scheduler, 'list' | 'delete'>;
  engine: Pick<JobEngine, 'push'>;
  logger?: Pick<Logger, 'warn'>;
  /** The clock (ms), for the age of the kept copies. */
  now?: () => number;
}

const missing = (e: unknown) => {
  if (e instanceof NotFound) return null;
  throw e;
};

/** Deletes the kept copies of deleted accounts older than KEEP_COPY_MS (or with no date: kept before they had one). */
async function sweepCopies(store: DocStore, now: number): Promise<void> {
  const { docs } = await store.find(SOFT_DELETED_ACCOUNTS_DOCTYPE, { selector: {}, fields: ['_id', '_rev', 'soft_deleted_at'], limit: 1000, skip: 0 });
  const old = docs.filter((d) => !(Date.parse(String(d.soft_deleted_at)) > now - KEEP_COPY_MS));
  for (const d of old) await store.put(SOFT_DELETED_ACCOUNTS_DOCTYPE, { _id: String(d._id), _rev: String(d._rev), _deleted: true }).catch(missing);
}

/** Deletes the kept copy of the account `id` at revision `rev` (its `on_delete_account` job has ended). */
export async function dropCopy(store: DocStore, id: string, rev: string): Promise<void> {
  const kept = await store.get(SOFT_DELETED_ACCOUNTS_DOCTYPE, id).catch(missing);
  if (!kept || kept.soft_deleted_rev !== rev) return;
  await store.put(SOFT_DELETED_ACCOUNTS_DOCTYPE, { _id: id, _rev: String(kept._rev), _deleted: true }).catch((e: unknown) => {
    // written again meanwhile (the same account deleted again at another revision): that copy is another job's
    if (!(e instanceof NotFound) && !(e instanceof Conflict)) throw e;
  });
}

/** The triggers of the deleted account removed, its konnector's `on_delete_account` job queued (unless cleaned by hand). */
export async function onAccountDeleted(deps: AccountDeletedDeps, event: DocEvent): Promise<void> {
  if (event.verb !== 'DELETED') return;
  const triggers = await deps.scheduler.list(event.domain, { workers: ['konnector'] });
  for (const t of triggers) {
    if ((t.message as { account?: unknown } | null)?.account !== event.id) continue;
    await deps.scheduler.delete(event.domain, t._id).catch((e: unknown) => {
      if (!(e instanceof NotFound)) throw e;
    });
  }
  const instance = await deps.instanceOf(event.domain);
  if (instance) await sweepCopies(deps.storeOf(instance), (deps.now ?? Date.now)());
  if (event.doc.manual_cleaning === true) return;
  const old = event.old;
  const slug = old?.account_type;
  if (typeof slug !== 'string' || slug === '') return;
  const konnector = instance ? await findApp(deps.storeOf(instance), 'konnector', slug) : null;
  if (typeof konnector?.on_delete_account !== 'string' || !instance || !old) return;
  // its last revision, still sealed, stays readable at GET ?rev= for the script (jobs/sandbox/accounts.ts)
  const { _rev: _r, _deleted: _d, ...body } = old;
  const store = deps.storeOf(instance);
  const previous = await store.get(SOFT_DELETED_ACCOUNTS_DOCTYPE, event.id).catch(missing);
  const at = new Date((deps.now ?? Date.now)()).toISOString();
  await store.put(SOFT_DELETED_ACCOUNTS_DOCTYPE, { ...body, _id: event.id, ...(previous ? { _rev: previous._rev } : {}), soft_deleted_rev: String(old._rev), soft_deleted_at: at });
  await deps.engine.push(event.domain, {
    worker: 'konnector', manual: true,
    message: { account: event.id, account_rev: old?._rev, konnector: slug, account_deleted: true },
  });
}

/** The end of an `on_delete_account` job (done, or errored with no retry left): its account's kept copy goes. */
export async function onCleaningJob(deps: AccountDeletedDeps, event: DocEvent): Promise<void> {
  const job = event.doc as { worker?: unknown; state?: unknown; message?: { account?: unknown; account_rev?: unknown; account_deleted?: unknown } | null };
  const m = job.message;
  if (job.worker !== 'konnector' || (job.state !== 'done' && job.state !== 'errored') || m?.account_deleted !== true) return;
  if (typeof m.account !== 'string' || typeof m.account_rev !== 'string') return;
  const instance = await deps.instanceOf(event.domain);
  if (instance) await dropCopy(deps.storeOf(instance), m.account, m.account_rev);
}

/** Listens to every instance's account deletions and to the end of their clean-up jobs; the returned function stops it. */
export function watchAccountDeletions(deps: AccountDeletedDeps): Unsubscribe {
  const warn = (event: DocEvent) => (err: unknown) => deps.logger?.warn({ err, domain: event.domain, id: event.id }, 'cleaning up after a deleted account failed');
  const stops = [
    deps.bus.subscribe('*', ACCOUNTS_DOCTYPE, (event) => {
      if (event.verb !== 'DELETED') return;
      onAccountDeleted(deps, event).catch(warn(event));
    }),
    deps.bus.subscribe('*', JOBS_DOCTYPE, (event) => { onCleaningJob(deps, event).catch(warn(event)); }),
  ];
  return () => stops.forEach((stop) => stop());
}
