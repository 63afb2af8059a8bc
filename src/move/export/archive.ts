/**
 * The zip of one part of an export, streamed in the layout of ../layout.ts (cozy-stack model/move/export.go
 * ExportCopyData): part 0 holds `instance.json`, every document of every doctype but the files', every directory's
 * document, then its bucket of files; each file is its document immediately followed by its content, then each old
 * version likewise. Documents are read page by page and each entry is made only when the zip writer (common/zip-writer.ts) asks
 * for it, that is as the output is read, so memory does not grow with the instance; blobs are streamed. A file whose blob is
 * missing is left out (document and content).
 */
import type { Readable } from 'node:stream';
import type { Doc, DocStore } from '../../data/store.js';
import type { FileSystem } from '../../files/fs.js';
import { isDir, type FileDoc } from '../../files/types.js';
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
  const content = (name: string, mtime: Date, mode: number, file: Doc, key: string, size: number): ZipEntry =>
    ({ name, mtime, mode, deflate: !alreadyCompressed(file), body: { size, open: () => src.fs.blobs.read(instance.id, key) } });
  if (start.doctype === FILES_DOCTYPE) {
    for await (const doc of docsOf(store, FILES_DOCTYPE, start.id, end?.doctype === FILES_DOCTYPE ? end.id : null)) {
      if (isDir(doc)) continue;
      const file = doc as FileDoc;
      const key = String(file.internal_vfs_id);
      const size = await src.fs.blobs.size(instance.id, key);
      if (size === null) continue;
      const mtime = mtimeOf(file, created);
      yield jsonEntry(docEntry(FILES_DOCTYPE, file._id), file, mtime);
      const path = `${await dirPath(src.fs, instance, file.dir_id, dirPaths)}/${file.name}`;
      yield content(fileContentEntry(path), mtime, file.executable === true ? EXEC_MODE : FILE_MODE, file, key, size);
    }
    if (end?.doctype === FILES_DOCTYPE) return;
  }
  const from = start.doctype === VERSIONS_DOCTYPE ? start.id : '';
  for await (const version of docsOf(store, VERSIONS_DOCTYPE, from, end?.id ?? null)) {
    const key = String(version.internal_vfs_id);
    const size = await src.fs.blobs.size(instance.id, key);
    if (size === null) continue;
    const mtime = mtimeOf(version, created);
    yield jsonEntry(docEntry(VERSIONS_DOCTYPE, version._id as string), version, mtime);
    yield content(versionContentEntry(version._id as string), mtime, FILE_MODE, version, key, size);
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
