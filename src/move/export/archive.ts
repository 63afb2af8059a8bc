/**
 * The zip of one part of an export, streamed in the layout of ../layout.ts (cozy-stack model/move/export.go
 * ExportCopyData): part 0 holds `instance.json`, every document of every doctype but the files', every directory's
 * document, then its bucket of files; each file is its document immediately followed by its content, then each old
 * version likewise. Documents are read page by page and each entry is made only when the zip writer (common/zip-writer.ts) asks
 * for it, that is as the output is read, so memory does not grow with the instance; blobs are streamed.
 *
 * What an export is a picture of. cozy-stack's job writes the documents (all doctypes but files and versions, and the
 * directories) into a tar.gz kept with the export, at the job's time, and measures the files for the cursors; each part's
 * files and versions are listed from CouchDB and read from the VFS when that part is downloaded: a file deleted since is
 * written as its document without its content ("Ignore missing file"), a file added since whose id falls in the part
 * is in, and nothing locks the VFS meanwhile. Hearth reads everything when each part is downloaded (part 0's documents
 * included), and guarantees, part by part, what cozy-stack does not: each file or version is its document immediately
 * followed by the content that document names, opened before the document is written (withContent): a file deleted
 * between the job and the download is out (document and content), one changed is in with its new document and content,
 * one added is in whole if its id falls in a part not yet downloaded (else out whole), and one deleted or changed while
 * its part streams is still whole (its blob is open). Not a snapshot across parts: a document of part 0 and a file of a
 * later part may be of different moments (a file moved into a directory made after part 0 was downloaded names a
 * directory that part 0 lacks; the import leaves such a file out, as any file whose directory is not there).
 */
import type { Readable } from 'node:stream';
import { NotFound } from '../../common/errors.js';
import type { Doc, DocStore } from '../../data/store.js';
import type { FileSystem } from '../../files/fs.js';
import { isDir } from '../../files/types.js';
import type { Instance } from '../../instances/types.js';
import { docEntry, fileContentEntry, FILES_DOCTYPE, INSTANCE_ENTRY, AVATAR_ENTRY, WALLPAPER_ENTRY, versionContentEntry, VERSIONS_DOCTYPE } from '../layout.js';
import type { ExportDoc } from '../types.js';
import type { PartRange } from './parts.js';
import { alreadyCompressed, zipStream, type ZipEntry } from '../../common/zip-writer.js';

const PAGE = 500;
const FILE_MODE = 0o100640;
const EXEC_MODE = 0o100750;

/** The docs of `doctype` with ids in [from, to) (to null: to the end), a page at a time, without design docs. */
export async function* docsOf(store: DocStore, doctype: string, from = '', to: string | null = null): AsyncGenerator<Doc> {
  for (let start = from; ;) {
    const res = await store.allDocs(doctype, { include_docs: true, skipDesign: true, limit: PAGE, startkey: start, ...(to === null ? {} : { endkey: to, inclusive_end: false }) });
    for (const row of res.rows) if (row.doc && !row.doc._deleted) yield row.doc;
    if (res.rows.length < PAGE) return;
    start = `${res.rows[res.rows.length - 1]!.key}\u0000`;
  }
}

/** The instance document of `instance.json`: the instance less its secrets (the passphrase's hash, the onboarding token). */
export function instanceDocument(instance: Instance): Record<string, unknown> {
  const { passphraseHash: _hash, registerToken: _token, ...rest } = instance;
  return rest;
}

const mtimeOf = (doc: Doc, fallback: Date): Date => {
  const at = Date.parse(String(doc.updated_at ?? (doc.cozyMetadata as { updatedAt?: unknown } | undefined)?.updatedAt ?? ''));
  return Number.isFinite(at) ? new Date(at) : fallback;
};

const jsonEntry = (name: string, value: unknown, mtime: Date): ZipEntry => ({ name, mtime, mode: FILE_MODE, deflate: true, body: Buffer.from(JSON.stringify(value)) });

export interface ArchiveSource {
  storeOf(instance: Instance): DocStore;
  fs: FileSystem;
  /** The owner's avatar as stored, or null (settings/avatar.ts). */
  avatar?(instance: Instance): Promise<Buffer | null>;
  /** Home's wallpaper as stored, or null (settings/wallpaper-routes.ts). */
  wallpaper?(instance: Instance): Promise<Buffer | null>;
  /**
   * Resolves once the jobs and triggers written so far are in the instances' DocStores (jobs/mirror.ts copies them
   * there a moment after each write): part 0 waits for it, so that a trigger made just before the download is in it.
   */
  mirrored?(): Promise<void>;
}

/** The zip of `range` of `exp` (a done export of `instance`); an error while streaming destroys the stream. */
export function exportPartZip(src: ArchiveSource, instance: Instance, exp: ExportDoc, range: PartRange): Readable {
  return zipStream(partEntries(src, instance, exp, range));
}

/** The entries of one part, in order, each read from the store when the writer asks for it. */
async function* partEntries(src: ArchiveSource, instance: Instance, exp: ExportDoc, range: PartRange): AsyncGenerator<ZipEntry> {
  const store = src.storeOf(instance);
  const created = new Date(exp.created_at);
  if (range.number === 0) {
    yield jsonEntry(INSTANCE_ENTRY, instanceDocument(instance), created);
    for (const [name, read] of [[AVATAR_ENTRY, src.avatar], [WALLPAPER_ENTRY, src.wallpaper]] as const) {
      const image = await read?.(instance);
      if (image) yield { name, mtime: created, mode: FILE_MODE, deflate: true, body: image };
    }
    const only = exp.with_doctypes?.length ? new Set(exp.with_doctypes) : null;
    await src.mirrored?.();
    for (const doctype of (await store.listDoctypes()).sort()) {
      if (doctype === FILES_DOCTYPE || doctype === VERSIONS_DOCTYPE || (only && !only.has(doctype))) continue;
      for await (const listed of docsOf(store, doctype)) {
        // attachments inline (base64), so that the document is whole in the archive and imports as it is
        const doc = listed._attachments ? await store.get(doctype, listed._id as string, { attachments: true }) : listed;
        yield jsonEntry(docEntry(doctype, doc._id as string), doc, mtimeOf(doc, created));
      }
    }
    for await (const doc of docsOf(store, FILES_DOCTYPE)) if (isDir(doc)) yield jsonEntry(docEntry(FILES_DOCTYPE, doc._id as string), doc, mtimeOf(doc, created));
  }
  const { start, end } = range;
  const dirPaths = new Map<string, string>();
  const entriesOf = async function* (doctype: string, listed: Doc, name: (doc: Doc) => Promise<string>, mode: (doc: Doc) => number): AsyncGenerator<ZipEntry> {
    const found = await withContent(src, instance, store, doctype, listed);
    if (!found) return;
    const { doc, body, size } = found;
    let taken = false;
    try {
      const mtime = mtimeOf(doc, created);
      yield jsonEntry(docEntry(doctype, doc._id as string), doc, mtime);
      yield { name: await name(doc), mtime, mode: mode(doc), deflate: !alreadyCompressed(doc), body: { size, open: async () => ((taken = true), body) } };
    } finally {
      // the download stopped before the content was written: its blob is closed here
      if (!taken) body.destroy();
    }
  };
  if (start.doctype === FILES_DOCTYPE) {
    const path = async (doc: Doc) => fileContentEntry(`${await dirPath(src.fs, instance, String(doc.dir_id), dirPaths)}/${String(doc.name)}`);
    const mode = (doc: Doc) => (doc.executable === true ? EXEC_MODE : FILE_MODE);
    for await (const doc of docsOf(store, FILES_DOCTYPE, start.id, end?.doctype === FILES_DOCTYPE ? end.id : null)) {
      if (!isDir(doc)) yield* entriesOf(FILES_DOCTYPE, doc, path, mode);
    }
    if (end?.doctype === FILES_DOCTYPE) return;
  }
  const from = start.doctype === VERSIONS_DOCTYPE ? start.id : '';
  const versionName = async (doc: Doc) => versionContentEntry(doc._id as string);
  for await (const version of docsOf(store, VERSIONS_DOCTYPE, from, end?.id ?? null)) yield* entriesOf(VERSIONS_DOCTYPE, version, versionName, () => FILE_MODE);
}

/**
 * A file's (or a version's) document with its content opened, so that what the archive says of a file is what it holds:
 * the blob the document names (immutable under its key: its size and MD5 are the document's) is opened before the
 * document is written, and an open blob stays readable if the file is deleted meanwhile. A blob gone since the page of
 * documents was read (the file deleted, or its content replaced) sends to the document as it is now, once: the file is
 * then in with its new content, or out (document and content) when it is gone.
 */
async function withContent(src: ArchiveSource, instance: Instance, store: DocStore, doctype: string, listed: Doc): Promise<{ doc: Doc; body: Readable; size: number } | null> {
  let doc = listed;
  for (let fresh = false; ; fresh = true) {
    const key = String(doc.internal_vfs_id);
    const size = await src.fs.blobs.size(instance.id, key);
    if (size !== null) {
      try {
        return { doc, body: await src.fs.blobs.read(instance.id, key), size };
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
      }
    }
    if (fresh) return null;
    const now = await store.get(doctype, doc._id as string).catch((err: unknown) => {
      if (err instanceof NotFound) return null;
      throw err;
    });
    if (!now || now.internal_vfs_id === doc.internal_vfs_id || (doctype === FILES_DOCTYPE && isDir(now))) return null;
    doc = now;
  }
}

/** A directory's path, from a small per-archive memory of the last directories seen ("" for the root). */
async function dirPath(fs: FileSystem, instance: Instance, dirId: string, known: Map<string, string>): Promise<string> {
  let path = known.get(dirId);
  if (path === undefined) {
    path = String((await fs.stat(instance, dirId)).path).replace(/\/+$/, '');
    if (known.size >= 1000) known.clear();
    known.set(dirId, path);
  }
  return path;
}
