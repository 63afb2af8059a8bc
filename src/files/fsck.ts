/**
 * The file-system check, with cozy-stack's log types (model/vfs/fsck.go): documents against
 * blobs, and the tree against itself. Each problem is one entry:
 *
 * - `index_missing`: a blob that no document names (an upload that crashed after its bytes were
 *   durable but before its document was committed); `clean: true` removes it.
 * - `filesystem_missing`: a file document whose blob is gone; `content_mismatch`: sizes differ.
 * - `index_orphan_tree`: an entry whose parent directory does not exist.
 * - `index_bad_fullpath`: a directory whose `path` is not its parent's path plus its name.
 * - `index_missing_root`, `index_missing_trash`.
 * Old versions are checked too (`is_version`): their blob, and that their file still exists.
 * Thumbnails (`is_thumbnail`): a thumbnail blob that no file names is `index_missing` too (a crash
 * between its write and the commit, or before its removal); a missing one is left to thumbnailck.
 *
 * The chunks of the resumable uploads under way (upload-sessions.ts) are blobs that no file names yet: not reported.
 *
 * Hearth's addition, not a problem: `held_by_export`, a blob no document names that an export of the instance keeps
 * (its files were overwritten or deleted after the export began: blobs/held.ts), with the export and when it ends at
 * the latest; `clean` leaves it, and the blob goes by itself once no export holds it.
 */
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import { HeldBlobStore, type HeldKey } from './blobs/held.js';
import { thumbKeysOf } from './thumbnails/state.js';
import { UploadSessions } from './upload-sessions.js';
import { VERSIONS_DOCTYPE, type VersionDoc } from './versions.js';
import { FILES_DOCTYPE, ROOT_DIR_ID, TRASH_DIR_ID, isDir, joinPath, type FileDoc } from './types.js';

export type FsckType =
  | 'index_missing' | 'filesystem_missing' | 'content_mismatch' | 'index_orphan_tree' | 'index_bad_fullpath' | 'index_missing_root' | 'index_missing_trash'
  | 'held_by_export';

export interface FsckEntry {
  type: FsckType;
  is_file: boolean;
  /** The entry is an old version (io.cozy.files.versions). */
  is_version?: boolean;
  /** The entry is a thumbnail's blob. */
  is_thumbnail?: boolean;
  /** The document concerned (without its blob key). */
  file_doc?: Record<string, unknown>;
  dir_doc?: Record<string, unknown>;
  /** For `index_missing`: the orphan blob, and whether `clean` removed it. */
  blob?: { key: string; size: number | null; removed: boolean };
  /** For `held_by_export`: the export that keeps the blob, and when it expires at the latest (the blob goes then). */
  export?: { id: string; expires_at: string };
}

const PAGE = 1000;

function wire(doc: FileDoc): Record<string, unknown> {
  const { internal_vfs_id: _blob, ...rest } = doc;
  return rest;
}

async function allEntries(fs: FileSystem, instance: Instance): Promise<FileDoc[]> {
  const out: FileDoc[] = [];
  let bookmark: string | undefined;
  for (;;) {
    const page = await fs.store(instance).find(FILES_DOCTYPE, { selector: { type: { $in: ['file', 'directory'] } }, limit: PAGE, skip: 0, ...(bookmark ? { bookmark } : {}) });
    out.push(...(page.docs as FileDoc[]));
    if (page.docs.length < PAGE) return out;
    bookmark = page.bookmark;
  }
}

export async function fsck(fs: FileSystem, instance: Instance, opts: { clean?: boolean } = {}): Promise<FsckEntry[]> {
  await fs.init(instance);
  // under the lock: no upload commits between the listing of documents and that of blobs
  return fs.lock(instance, async () => {
    const entries = await allEntries(fs, instance);
    const byId = new Map(entries.map((d) => [d._id, d]));
    const log: FsckEntry[] = [];
    if (!byId.has(ROOT_DIR_ID)) log.push({ type: 'index_missing_root', is_file: false });
    if (!byId.has(TRASH_DIR_ID)) log.push({ type: 'index_missing_trash', is_file: false });
    const named = new Set<string>();
    const thumbs = new Set(entries.flatMap(thumbKeysOf));
    for (const doc of entries) {
      const file = !isDir(doc);
      const key = file ? String(doc.internal_vfs_id ?? '') : '';
      if (key) named.add(key);
      const parent = doc._id === ROOT_DIR_ID ? null : byId.get(doc.dir_id);
      const at = file ? { file_doc: wire(doc) } : { dir_doc: wire(doc) };
      if (doc._id !== ROOT_DIR_ID && (!parent || !isDir(parent))) log.push({ type: 'index_orphan_tree', is_file: file, ...at });
      if (!file && parent && isDir(parent) && doc.path !== joinPath(String(parent.path), doc.name)) log.push({ type: 'index_bad_fullpath', is_file: false, ...at });
      if (file) {
        const size = key ? await fs.blobs.size(instance.id, key) : null;
        if (size === null) log.push({ type: 'filesystem_missing', is_file: true, ...at });
        else if (size !== Number(doc.size)) log.push({ type: 'content_mismatch', is_file: true, ...at });
      }
    }
    const versions = await fs.store(instance).allDocs(VERSIONS_DOCTYPE, { include_docs: true });
    for (const row of versions.rows) {
      const v = row.doc as VersionDoc | null | undefined;
      if (!v || v._deleted) continue;
      named.add(v.internal_vfs_id);
      const at = { file_doc: wire(v as unknown as FileDoc) };
      if (!byId.has(v.file_id)) log.push({ type: 'index_orphan_tree', is_file: true, is_version: true, ...at });
      if ((await fs.blobs.size(instance.id, v.internal_vfs_id)) === null) log.push({ type: 'filesystem_missing', is_file: true, is_version: true, ...at });
    }
    // the chunks of resumable uploads under way (upload-sessions.ts) are not orphans
    for (const key of await new UploadSessions(fs).chunkKeys(instance)) named.add(key);
    // read after the documents: a blob an export began keeping since is named above or listed here
    const held = new Map<string, HeldKey>();
    for (const h of fs.blobs instanceof HeldBlobStore ? await fs.blobs.held(instance.id) : []) if (!held.has(h.key)) held.set(h.key, h);
    for await (const key of fs.blobs.keys(instance.id)) {
      if (named.has(key)) continue;
      const size = await fs.blobs.size(instance.id, key);
      const by = held.get(key);
      if (by) {
        log.push({ type: 'held_by_export', is_file: true, blob: { key, size, removed: false }, export: { id: by.exportId, expires_at: new Date(by.expiresAt).toISOString() } });
        continue;
      }
      if (opts.clean) await fs.blobs.remove(instance.id, key);
      log.push({ type: 'index_missing', is_file: true, blob: { key, size, removed: opts.clean === true } });
    }
    const area = fs.thumbs;
    for await (const key of area ? area.keys(instance.id) : []) {
      if (thumbs.has(key) || !area) continue;
      const size = await area.size(instance.id, key);
      if (opts.clean) await area.remove(instance.id, key);
      log.push({ type: 'index_missing', is_file: true, is_thumbnail: true, blob: { key, size, removed: opts.clean === true } });
    }
    return log;
  });
}
