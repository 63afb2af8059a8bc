/**
 * Uninstalling a konnector whose manifest names an `on_delete_account` script (cozy-apps.md §4.1): each of its
 * accounts (`io.cozy.accounts` with `account_type` = slug) gets a konnector job with `account_deleted: true`, which
 * runs that script (jobs/sandbox/manifests.ts); the answer is 202 at once, and once every job has ended the accounts
 * are deleted and the konnector is uninstalled. Without such a script or account, the uninstall is immediate (200).
 *
 * The rest of the work survives a stop (cozy-stack does it in a goroutine, lost with its process): the route queues an
 * internal `konnector-uninstall` job, which the job engine keeps and hands back after a crash (its lease runs out). That
 * job records the accounts with the konnector's doc (`on_delete_account_jobs`, with the time) before it queues anything,
 * then queues the `on_delete_account` jobs one by one, recording each one's id as soon as it is queued, so that a next
 * run waits for the same jobs rather than running the scripts again; a recorded job the housekeeping purged since has
 * ended. Only the account being queued when a stop came can be in doubt: its job, keyed by its message (konnector,
 * account, account_rev, account_deleted), is looked for among the jobs; found, it is taken; not found, it was never
 * queued, unless the record is older than the purge's delay (FINISHED_JOBS_KEPT_MS): then it may have run and been
 * purged, and it is not queued again (the script runs at most once, as cozy-stack's goroutine does).
 */
import type { Logger } from 'pino';
import { NotFound } from '../../common/errors.js';
import type { Doc, DocStore } from '../../data/store.js';
import { FINISHED_JOBS_KEPT_MS } from '../../jobs/broker.js';
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

/**
 * What the konnector's doc records while its uninstall waits: the accounts to clean, then the id of each one's
 * `on_delete_account` job as it is queued (`jobs[i]` is that of `accounts[i]`), and since when (ms).
 */
interface Pending {
  jobs: string[];
  accounts: { _id: string; _rev: string }[];
  since?: number;
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

/** An id in `jobs` for a job not queued: the script of that account is not run (see the header). */
const SKIPPED = '';

/**
 * The jobs of a pending uninstall: those recorded, and (first run, or one a stop cut) the `on_delete_account` jobs of
 * the accounts left, each recorded once queued.
 */
async function pendingOf(deps: OnDeleteDeps, instance: Instance, doc: AppDoc, now = Date.now()): Promise<Pending> {
  const store = deps.storeOf(instance);
  let pending = doc.on_delete_account_jobs as Pending | undefined;
  let rev = doc._rev!;
  const record = async (p: Pending) => {
    rev = (await store.put(KIND.konnector.doctype, { ...doc, _rev: rev, on_delete_account_jobs: p } as unknown as Doc)).rev;
    pending = p;
  };
  const resumed = Boolean(pending && Array.isArray(pending.jobs) && Array.isArray(pending.accounts));
  if (!resumed) {
    const accounts = typeof doc.on_delete_account === 'string' ? await accountsOf(store, doc.slug) : [];
    await record({ jobs: [], accounts: accounts.map((a) => ({ _id: String(a._id), _rev: String(a._rev) })), since: now });
  }
  const p = pending!;
  if (p.jobs.length >= p.accounts.length) return p;
  // resumed: the next account's job may have been queued before the stop (and, much later, purged)
  const queued = resumed ? await queuedCleanups(deps, instance, doc.slug) : new Map<string, string>();
  const mayBePurged = resumed && (typeof p.since !== 'number' || now - p.since >= FINISHED_JOBS_KEPT_MS);
  const jobs = [...p.jobs];
  for (const a of p.accounts.slice(jobs.length)) {
    const found = jobs.length === p.jobs.length ? queued.get(cleanupKey(a._id, a._rev)) : undefined;
    if (found === undefined && jobs.length === p.jobs.length && mayBePurged) {
      deps.logger?.warn({ domain: instance.domain, slug: doc.slug, account: a._id }, 'on_delete_account not run again: its job may have run and been purged');
      jobs.push(SKIPPED);
    } else {
      const message = { konnector: doc.slug, account: a._id, account_rev: a._rev, account_deleted: true };
      jobs.push(found ?? (await deps.engine.push(instance.domain, { worker: 'konnector', message }))._id);
    }
    await record({ ...p, jobs: [...jobs] });
  }
  return pending!;
}

/** Waits for the konnector's `on_delete_account` jobs, then deletes its accounts and uninstalls it. Runs again safely. */
export async function finishKonnectorUninstall(deps: OnDeleteDeps, instance: Instance, slug: string, signal: AbortSignal): Promise<void> {
  const store = deps.storeOf(instance);
  const doc = await findApp(store, 'konnector', slug);
  if (!doc) return;
  const pending = await pendingOf(deps, instance, doc);
  for (const id of pending.jobs) {
    for (; id !== SKIPPED;) {
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
