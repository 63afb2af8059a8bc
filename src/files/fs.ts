/**
 * The virtual file system of an instance: io.cozy.files documents in the DocStore, contents in
 * the BlobStore. Every change that reads then writes the tree (a name taken, a subtree moved,
 * the quota) runs under the instance's lock, and several documents change in one transaction
 * (DocStore.putAll), so concurrent requests never see half a move nor lose an update. An upload
 * lets the next holder in at its commit, before that commit is fsynced (its reads see it already).
 *
 * Write order for contents: the blob is streamed and made durable first, then the document that
 * names it is committed. A crash in between leaves an orphan blob that nothing shows and that
 * fsck reports (and can remove); a file is never visible before all its bytes are on disk.
 */
import type { Readable } from 'node:stream';
import { Conflict, NotFound, PayloadTooLarge, PreconditionFailed, UnprocessableEntity } from '../common/errors.js';
import { fencedLock, type Locks } from '../common/locks.js';
import type { Doc, DocStore } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import type { BlobInfo, BlobStore, ByteRange } from './blobs/store.js';
import { mimeOf } from './mime.js';
import { EXIF_HEAD_BYTES, imageFacts, refreshedMetadata } from './thumbnails/exif.js';
import { thumbKeysOf } from './thumbnails/state.js';
import { VERSIONS_DOCTYPE, plan, versionFrom, versionsOf, type VersionDoc, type VersioningPolicy } from './versions.js';
import {
  FILES_DOCTYPE, ROOT_DIR_ID, TRASH_DIR_ID, TRASH_NAME, TRASH_PATH, classOf, isDir, joinPath, validateName, validatePath, type FileDoc,
} from './types.js';

export interface FileSystemDeps {
  storeOf: (instance: Instance) => DocStore;
  blobs: BlobStore;
  /** The thumbnails' area of the blob store (thumbnails/state.ts); without it, no thumbnail is made. */
  thumbs?: BlobStore;
  locks: Locks;
  /** Old versions kept on overwrite (default: cozy-stack's 20, at least 15 minutes apart). */
  versions?: VersioningPolicy;
  now?: () => Date;
}

/**
 * Starts a write with an `onCommit` hook (DocStore.put) and resolves once it is committed, with the
 * promise of the write itself (resolved once durable). A failure before the commit rejects.
 */
function untilCommitted<T>(start: (onCommit: () => void) => Promise<T>): Promise<{ durable: Promise<T> }> {
  return new Promise((resolve, reject) => {
    const box: { durable?: Promise<T> } = {};
    box.durable = start(() => queueMicrotask(() => resolve({ durable: box.durable! })));
    // before the commit this rejects the caller; after it, the caller awaits `durable` and sees the failure there
    box.durable.catch(reject);
  });
}

/** `doc` if it is a directory (422 not_a_directory otherwise). */
function asDir(doc: FileDoc): FileDoc {
  if (!isDir(doc)) throw new UnprocessableEntity(`${doc._id.slice(0, 100)} is a file, not a directory`, 'not_a_directory');
  return doc;
}

/** Bytes an overwrite frees, by the versioning plan: the old content if it is not kept, and the dropped versions. */
function freedBy(current: FileDoc, p: { keep: boolean; drop: VersionDoc[] }): number {
  return (p.keep ? 0 : Number(current.size)) + p.drop.reduce((n, v) => n + Number(v.size), 0);
}

/** Which konnector account a file or directory comes from (SourceAccount=, SourceAccountIdentifier=), kept in its cozyMetadata. */
export interface SourceAccount {
  sourceAccount?: string;
  sourceAccountIdentifier?: string;
}

export interface NewDir {
  dirId: string;
  name: string;
  tags?: string[];
  createdAt?: string;
  /** The modification date the client gives (UpdatedAt=, or the Date header); now by default. */
  updatedAt?: string;
  /** The slug of the app that makes the change (cozyMetadata). */
  app?: string;
  source?: SourceAccount;
}

export interface NewFile extends NewDir {
  body: Readable;
  /** The directory `dirId`, if the caller has just read it (saves reading it again before the body). */
  parent?: FileDoc;
  /** Content-Length (or Size=): checked against the quota before reading a byte, then exactly. */
  size?: number;
  /** Content-MD5, base64. */
  md5?: string;
  mime?: string;
  executable?: boolean;
  /** The file's `metadata` object (MetadataID=, POST /files/:id/versions); kept as it is when absent. */
  metadata?: Doc;
}

export interface FileChange {
  name?: string;
  dirId?: string;
  tags?: string[];
  executable?: boolean;
  /** The `_rev` the client last saw (If-Match): 412 if the document changed since. */
  ifMatch?: string;
}

/** Uploads from this size on (or of unknown size) are checked for a name conflict before their body is read. */
const EARLY_CHECK_BYTES = 256 * 1024;

const DIR_INDEX = { ddoc: '_design/hearth-vfs-children', name: 'children', fields: [{ field: 'dir_id', dir: 'asc' as const }, { field: 'name', dir: 'asc' as const }] };
const PATH_INDEX = { ddoc: '_design/hearth-vfs-path', name: 'path', fields: [{ field: 'path', dir: 'asc' as const }] };

export class FileSystem {
  private readonly now: () => Date;
  /** Bytes used per instance (every file, trashed ones and old versions too), computed once, then kept up to date under the lock. */
  private readonly usage = new Map<string, number>();
  private readonly ready = new Map<string, Promise<void>>();

  readonly policy: VersioningPolicy;

  constructor(private readonly deps: FileSystemDeps) {
    this.now = deps.now ?? (() => new Date());
    this.policy = deps.versions ?? { max: 20, minDelayMs: 15 * 60_000 };
  }

  /** The instance's DocStore (for the other modules of files/). */
  store(instance: Instance): DocStore {
    return this.deps.storeOf(instance);
  }

  /**
   * Runs `fn` under the instance's file-system lock (for the other modules of files/). With a leased lock (Redis), the
   * writes of `fn` are fenced: those of a holder paused past its lease, whose lock another process took, are refused.
   */
  lock<T>(instance: Instance, fn: () => Promise<T>): Promise<T> {
    return fencedLock(this.deps.locks, `vfs:${instance.id}`, fn);
  }

  get blobs(): BlobStore {
    return this.deps.blobs;
  }

  get thumbs(): BlobStore | null {
    return this.deps.thumbs ?? null;
  }

  /** Removes thumbnail blobs no document names any more (after the commit that stopped naming them). */
  async dropThumbs(instance: Instance, keys: string[]): Promise<void> {
    for (const key of keys) await this.deps.thumbs?.remove(instance.id, key);
  }

  /** Forgets what this process knew of an instance (its usage, its root made): after all its files were removed (an import's reset). */
  forget(instance: Instance): void {
    this.usage.delete(instance.id);
    this.ready.delete(instance.id);
  }

  get clock(): () => Date {
    return this.now;
  }

  /**
   * On this process's first use of an instance: removes what interrupted uploads left, then creates
   * the root, the trash and the indexes. Every operation awaits the same promise, so the clean-up
   * runs before any upload of this process starts.
   */
  init(instance: Instance): Promise<void> {
    let ready = this.ready.get(instance.id);
    if (!ready) {
      ready = this.prepare(instance);
      this.ready.set(instance.id, ready);
      ready.catch(() => this.ready.delete(instance.id));
    }
    return ready;
  }

  private async prepare(instance: Instance): Promise<void> {
    await this.deps.blobs.cleanTemporary(instance.id);
    await this.deps.thumbs?.cleanTemporary(instance.id);
    const store = this.store(instance);
    await store.createIndex(FILES_DOCTYPE, DIR_INDEX);
    await store.createIndex(FILES_DOCTYPE, PATH_INDEX);
    for (const [id, name, path, dirId] of [[ROOT_DIR_ID, '', '/', ''], [TRASH_DIR_ID, TRASH_NAME, TRASH_PATH, ROOT_DIR_ID]] as const) {
      if (await this.find(instance, id)) continue;
      const at = this.now().toISOString();
      await store.put(FILES_DOCTYPE, { _id: id, type: 'directory', name, dir_id: dirId, path, created_at: at, updated_at: at, tags: [], cozyMetadata: this.meta(at) });
    }
  }

  private meta(at: string, app?: string, source?: SourceAccount): Doc {
    return { doctypeVersion: '1', metadataVersion: 1, createdAt: at, updatedAt: at, ...(app ? { createdByApp: app, updatedByApps: [{ slug: app, date: at }] } : {}), ...source };
  }

  /** cozyMetadata after a change of the content by `app` (uploadedAt/By, updatedByApps as cozy-stack keeps them). */
  private changed(cm: Doc | undefined, at: string, app?: string, source?: SourceAccount): Doc {
    const next: Doc = { ...(cm ?? {}), updatedAt: at, uploadedAt: at, ...source };
    if (app) {
      const apps = ((cm?.updatedByApps as Doc[] | undefined) ?? []).filter((a) => a.slug !== app);
      next.updatedByApps = [...apps, { slug: app, date: at }];
      next.uploadedBy = { slug: app };
    }
    return next;
  }

  private async find(instance: Instance, id: string): Promise<FileDoc | null> {
    try {
      const doc = await this.store(instance).get(FILES_DOCTYPE, id);
      return doc._deleted ? null : (doc as FileDoc);
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
  }

  async stat(instance: Instance, id: string): Promise<FileDoc> {
    await this.init(instance);
    const doc = await this.find(instance, id);
    if (!doc) throw new NotFound(`no file or directory ${id.slice(0, 100)}`);
    return doc;
  }

  async dir(instance: Instance, id: string): Promise<FileDoc> {
    return asDir(await this.stat(instance, id));
  }

  /** The child of `dirId` named `name`, or null. */
  async child(instance: Instance, dirId: string, name: string): Promise<FileDoc | null> {
    const res = await this.store(instance).find(FILES_DOCTYPE, { selector: { dir_id: dirId, name }, limit: 1, skip: 0 });
    return (res.docs[0] as FileDoc | undefined) ?? null;
  }

  async statByPath(instance: Instance, raw: unknown): Promise<FileDoc> {
    await this.init(instance);
    const path = validatePath(raw);
    const dirs = await this.store(instance).find(FILES_DOCTYPE, { selector: { path }, limit: 1, skip: 0 });
    if (dirs.docs[0]) return dirs.docs[0] as FileDoc;
    const i = path.lastIndexOf('/');
    const parent = i === 0 ? '/' : path.slice(0, i);
    const dir = (await this.store(instance).find(FILES_DOCTYPE, { selector: { path: parent }, limit: 1, skip: 0 })).docs[0];
    const file = dir ? await this.child(instance, String(dir._id), path.slice(i + 1)) : null;
    if (!file) throw new NotFound(`no file or directory at ${path.slice(0, 300)}`);
    return file;
  }

  /** The full path of a file or directory. */
  async pathOf(instance: Instance, doc: FileDoc): Promise<string> {
    if (isDir(doc)) return String(doc.path);
    return joinPath(String((await this.stat(instance, doc.dir_id)).path), doc.name);
  }

  /** Ids from the root down to `doc`'s parent, then `doc` itself: what a rule on a directory covers. */
  async lineage(instance: Instance, doc: FileDoc): Promise<string[]> {
    const ids = [doc._id];
    for (let cur = doc; cur._id !== ROOT_DIR_ID && cur.dir_id;) {
      cur = await this.stat(instance, cur.dir_id);
      ids.unshift(cur._id);
    }
    return ids;
  }

  /** A directory's children by name, `limit` at a time; `cursor` is the last name of the previous page. */
  async children(instance: Instance, dirId: string, opts: { limit: number; cursor?: string }): Promise<{ docs: FileDoc[]; next: string | null }> {
    const selector: Record<string, unknown> = { dir_id: dirId, name: opts.cursor === undefined ? { $gte: '' } : { $gt: opts.cursor } };
    const sort = [{ field: 'dir_id', dir: 'asc' as const }, { field: 'name', dir: 'asc' as const }];
    const res = await this.store(instance).find(FILES_DOCTYPE, { selector, sort, limit: opts.limit + 1, skip: 0 });
    const docs = res.docs.slice(0, opts.limit) as FileDoc[];
    return { docs, next: res.docs.length > opts.limit ? (docs.at(-1)?.name ?? null) : null };
  }

  async assertFreeName(instance: Instance, dirId: string, name: string, self?: string): Promise<void> {
    const taken = await this.child(instance, dirId, name);
    if (taken && taken._id !== self) throw new Conflict(`a file or directory named "${name}" already exists there`);
  }

  /** The directory where new things go: it must exist, be a directory and not be in the trash. */
  async target(instance: Instance, dirId: string): Promise<FileDoc> {
    return this.targetOf(await this.stat(instance, dirId));
  }

  /** `dir` (just read) if it is a directory where new things can go. */
  private targetOf(dir: FileDoc): FileDoc {
    asDir(dir);
    if (dir._id === TRASH_DIR_ID || String(dir.path).startsWith(`${TRASH_PATH}/`)) throw new UnprocessableEntity('nothing can be created in the trash', 'in_trash');
    return dir;
  }

  async createDir(instance: Instance, o: NewDir): Promise<FileDoc> {
    const name = validateName(o.name);
    return this.lock(instance, async () => {
      const parent = await this.target(instance, o.dirId);
      await this.assertFreeName(instance, parent._id, name);
      const at = this.now().toISOString();
      const doc: Doc = {
        type: 'directory', name, dir_id: parent._id, path: joinPath(String(parent.path), name),
        created_at: o.createdAt ?? at, updated_at: o.updatedAt ?? at, tags: o.tags ?? [], cozyMetadata: this.meta(at, o.app, o.source),
      };
      return (await this.store(instance).put(FILES_DOCTYPE, doc)).doc as FileDoc;
    });
  }

  async diskUsage(instance: Instance): Promise<number> {
    await this.init(instance);
    const known = this.usage.get(instance.id);
    if (known !== undefined) return known;
    let used = 0;
    let bookmark: string | undefined;
    for (;;) {
      const page = await this.store(instance).find(FILES_DOCTYPE, { selector: { type: 'file' }, fields: ['size'], limit: 1000, skip: 0, ...(bookmark ? { bookmark } : {}) });
      for (const d of page.docs) used += Number(d.size ?? 0);
      if (page.docs.length < 1000) break;
      bookmark = page.bookmark;
    }
    const versions = await this.store(instance).allDocs(VERSIONS_DOCTYPE, { include_docs: true });
    for (const r of versions.rows) if (r.doc && !r.doc._deleted) used += Number(r.doc.size ?? 0);
    this.usage.set(instance.id, used);
    return used;
  }

  /** Bytes still free under the instance's quota (Infinity without one). */
  async room(instance: Instance): Promise<number> {
    if (instance.diskQuota === null) return Number.MAX_SAFE_INTEGER;
    return Math.max(0, instance.diskQuota - (await this.diskUsage(instance)));
  }

  /** Streams the body into a new blob within the quota; also returns the first bytes (the MIME type; an image's EXIF if `image`). */
  private async writeBlob(instance: Instance, body: Readable, size: number | undefined, md5: string | undefined, freed = 0, image = false): Promise<BlobInfo & { head: Buffer }> {
    const room = (await this.room(instance)) + freed;
    if (size !== undefined && size > room) throw new PayloadTooLarge(`the file (${size} bytes) does not fit in the ${room} bytes left of the quota`);
    const head: Buffer[] = [];
    const blob = await this.deps.blobs.write(instance.id, body, { maxBytes: room, head, ...(image ? { headBytes: EXIF_HEAD_BYTES } : {}), ...(size === undefined ? {} : { expectedSize: size }), ...(md5 ? { expectedMd5: md5 } : {}) });
    return { ...blob, head: Buffer.concat(head) };
  }

  addUsage(instance: Instance, delta: number): void {
    const cur = this.usage.get(instance.id);
    if (cur !== undefined) this.usage.set(instance.id, cur + delta);
  }

  async upload(instance: Instance, o: NewFile): Promise<FileDoc> {
    const name = validateName(o.name);
    // fail early, before reading the body (the checks are repeated under the lock); a small body is
    // cheaper to read than a second name lookup, so only large or unknown sizes are checked twice
    const parent = o.parent?._id === o.dirId ? this.targetOf(o.parent) : await this.target(instance, o.dirId);
    if (o.size === undefined || o.size >= EARLY_CHECK_BYTES) await this.assertFreeName(instance, parent._id, name);
    const blob = await this.writeBlob(instance, o.body, o.size, o.md5, 0, (await mimeOf(name, o.mime)).startsWith('image/'));
    let committed = false;
    try {
      const mime = await mimeOf(name, o.mime, blob.head);
      // an image's date and size, from its first bytes: the EXIF date is its creation date unless the client gave one
      const facts = classOf(mime) === 'image' ? await imageFacts(blob.head) : null;
      // the lock is released at the commit (the next upload's checks see it), not once it is durable
      const { durable } = await this.lock(instance, async () => {
        await this.target(instance, parent._id);
        await this.assertFreeName(instance, parent._id, name);
        if (blob.size > (await this.room(instance))) throw new PayloadTooLarge('the quota was reached while the file was uploaded');
        const at = this.now().toISOString();
        const createdAt = o.createdAt ?? facts?.takenAt ?? o.updatedAt ?? at;
        const metadata = facts ? { datetime: createdAt, ...facts.metadata, ...o.metadata } : o.metadata;
        const doc: Doc = {
          type: 'file', name, dir_id: parent._id, created_at: createdAt, updated_at: o.updatedAt ?? at, tags: o.tags ?? [],
          size: String(blob.size), md5sum: blob.md5, mime, class: classOf(mime), executable: o.executable === true, trashed: false,
          internal_vfs_id: blob.key, cozyMetadata: { ...this.meta(at, o.app, o.source), uploadedAt: at, ...(o.app ? { uploadedBy: { slug: o.app } } : {}) },
          ...(metadata === undefined ? {} : { metadata }),
        };
        const written = await untilCommitted((onCommit) => this.store(instance).put(FILES_DOCTYPE, doc, onCommit));
        committed = true;
        this.addUsage(instance, blob.size);
        return written;
      });
      return (await durable).doc as FileDoc;
    } catch (err) {
      // once committed, the document names the blob: whatever failed after (the WAL's fsync), the blob stays
      if (!committed) await this.deps.blobs.remove(instance.id, blob.key);
      throw err;
    }
  }

  /**
   * New contents for a file (PUT /files/:id). The previous content becomes an old version or goes
   * (versions.ts); the version document is written before the file's, so that a crash in between
   * leaves at worst a version equal to the current content, never a blob that nothing names.
   */
  async overwrite(instance: Instance, id: string, o: Omit<NewFile, 'dirId' | 'name' | 'createdAt'> & { ifMatch?: string }): Promise<FileDoc> {
    const current = await this.stat(instance, id);
    if (isDir(current)) throw new UnprocessableEntity('a directory has no content to overwrite', 'not_a_file');
    if (o.ifMatch !== undefined && o.ifMatch !== current._rev) throw new PreconditionFailed('the file changed since this revision (If-Match)');
    const estimate = plan(versionFrom(current), await versionsOf(this, instance, id), this.policy);
    const blob = await this.writeBlob(instance, o.body, o.size, o.md5, freedBy(current, estimate), String(current.mime).startsWith('image/'));
    let committed = false;
    try {
      const at = this.now().toISOString();
      const image = classOf(await mimeOf(current.name, o.mime, blob.head)) === 'image' && o.metadata === undefined;
      const facts = image ? await imageFacts(blob.head) : null;
      // the lock is let go once the writes are committed, not once they are durable
      const { durable } = await this.lock(instance, async () => {
        const now = await this.stat(instance, id);
        if (o.ifMatch !== undefined && o.ifMatch !== now._rev) throw new PreconditionFailed('the file changed since this revision (If-Match)');
        const mime = await mimeOf(now.name, o.mime, blob.head);
        const next: Doc = {
          ...now, size: String(blob.size), md5sum: blob.md5, mime, class: classOf(mime), updated_at: o.updatedAt ?? at, internal_vfs_id: blob.key,
          ...(o.executable === undefined ? {} : { executable: o.executable }), ...(o.tags === undefined ? {} : { tags: o.tags }),
          ...(o.metadata === undefined ? {} : { metadata: o.metadata }),
          ...(facts && classOf(mime) === 'image' ? { metadata: refreshedMetadata(now.metadata as Doc | undefined, facts, now.created_at) } : {}),
          cozyMetadata: this.changed(now.cozyMetadata as Doc | undefined, at, o.app, o.source),
        };
        return this.replaceContent(instance, now, next, blob.size, undefined, () => (committed = true));
      });
      return await this.settleReplaced(instance, durable);
    } catch (err) {
      // once the file's document is committed it names the new blob: whatever failed after (the WAL's fsync), the blob stays
      if (!committed) await this.deps.blobs.remove(instance.id, blob.key);
      throw err;
    }
  }

  /**
   * Under the lock: commits `next` (new content of `now`) after keeping `now`'s content as a version
   * or not (`addedBytes`: the new blob's size, 0 for a reverted version, already counted). Resolves once
   * its writes are committed (the caller may let the lock go) with the promise of their durability, which
   * gives the file and the blobs no longer named (contents and thumbnails), to remove then and not before:
   * until the commits are durable a crash could bring back the documents that named them.
   * `onCommit`: called once the file's document is committed.
   */
  async replaceContent(
    instance: Instance, now: FileDoc, next: Doc, addedBytes: number, reverted?: VersionDoc, onCommit?: () => void,
  ): Promise<{ durable: Promise<{ doc: FileDoc; gone: string[]; thumbs: string[] }> }> {
    const store = this.store(instance);
    const olds = (await versionsOf(this, instance, now._id)).filter((v) => v._id !== reverted?._id);
    const candidate = versionFrom(now);
    const { keep, drop } = plan(candidate, olds, this.policy);
    // in this order, each committed before the next: a crash in between leaves at worst a version equal to the content
    const others: Array<Promise<unknown>> = [];
    if (keep) others.push((await untilCommitted((cb) => store.put(VERSIONS_DOCTYPE, candidate, cb))).durable);
    // the thumbnails were made from the content replaced: they go (the thumbnail job makes the new ones)
    delete next.internal_thumbnails;
    // a reverted version's blob is now the file's: it is neither freed nor removed
    const freed = (keep ? 0 : Number(now.size)) + drop.reduce((n, v) => n + Number(v.size), 0);
    const file = (await untilCommitted((cb) => store.put(FILES_DOCTYPE, next, () => {
      this.addUsage(instance, addedBytes - freed);
      onCommit?.();
      cb();
    }))).durable;
    const dropped = reverted ? [...drop, reverted] : drop;
    if (dropped.length) {
      others.push((await untilCommitted((cb) => store.putAll(VERSIONS_DOCTYPE, dropped.map((v) => ({ _id: v._id, _rev: v._rev, _deleted: true })), cb))).durable);
    }
    const gone = [...(keep ? [] : [String(now.internal_vfs_id)]), ...drop.map((v) => v.internal_vfs_id)];
    return { durable: Promise.all([file, ...others]).then(([w]) => ({ doc: w.doc as FileDoc, gone, thumbs: thumbKeysOf(now) })) };
  }

  /** After replaceContent's writes are durable: the file, once what they stopped naming is removed. */
  private async settleReplaced(instance: Instance, durable: Promise<{ doc: FileDoc; gone: string[]; thumbs: string[] }>): Promise<FileDoc> {
    const { doc, gone, thumbs } = await durable;
    await this.dropThumbs(instance, thumbs);
    for (const key of gone) await this.deps.blobs.remove(instance.id, key);
    return doc;
  }

  /** Makes an old version the current content; the current one becomes a version (or goes) by the same rules. */
  async revert(instance: Instance, fileId: string, versionId: string): Promise<FileDoc> {
    // the lock is let go once the writes are committed, not once they are durable
    const { durable } = await this.lock(instance, async () => {
      const now = await this.stat(instance, fileId);
      const version = (await versionsOf(this, instance, fileId)).find((v) => v._id === `${fileId}/${versionId}` || v._id === versionId);
      if (!version) throw new NotFound(`no version ${versionId.slice(0, 100)} of this file`);
      const at = this.now().toISOString();
      const next: Doc = {
        ...now, size: version.size, md5sum: version.md5sum, internal_vfs_id: version.internal_vfs_id, updated_at: at,
        cozyMetadata: { ...(now.cozyMetadata as Doc), updatedAt: at, uploadedAt: at },
      };
      return this.replaceContent(instance, now, next, 0, version);
    });
    return this.settleReplaced(instance, durable);
  }

  /** The bytes of a file (or a range of them). */
  async open(instance: Instance, doc: FileDoc, range?: ByteRange): Promise<Readable> {
    if (isDir(doc)) throw new UnprocessableEntity('a directory has no content: download its files', 'not_a_file');
    // the whole file is [0, size - 1]: the blob store then needs no stat to know where to stop
    const size = Number(doc.size);
    const whole = range === undefined && Number.isSafeInteger(size) && size > 0 ? { start: 0, end: size - 1 } : range;
    return this.deps.blobs.read(instance.id, String(doc.internal_vfs_id), whole);
  }
}
