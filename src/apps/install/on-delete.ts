/**
 * Uninstalling a konnector whose manifest names an `on_delete_account` script (cozy-apps.md §4.1): each of its
 * accounts (`io.cozy.accounts` with `account_type` = slug) gets a konnector job with `account_deleted: true`, which
 * runs that script (jobs/sandbox/manifests.ts); the answer is 202 at once, and once every job has ended the accounts
 * are deleted and the konnector is uninstalled. Without such a script or account, the uninstall is immediate (200).
 *
 * The rest of the work survives a stop (cozy-stack does it in a goroutine, lost with its process): the route queues an
 * internal `konnector-uninstall` job, which the job engine keeps and hands back after a crash (its lease runs out). That
 * job queues the `on_delete_account` jobs and records them with the konnector's doc (`on_delete_account_jobs`) before it
 * waits, so that a next run waits for the same jobs rather than running the scripts again. A stop between queueing them
 * and that write does not make them run twice either: the job of an account at a revision is keyed by its message
 * (konnector, account, account_rev, account_deleted), and a run that finds one already queued takes it, not a new one.
 */
import type { Logger } from 'pino';
import { NotFound } from '../../common/errors.js';
import type { Doc, DocStore } from '../../data/store.js';
import type { JobEngine } from '../../jobs/engine.js';
import type { WorkerDef } from '../../jobs/types.js';
import type { Instance } from '../../instances/types.js';
import { findApp } from '../repo.js';
import { KIND, type AppDoc } from '../types.js';
import type { Installer } from './installer.js';

export const ACCOUNTS_DOCTYPE = 'io.cozy.accounts';
/** The internal worker that finishes such an uninstall (message `{konnector: slug}`). */
export const UNINSTALL_WORKER = 'konnector-uninstall';
const POLL_MS = 250;
/** How many of an instance's latest konnector jobs are looked through for one already queued (newest first). */
const LOOKBACK = 5000;

export interface OnDeleteDeps {
  storeOf(instance: Instance): DocStore;
  engine: Pick<JobEngine, 'push' | 'broker'>;
  installer: Pick<Installer, 'uninstall'>;
  logger?: Pick<Logger, 'warn'>;
}

/** What the konnector's doc records while its uninstall waits: the `on_delete_account` jobs and the accounts they clean. */
interface Pending {
  jobs: string[];
  accounts: { _id: string; _rev: string }[];
}

async function accountsOf(store: DocStore, slug: string): Promise<Doc[]> {
  try {
    return (await store.find(ACCOUNTS_DOCTYPE, { selector: { account_type: slug }, limit: 10_000, skip: 0 })).docs as Doc[];
  } catch (e) {
    if (e instanceof NotFound) return [];
    throw e;
  }
}

/** Uninstalls a konnector, first running its `on_delete_account` for each account: `{status: 202}` when that was queued. */
export async function uninstallKonnector(deps: OnDeleteDeps, instance: Instance, slug: string): Promise<{ status: 200 | 202; doc: AppDoc }> {
  const store = deps.storeOf(instance);
  const doc = await findApp(store, 'konnector', slug);
  const accounts = doc && typeof doc.on_delete_account === 'string' ? await accountsOf(store, slug) : [];
  if (!doc || accounts.length === 0) return { status: 200, doc: await deps.installer.uninstall(instance, 'konnector', slug) };
  await deps.engine.push(instance.domain, { worker: UNINSTALL_WORKER, message: { konnector: slug } });
  return { status: 202, doc };
}

const cleanupKey = (account: string, rev: string) => JSON.stringify([account, rev]);

/** The `on_delete_account` jobs of this konnector already queued (a run cut before recording them), by account and revision. */
async function queuedCleanups(deps: OnDeleteDeps, instance: Instance, slug: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const job of await deps.engine.broker.list(instance.domain, { worker: 'konnector', limit: LOOKBACK })) {
    const m = job.message as { konnector?: unknown; account?: unknown; account_rev?: unknown; account_deleted?: unknown } | null;
    if (m?.konnector !== slug || m.account_deleted !== true || typeof m.account !== 'string' || typeof m.account_rev !== 'string') continue;
    const key = cleanupKey(m.account, m.account_rev);
    if (!found.has(key)) found.set(key, job._id);
  }
  return found;
}

/** The recorded jobs of a pending uninstall, or (first run) the `on_delete_account` jobs queued now and recorded. */
async function pendingOf(deps: OnDeleteDeps, instance: Instance, doc: AppDoc): Promise<Pending> {
  const recorded = doc.on_delete_account_jobs as Pending | undefined;
  if (recorded && Array.isArray(recorded.jobs) && Array.isArray(recorded.accounts)) return recorded;
  const store = deps.storeOf(instance);
  const accounts = typeof doc.on_delete_account === 'string' ? await accountsOf(store, doc.slug) : [];
  const jobs: string[] = [];
  const queued = accounts.length ? await queuedCleanups(deps, instance, doc.slug) : new Map<string, string>();
  for (const a of accounts) {
    const message = { konnector: doc.slug, account: a._id, account_rev: a._rev, account_deleted: true };
    jobs.push(queued.get(cleanupKey(String(a._id), String(a._rev))) ?? (await deps.engine.push(instance.domain, { worker: 'konnector', message }))._id);
  }
  const pending: Pending = { jobs, accounts: accounts.map((a) => ({ _id: String(a._id), _rev: String(a._rev) })) };
  await store.put(KIND.konnector.doctype, { ...doc, on_delete_account_jobs: pending } as unknown as Doc);
  return pending;
}

/** Waits for the konnector's `on_delete_account` jobs, then deletes its accounts and uninstalls it. Runs again safely. */
export async function finishKonnectorUninstall(deps: OnDeleteDeps, instance: Instance, slug: string, signal: AbortSignal): Promise<void> {
  const store = deps.storeOf(instance);
  const doc = await findApp(store, 'konnector', slug);
  if (!doc) return;
  const pending = await pendingOf(deps, instance, doc);
  for (const id of pending.jobs) {
    for (;;) {
      signal.throwIfAborted();
      const state = (await deps.engine.broker.get(instance.domain, id))?.state;
      if (state === undefined || state === 'done' || state === 'errored') break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
  // manual_cleaning: the account-deletion hook (account-deleted.ts) must not run on_delete_account a second time
  for (const a of pending.accounts) await store.put(ACCOUNTS_DOCTYPE, { _id: a._id, _rev: a._rev, _deleted: true, manual_cleaning: true }).catch(() => undefined);
  try {
    await deps.installer.uninstall(instance, 'konnector', slug);
  } catch (e) {
    if (!(e instanceof NotFound)) throw e; // uninstalled meanwhile (a second DELETE's job)
  }
}

/**
 * Before the reset of an import (cozy-stack's lifecycle.deleteAccounts): each konnector with an `on_delete_account`
 * script runs it for each of its accounts, then goes with them (as its uninstall above). An account whose konnector is
 * no longer installed has it installed again from the registry first (`installMissing`), as cozy-stack does
 * (`registry://<slug>/stable`), so that its script runs too; when that install fails, the reset fails before anything
 * is deleted (cozy-stack's Reset returns the error too), and the import says so. An account without `account_type` is
 * not a konnector's. A konnector whose script cannot be run is left to the reset, which uninstalls it anyway.
 */
export async function cleanAllAccounts(deps: OnDeleteDeps & { installMissing(instance: Instance, slug: string): Promise<void> }, instance: Instance, signal: AbortSignal): Promise<void> {
  const store = deps.storeOf(instance);
  const docs = async (doctype: string) => ((await store.allDocs(doctype, { include_docs: true, limit: 10_000 }).catch(() => null))?.rows ?? []).flatMap((r) => (r.doc ? [r.doc] : []));
  const installed = new Set((await docs(KIND.konnector.doctype)).map((d) => d.slug));
  const missing = new Set((await docs(ACCOUNTS_DOCTYPE)).map((a) => a.account_type).filter((slug): slug is string => typeof slug === 'string' && slug !== '' && !installed.has(slug)));
  for (const slug of missing) {
    signal.throwIfAborted();
    try {
      await deps.installMissing(instance, slug);
    } catch (err) {
      throw new Error(`the konnector ${slug} of an account could not be installed again to delete the account: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  for (const doc of (await docs(KIND.konnector.doctype)) as AppDoc[]) {
    if (typeof doc.on_delete_account !== 'string' || typeof doc.slug !== 'string') continue;
    if (!doc.on_delete_account_jobs && (await accountsOf(store, doc.slug)).length === 0) continue;
    try {
      await finishKonnectorUninstall(deps, instance, doc.slug, signal);
    } catch (err) {
      signal.throwIfAborted();
      deps.logger?.warn({ err, domain: instance.domain, slug: doc.slug }, 'the accounts of a konnector were not cleaned before the reset');
    }
  }
}

/** The internal worker of those uninstalls; `deps` is read when a job runs (the engine and the installer come after the workers). */
export function konnectorUninstallWorker(deps: () => OnDeleteDeps): WorkerDef {
  return {
    name: UNINSTALL_WORKER, internal: true, concurrency: 8, maxExecCount: 5, timeoutSeconds: 3600,
    async run(ctx) {
      const slug = (ctx.job.message as { konnector?: unknown } | null)?.konnector;
      if (typeof slug !== 'string') return;
      await finishKonnectorUninstall(deps(), ctx.instance, slug, ctx.signal);
    },
  };
}
