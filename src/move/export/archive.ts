/**
 * The zip of one part of an export, streamed in the layout of ../layout.ts (cozy-stack model/move/export.go
 * ExportCopyData): part 0 holds `instance.json`, every document of every doctype but the files', every directory's
 * document, then its bucket of files; each file is its document immediately followed by its content, then each old
 * version likewise. Entries are made only when the zip writer (common/zip-writer.ts) asks for them, that is as the
 * output is read, documents a page at a time, blobs streamed, so memory does not grow with the instance (but for the
 * paths of the directories, kept while a part with files streams).
 *
 * What an export is a picture of: the instance when its job began, in every part, whenever each is downloaded
 * (snapshot.ts). The documents are the export's copy of them, and each content is the blob its copied document names,
 * kept until the export ends even if the file was overwritten or deleted since. (cozy-stack copies the documents at the
 * job's time but reads each part's files and versions from the VFS when the part is downloaded, so that its parts can
 * disagree.) The owner's avatar and Home's wallpaper are those the snapshot copied too.
 */
import type { Readable } from 'node:stream';
import { NotFound } from '../../common/errors.js';
import type { Doc } from '../../data/store.js';
import type { FileSystem } from '../../files/fs.js';
import type { Instance } from '../../instances/types.js';
import { docEntry, fileContentEntry, FILES_DOCTYPE, INSTANCE_ENTRY, versionContentEntry, VERSIONS_DOCTYPE } from '../layout.js';
import type { ExportDoc } from '../types.js';
import type { PartRange } from './parts.js';
import { snapshotDocs, snapshotImages } from './snapshot.js';
import type { ExportStore } from './store.js';
import { alreadyCompressed, zipStream, type ZipEntry } from '../../common/zip-writer.js';

const FILE_MODE = 0o100640;
const EXEC_MODE = 0o100750;

/** The instance document of `instance.json`: the instance less its secrets (the passphrase's hash, the onboarding token). */
export function instanceDocument(instance: Instance): Record<string, unknown> {
  const { passphraseHash: _hash, registerToken: _token, ...rest } = instance;
  return rest;
}

const mtimeOf = (doc: Doc, fallback: Date): Date => {
  const at = Date.parse(String(doc.updated_at ?? (doc.cozyMetadata as { updatedAt?: unknown } | undefined)?.updatedAt ?? ''));
  return Number.isFinite(at) ? new Date(at) : fallback;
};

/** A JSON entry: `json` is the value's text (a copied document's, as stored) or the value to write. */
const jsonEntry = (name: string, json: string | Record<string, unknown>, mtime: Date): ZipEntry =>
  ({ name, mtime, mode: FILE_MODE, deflate: true, body: Buffer.from(typeof json === 'string' ? json : JSON.stringify(json)) });

export interface ArchiveSource {
  /** The exports' store, which holds each export's copy of the documents. */
  store: ExportStore;
  fs: FileSystem;
}

/** The zip of `range` of `exp` (a done export of `instance`); an error while streaming destroys the stream. */
export function exportPartZip(src: ArchiveSource, instance: Instance, exp: ExportDoc, range: PartRange): Readable {
  return zipStream(partEntries(src, instance, exp, range));
}

/** The entries of one part, in order, each read from the export's copy of the documents when the writer asks for it. */
async function* partEntries(src: ArchiveSource, instance: Instance, exp: ExportDoc, range: PartRange): AsyncGenerator<ZipEntry> {
  const created = new Date(exp.created_at);
  if (range.number === 0) {
    yield jsonEntry(INSTANCE_ENTRY, instanceDocument(instance), created);
    for (const { entry, data } of await snapshotImages(src.store, exp._id)) yield { name: entry, mtime: created, mode: FILE_MODE, deflate: true, body: data };
    for await (const { doctype, doc, body } of snapshotDocs(src.store, exp._id, 0)) yield jsonEntry(docEntry(doctype, doc._id as string), body, mtimeOf(doc, created));
    for await (const { doc, body } of snapshotDocs(src.store, exp._id, 1)) yield jsonEntry(docEntry(FILES_DOCTYPE, doc._id as string), body, mtimeOf(doc, created));
  }
  const { start, end } = range;
  const entriesOf = async function* (doctype: string, doc: Doc, json: string, name: string, mode: number): AsyncGenerator<ZipEntry> {
    const found = await openContent(src.fs, instance, doc);
    // a kept blob is never missing but by a fault of the disk or the object store: the file is then out, whole
    if (!found) return;
    const { body, size } = found;
    let taken = false;
    try {
      const mtime = mtimeOf(doc, created);
      yield jsonEntry(docEntry(doctype, doc._id as string), json, mtime);
      yield { name, mtime, mode, deflate: !alreadyCompressed(doc), body: { size, open: async () => ((taken = true), body) } };
    } finally {
      // the download stopped before the content was written: its blob is closed here
      if (!taken) body.destroy();
    }
  };
  if (start.doctype === FILES_DOCTYPE) {
    const dirs = await dirPaths(src.store, exp._id);
    const until = end?.doctype === FILES_DOCTYPE ? end.id : null;
    for await (const { doc, body } of snapshotDocs(src.store, exp._id, 2, { doctype: FILES_DOCTYPE, id: start.id }, until)) {
      const path = fileContentEntry(`${dirs.get(String(doc.dir_id)) ?? ''}/${String(doc.name)}`);
      yield* entriesOf(FILES_DOCTYPE, doc, body, path, doc.executable === true ? EXEC_MODE : FILE_MODE);
    }
    if (until !== null) return;
  }
  const from = start.doctype === VERSIONS_DOCTYPE ? start.id : '';
  for await (const { doc, body } of snapshotDocs(src.store, exp._id, 3, { doctype: VERSIONS_DOCTYPE, id: from }, end?.id ?? null)) {
    yield* entriesOf(VERSIONS_DOCTYPE, doc, body, versionContentEntry(doc._id as string), FILE_MODE);
  }
}

/** The content a copied document names: its blob, kept for the export (snapshot.ts), or null if it is missing. */
async function openContent(fs: FileSystem, instance: Instance, doc: Doc): Promise<{ body: Readable; size: number } | null> {
  const key = String(doc.internal_vfs_id);
  const size = await fs.blobs.size(instance.id, key);
  if (size === null) return null;
  try {
    return { body: await fs.blobs.read(instance.id, key), size };
  } catch (err) {
    if (err instanceof NotFound) return null;
    throw err;
  }
}

/** The path of every directory of the export ("" for the root), as they were when it began. */
async function dirPaths(store: ExportStore, exportId: string): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  for await (const { doc } of snapshotDocs(store, exportId, 1)) paths.set(doc._id as string, String(doc.path).replace(/\/+$/, ''));
  return paths;
}
