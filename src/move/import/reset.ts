/**
 * The reset before an import (cozy-stack's lifecycle.Reset, which deletes every database of the instance): every
 * document of every doctype, every file's content and thumbnail, every trigger, the job history, every session, the
 * apps and konnectors with their permissions, and every other permission (share links, OAuth clients', …) are removed,
 * through the engines' interfaces (DocStore, the blob stores' keys/remove, the scheduler, the broker, the session store),
 * so that it works the same on SQLite, PostgreSQL, the local disk, Swift and S3.
 * Before anything, the konnectors' account-deletion scripts (`on_delete_account`) run for the old accounts, as
 * cozy-stack's reset does. The queued jobs are dropped (cozy-stack deletes the jobs database); kept: the running ones (the import's own job is
 * one of them) and the instance's own settings, which are not documents. The built-in apps go too, and are installed
 * again fresh at the end, as cozy-stack installs home, store and settings again (whatever was installed on a new
 * instance). The apps and konnectors of the archive are then installed again from the registry (./importer.ts).
 * Taking it again is harmless: a reset that a crash cut short is finished by the next one.
 */
import type { Doc, DocStore } from '../../data/store.js';
import type { BlobStore } from '../../files/blobs/store.js';
import type { FileSystem } from '../../files/fs.js';
import type { Instance } from '../../instances/types.js';
import { KIND, type AppKind } from '../../apps/types.js';
import { PERMISSIONS_DOCTYPE } from '../../permissions/docs.js';

/** Emptied by the reset document by document (what an app or a running job needs stays), not dropped whole. */
export const KEPT_BY_RESET: ReadonlySet<string> = new Set([KIND.webapp.doctype, KIND.konnector.doctype, PERMISSIONS_DOCTYPE, 'io.cozy.jobs']);

export interface ResetDeps {
  store: DocStore;
  /**
   * First, as cozy-stack's reset (lifecycle.deleteAccounts): each konnector with an `on_delete_account` script runs it
   * for each of its accounts, and the reset waits for them to end (their tokens pass the blocked instance meanwhile); the
   * konnector of an account that is no longer installed is installed from the registry for that, and when it cannot be
   * the reset fails before it deletes anything.
   */
  cleanAccounts(instance: Instance): Promise<void>;
  fs: FileSystem;
  dropTriggers(instance: Instance): Promise<void>;
  /** Removes the instance's jobs: the queued ones never run, the finished ones (its history) go. */
  dropJobs(instance: Instance): Promise<void>;
  /** Logs every session of the instance out. */
  dropSessions(instance: Instance): Promise<void>;
  apps: {
    uninstall(instance: Instance, kind: AppKind, slug: string): Promise<void>;
    /** The built-in apps (apps/builtin): what the instance had of them forgotten (their uninstall is not the owner's), then installed again. */
    builtins: { forget(instance: Instance): Promise<void>; install(instance: Instance): Promise<void> };
  };
}

const PAGE = 1000;

/** Removes every blob of the instance in `store`, a page at a time (memory bounded whatever their number). */
async function emptyBlobs(store: BlobStore | null, ns: string): Promise<number> {
  if (!store) return 0;
  let removed = 0;
  for (;;) {
    const page: string[] = [];
    for await (const key of store.keys(ns)) {
      page.push(key);
      if (page.length >= PAGE) break;
    }
    if (page.length === 0) return removed;
    for (const key of page) await store.remove(ns, key);
    removed += page.length;
  }
}

/** The documents of `doctype` (no design documents), a page at a time. */
async function* eachPage(store: DocStore, doctype: string): AsyncGenerator<Doc[]> {
  let startkey: string | undefined;
  for (;;) {
    const page = await store.allDocs(doctype, { limit: PAGE + 1, include_docs: true, ...(startkey === undefined ? {} : { startkey }) }).catch(() => null);
    const rows = page?.rows ?? [];
    yield rows.slice(0, PAGE).flatMap((r) => (r.doc && !String(r.id).startsWith('_design/') ? [r.doc as Doc] : []));
    if (rows.length <= PAGE) return;
    startkey = String(rows[PAGE]!.id);
  }
}

/**
 * Every app and konnector uninstalled (their triggers, permissions and code reference), then every other permission
 * deleted: share links, OAuth clients', those of apps that an uninstall could not remove.
 */
async function resetApps(instance: Instance, deps: ResetDeps): Promise<void> {
  // first: a stop after the uninstall of a built-in app must not leave it taken for the owner's choice
  await deps.apps.builtins.forget(instance);
  for (const kind of ['webapp', 'konnector'] as const) {
    const { doctype } = KIND[kind];
    for await (const docs of eachPage(deps.store, doctype)) {
      const left: Doc[] = [];
      for (const doc of docs) {
        const slug = String(doc._id).slice(doctype.length + 1);
        // an app being installed or updated, or whose document is damaged: its document goes at least
        await deps.apps.uninstall(instance, kind, slug).catch(() => left.push({ _id: doc._id, _rev: doc._rev, _deleted: true } as Doc));
      }
      if (left.length) await deps.store.bulkDocs(doctype, left, true);
    }
  }
  for await (const docs of eachPage(deps.store, PERMISSIONS_DOCTYPE)) {
    const gone = docs.map((d) => ({ _id: d._id, _rev: d._rev, _deleted: true }) as Doc);
    if (gone.length) await deps.store.bulkDocs(PERMISSIONS_DOCTYPE, gone, true);
  }
}

export async function resetInstance(instance: Instance, deps: ResetDeps): Promise<{ doctypes: number; blobs: number }> {
  await deps.cleanAccounts(instance);
  let doctypes = 0;
  // first the other doctypes: an OAuth client naming an app would stop its uninstall
  for (const doctype of await deps.store.listDoctypes()) {
    if (KEPT_BY_RESET.has(doctype)) continue;
    if (await deps.store.dropDoctype(doctype)) doctypes++;
  }
  await resetApps(instance, deps);
  await deps.dropTriggers(instance);
  await deps.dropJobs(instance);
  await deps.dropSessions(instance);
  const blobs = (await emptyBlobs(deps.fs.blobs, instance.id)) + (await emptyBlobs(deps.fs.thumbs, instance.id));
  // the usage and the root this process knew are gone: the root and the trash are made again now
  deps.fs.forget(instance);
  await deps.fs.init(instance);
  await deps.apps.builtins.install(instance);
  return { doctypes, blobs };
}
