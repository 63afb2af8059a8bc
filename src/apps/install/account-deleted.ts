/**
 * What happens when an io.cozy.accounts document is deleted, as cozy-stack's hook does (model/account/accounts.go,
 * the EventDelete hook): the konnector triggers of that account are deleted, and when the account's konnector
 * (`account_type`) is installed with an `on_delete_account` script, a konnector job
 * `{account, account_rev, konnector, account_deleted: true}` runs it (the konnector cleans the account on its
 * service), reading the account at that revision (kept in io.cozy.accounts.soft_deleted). A deletion marked `manual_cleaning: true` (the uninstall of a konnector, on-delete.ts, which ran
 * `on_delete_account` before deleting) loses its triggers but queues no job: the same end as cozy-stack's
 * CleanAndWait, which deletes those triggers itself.
 */
import type { Logger } from 'pino';
import type { DocEvent, EventBus, Unsubscribe } from '../../common/bus.js';
import { NotFound } from '../../common/errors.js';
import type { DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { JobEngine } from '../../jobs/engine.js';
import type { Scheduler } from '../../jobs/scheduler.js';
import { findApp } from '../repo.js';
import { SOFT_DELETED_ACCOUNTS_DOCTYPE } from '../../jobs/sandbox/accounts.js';
import { ACCOUNTS_DOCTYPE } from './on-delete.js';

export interface AccountDeletedDeps {
  bus: EventBus;
  /** The instance that has this domain now (null once destroyed). */
  instanceOf(domain: string): Promise<Instance | null>;
  storeOf(instance: Instance): DocStore;
  scheduler: Pick<Scheduler, 'list' | 'delete'>;
  engine: Pick<JobEngine, 'push'>;
  logger?: Pick<Logger, 'warn'>;
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
  if (event.doc.manual_cleaning === true) return;
  const old = event.old;
  const slug = old?.account_type;
  if (typeof slug !== 'string' || slug === '') return;
  const instance = await deps.instanceOf(event.domain);
  const konnector = instance ? await findApp(deps.storeOf(instance), 'konnector', slug) : null;
  if (typeof konnector?.on_delete_account !== 'string' || !instance || !old) return;
  // its last revision, still sealed, stays readable at GET ?rev= for the script (jobs/sandbox/accounts.ts)
  const { _rev: _r, _deleted: _d, ...body } = old;
  const store = deps.storeOf(instance);
  const previous = await store.get(SOFT_DELETED_ACCOUNTS_DOCTYPE, event.id).catch((e: unknown) => {
    if (e instanceof NotFound) return null;
    throw e;
  });
  await store.put(SOFT_DELETED_ACCOUNTS_DOCTYPE, { ...body, _id: event.id, ...(previous ? { _rev: previous._rev } : {}), soft_deleted_rev: String(old._rev) });
  await deps.engine.push(event.domain, {
    worker: 'konnector', manual: true,
    message: { account: event.id, account_rev: old?._rev, konnector: slug, account_deleted: true },
  });
}

/** Listens to every instance's account deletions; the returned function stops it. */
export function watchAccountDeletions(deps: AccountDeletedDeps): Unsubscribe {
  return deps.bus.subscribe('*', ACCOUNTS_DOCTYPE, (event) => {
    if (event.verb !== 'DELETED') return;
    onAccountDeleted(deps, event).catch((err: unknown) => deps.logger?.warn({ err, domain: event.domain, account: event.id }, 'cleaning up after a deleted account failed'));
  });
}
