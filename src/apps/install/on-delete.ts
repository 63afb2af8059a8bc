/**
 * Uninstalling a konnector whose manifest names an `on_delete_account` script (cozy-apps.md §4.1): each of its
 * accounts (`io.cozy.accounts` with `account_type` = slug) gets a konnector job with `account_deleted: true`, which
 * runs that script (jobs/sandbox/manifests.ts); the answer is 202 at once, and once every job has ended the accounts
 * are deleted and the konnector is uninstalled. Without such a script or account, the uninstall is immediate (200).
 */
import type { Logger } from 'pino';
import { NotFound } from '../../common/errors.js';
import type { Doc, DocStore } from '../../data/store.js';
import type { JobEngine } from '../../jobs/engine.js';
import type { Instance } from '../../instances/types.js';
import { findApp } from '../repo.js';
import type { AppDoc } from '../types.js';
import type { Installer } from './installer.js';

export const ACCOUNTS_DOCTYPE = 'io.cozy.accounts';
const POLL_MS = 250;

export interface OnDeleteDeps {
  storeOf(instance: Instance): DocStore;
  engine: Pick<JobEngine, 'push' | 'broker'>;
  installer: Installer;
  logger?: Pick<Logger, 'warn'>;
}

async function accountsOf(store: DocStore, slug: string): Promise<Doc[]> {
  try {
    return (await store.find(ACCOUNTS_DOCTYPE, { selector: { account_type: slug }, limit: 10_000, skip: 0 })).docs as Doc[];
  } catch (e) {
    if (e instanceof NotFound) return [];
    throw e;
  }
}

/** Uninstalls a konnector, first running its `on_delete_account` for each account: `{status: 202}` when jobs were queued. */
export async function uninstallKonnector(deps: OnDeleteDeps, instance: Instance, slug: string): Promise<{ status: 200 | 202; doc: AppDoc }> {
  const store = deps.storeOf(instance);
  const doc = await findApp(store, 'konnector', slug);
  const accounts = doc && typeof doc.on_delete_account === 'string' ? await accountsOf(store, slug) : [];
  if (!doc || accounts.length === 0) return { status: 200, doc: await deps.installer.uninstall(instance, 'konnector', slug) };
  const jobs = [];
  for (const a of accounts) {
    jobs.push(await deps.engine.push(instance.domain, { worker: 'konnector', message: { konnector: slug, account: a._id, account_rev: a._rev, account_deleted: true } }));
  }
  void (async () => {
    for (const job of jobs) {
      for (;;) {
        const state = (await deps.engine.broker.get(instance.domain, job._id))?.state;
        if (state === undefined || state === 'done' || state === 'errored') break;
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
    }
    // manual_cleaning: the account-deletion hook (account-deleted.ts) must not run on_delete_account a second time
    for (const a of accounts) await store.put(ACCOUNTS_DOCTYPE, { _id: String(a._id), _rev: String(a._rev), _deleted: true, manual_cleaning: true }).catch(() => undefined);
    await deps.installer.uninstall(instance, 'konnector', slug);
  })().catch((e: unknown) => deps.logger?.warn({ err: e, slug }, 'the uninstall of a konnector after its on_delete_account jobs failed'));
  return { status: 202, doc };
}
