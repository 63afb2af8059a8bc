/**
 * The reset before an import (cozy-stack's lifecycle.Reset): every document of every doctype, every file's content and
 * thumbnail and every trigger of the instance is removed, through the engines' interfaces (DocStore.dropDoctype, the blob
 * stores' keys/remove, the scheduler), so that it works the same on SQLite, PostgreSQL, the local disk, Swift and S3.
 * Kept: the installed apps and konnectors (io.cozy.apps, io.cozy.konnectors and the permissions they were granted, which
 * an import reinstalls rather than copies) and the job mirror (io.cozy.jobs: the import job itself is one of them).
 * Taking it again is harmless: a reset that a crash cut short is finished by the next one.
 */
import type { DocStore } from '../../data/store.js';
import type { BlobStore } from '../../files/blobs/store.js';
import type { FileSystem } from '../../files/fs.js';
import type { Instance } from '../../instances/types.js';

export const KEPT_BY_RESET: ReadonlySet<string> = new Set(['io.cozy.apps', 'io.cozy.konnectors', 'io.cozy.permissions', 'io.cozy.jobs']);

export interface ResetDeps {
  store: DocStore;
  fs: FileSystem;
  dropTriggers(instance: Instance): Promise<void>;
}

/** Removes every blob of the instance in `store`, a page at a time (memory bounded whatever their number). */
async function emptyBlobs(store: BlobStore | null, ns: string): Promise<number> {
  if (!store) return 0;
  let removed = 0;
  for (;;) {
    const page: string[] = [];
    for await (const key of store.keys(ns)) {
      page.push(key);
      if (page.length >= 1000) break;
    }
    if (page.length === 0) return removed;
    for (const key of page) await store.remove(ns, key);
    removed += page.length;
  }
}

export async function resetInstance(instance: Instance, deps: ResetDeps): Promise<{ doctypes: number; blobs: number }> {
  await deps.dropTriggers(instance);
  let doctypes = 0;
  for (const doctype of await deps.store.listDoctypes()) {
    if (KEPT_BY_RESET.has(doctype)) continue;
    if (await deps.store.dropDoctype(doctype)) doctypes++;
  }
  const blobs = (await emptyBlobs(deps.fs.blobs, instance.id)) + (await emptyBlobs(deps.fs.thumbs, instance.id));
  // the usage and the root this process knew are gone: the root and the trash are made again now
  deps.fs.forget(instance);
  await deps.fs.init(instance);
  return { doctypes, blobs };
}
