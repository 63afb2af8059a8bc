/**
 * The snapshot of an export: what every part of one export is a picture of, the instance at the moment its job began.
 *
 * - Documents: the job copies every document (with its attachments inline) from a DocSnapshot of the instance's store
 *   (one read transaction: one sequence of every doctype) into the export's own rows (store.ts `export_docs`); every
 *   part is then written from these rows, whenever it is downloaded, so part 0's documents and a later part's files
 *   agree, whatever changed since.
 * - File contents: a blob is never changed under its key, and the file system removes one only after the document
 *   that stops naming it is committed; from the export's start (its row, written before the snapshot is taken) until it
 *   expires, fails or is replaced by a new export, such removals are recorded as pins instead (files/blobs/held.ts),
 *   so that every blob the copied documents name stays readable. Nothing is copied: a file deleted or overwritten
 *   meanwhile costs its old content's bytes until the pins are released (Exports.release: at the next sweep, every
 *   minute, or when a new export replaces this one). The copy of the documents goes with the export's row.
 * - The owner's avatar and Home's wallpaper (Hearth's entries of part 0) are copied into the snapshot too, as they are
 *   at its start (kind 4, a few MB at most: both are re-encoded within their limits when uploaded), so that a new one
 *   set before part 0 is downloaded does not change the archive.
 */
import type { AllDocsOptions, AllDocsResult, Doc, DocStore } from '../../data/store.js';
import { isDir } from '../../files/types.js';
import { FILES_DOCTYPE, VERSIONS_DOCTYPE } from '../layout.js';
import type { ExportDoc } from '../types.js';
import type { PartSplitter } from './parts.js';
import type { ExportStore, SnapshotDoc, SnapshotKind } from './store.js';

const BATCH_DOCS = 500;
const BATCH_BYTES = 4 * 1024 * 1024;
const PAGE = 500;

/** The docs of `doctype` with ids in [from, to) (to null: to the end), a page at a time, without design docs. */
export async function* docsOf(store: { allDocs(doctype: string, opts: AllDocsOptions): Promise<AllDocsResult> }, doctype: string, from = '', to: string | null = null): AsyncGenerator<Doc> {
  for (let start = from; ;) {
    const res = await store.allDocs(doctype, { include_docs: true, skipDesign: true, limit: PAGE, startkey: start, ...(to === null ? {} : { endkey: to, inclusive_end: false }) });
    for (const row of res.rows) if (row.doc && !row.doc._deleted) yield row.doc;
    if (res.rows.length < PAGE) return;
    start = `${res.rows[res.rows.length - 1]!.key}\u0000`;
  }
}

/** An image of part 0, read when the snapshot is taken: its entry's name, and how to read it (null: the instance has none). */
export interface SnapshotImage { entry: string; read(): Promise<Buffer | null> }

/**
 * Copies the instance's documents and `images` at one moment into the export's rows; the files and versions fill
 * `parts`. Answers the bytes of contents.
 */
export async function takeSnapshot(store: ExportStore, docs: DocStore, exp: ExportDoc, parts: PartSplitter, signal: AbortSignal, images: SnapshotImage[] = []): Promise<number> {
  const snap = await docs.snapshot();
  const kept: SnapshotDoc[] = [];
  for (const image of images) {
    const data = await image.read();
    if (data) kept.push({ kind: 4, doctype: image.entry, id: '', body: data.toString('base64') });
  }
  if (kept.length) await store.saveDocs(exp._id, kept);
  let batch: SnapshotDoc[] = [];
  let bytes = 0;
  let total = 0;
  const add = async (kind: SnapshotKind, doctype: string, doc: Doc) => {
    const body = JSON.stringify(doc);
    batch.push({ kind, doctype, id: doc._id as string, body });
    bytes += body.length;
    if (batch.length >= BATCH_DOCS || bytes >= BATCH_BYTES) {
      signal.throwIfAborted();
      await store.saveDocs(exp._id, batch);
      batch = [];
      bytes = 0;
    }
  };
  try {
    const only = exp.with_doctypes?.length ? new Set(exp.with_doctypes) : null;
    for (const doctype of await snap.listDoctypes()) {
      if (doctype === FILES_DOCTYPE || doctype === VERSIONS_DOCTYPE || (only && !only.has(doctype))) continue;
      for await (const listed of docsOf(snap, doctype)) {
        // attachments inline (base64), so that the document is whole in the archive and imports as it is
        await add(0, doctype, listed._attachments ? await snap.get(doctype, listed._id as string, { attachments: true }) : listed);
      }
    }
    for await (const doc of docsOf(snap, FILES_DOCTYPE)) {
      if (isDir(doc)) {
        await add(1, FILES_DOCTYPE, doc);
        continue;
      }
      await add(2, FILES_DOCTYPE, doc);
      parts.add(FILES_DOCTYPE, doc._id as string, Number(doc.size) || 0);
      total += Number(doc.size) || 0;
    }
    for await (const version of docsOf(snap, VERSIONS_DOCTYPE)) {
      await add(3, VERSIONS_DOCTYPE, version);
      parts.add(VERSIONS_DOCTYPE, version._id as string, Number(version.size) || 0);
      total += Number(version.size) || 0;
    }
    if (batch.length) await store.saveDocs(exp._id, batch);
  } finally {
    await snap.close();
  }
  return total;
}

/** The images the snapshot kept (kind 4), in their entries' order. */
export async function snapshotImages(store: ExportStore, exportId: string): Promise<Array<{ entry: string; data: Buffer }>> {
  return (await store.docs(exportId, 4, { doctype: '', id: '' }, true, null, PAGE)).map((r) => ({ entry: r.doctype, data: Buffer.from(r.body, 'base64') }));
}

/** The export's copied documents of `kind` from (`from`, included) to `until` (excluded; null: to the end), a page at a time. */
export async function* snapshotDocs(store: ExportStore, exportId: string, kind: SnapshotKind, from = { doctype: '', id: '' }, until: string | null = null): AsyncGenerator<{ doctype: string; doc: Doc; body: string }> {
  for (let after = from, inclusive = true; ;) {
    const rows = await store.docs(exportId, kind, after, inclusive, until, PAGE);
    for (const r of rows) yield { doctype: r.doctype, doc: JSON.parse(r.body) as Doc, body: r.body };
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1]!;
    after = { doctype: last.doctype, id: last.id };
    inclusive = false;
  }
}
