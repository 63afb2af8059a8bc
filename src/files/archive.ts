/**
 * A zip of a selection of files and directories (cozy-stack's POST /files/archive), streamed:
 * the zip writer (common/zip-writer.ts) pulls each entry, then its file's blob, as it writes the
 * archive, so nothing is held in memory whatever the number of files, and the first bytes go out at once.
 * Directories are walked page by page; names inside the archive are paths relative to each selected
 * entry's parent, as cozy-stack does. Trashed files are left out. Already-compressed types are stored.
 */
import type { Readable } from 'node:stream';
import { alreadyCompressed, zipStream as writeZip, type ZipEntry } from '../common/zip-writer.js';
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import { isDir, type FileDoc } from './types.js';

const PAGE = 500;
const DIR_MODE = 0o40755;
const FILE_MODE = 0o100644;

/** A name as a zip path segment: unzip tools read "\\" as a folder separator and "C:…" as a drive, so both are neutralised. */
const zipSegment = (name: string): string => name.replace(/\\/g, '_').replace(/^([a-zA-Z]):/, '$1_');

async function* walk(fs: FileSystem, instance: Instance, doc: FileDoc, prefix: string): AsyncGenerator<{ doc: FileDoc; path: string }> {
  const path = prefix ? `${prefix}/${zipSegment(doc.name)}` : zipSegment(doc.name);
  yield { doc, path };
  if (!isDir(doc)) return;
  for (let cursor: string | undefined; ;) {
    const page = await fs.children(instance, doc._id, { limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    for (const child of page.docs) if (child.trashed !== true) yield* walk(fs, instance, child, path);
    if (page.next === null) return;
    cursor = page.next;
  }
}

/** The zip of `docs` (files and directories, with their subtrees); errors while streaming destroy the stream. */
export function zipOf(fs: FileSystem, instance: Instance, docs: FileDoc[]): Readable {
  return zipStream(fs, instance, (async function* () {
    for (const top of docs) yield* walk(fs, instance, top, '');
  })());
}

/** A zip of `entries` (each a file or a directory, at `path` in the zip), streamed; errors destroy the stream. */
export function zipStream(fs: FileSystem, instance: Instance, entries: AsyncIterable<{ doc: FileDoc; path: string }>): Readable {
  return writeZip((async function* (): AsyncGenerator<ZipEntry> {
    for await (const { doc, path } of entries) {
      const mtime = new Date(doc.updated_at);
      if (isDir(doc)) yield { name: `${path}/`, mtime, mode: DIR_MODE, deflate: false, body: Buffer.alloc(0) };
      // opened only when the writer reaches this entry: one file descriptor at a time
      else yield { name: path, mtime, mode: FILE_MODE, deflate: !alreadyCompressed({ mime: doc.mime, class: doc.class }), body: { size: Number(doc.size), open: () => fs.open(instance, doc) } };
    }
  })());
}
