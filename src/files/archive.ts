/**
 * A zip of a selection of files and directories (cozy-stack's POST /files/archive), streamed:
 * yazl pulls each file's blob as it writes the archive, so nothing is held in memory and the
 * first bytes go out at once. Directories are walked page by page; names inside the archive are
 * paths relative to each selected entry's parent, as cozy-stack does. Trashed files are left out.
 */
import type { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import { isDir, type FileDoc } from './types.js';

const PAGE = 500;

/** A name as a zip path segment: yazl reads "\\" as a folder separator and "C:…" as a drive, so both are neutralised. */
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
  const zip = new ZipFile();
  const out = zip.outputStream as Readable;
  zip.on('error', (err: Error) => out.destroy(err));
  void (async () => {
    try {
      for await (const { doc, path } of entries) {
        const mtime = new Date(doc.updated_at);
        if (isDir(doc)) zip.addEmptyDirectory(path, { mtime });
        // opened only when yazl reaches this entry: one file descriptor at a time
        else zip.addReadStreamLazy(path, { mtime, size: Number(doc.size) }, (cb) => void fs.open(instance, doc).then((s) => cb(null, s), (e: Error) => cb(e, undefined as never)));
      }
      zip.end();
    } catch (err) {
      out.destroy(err as Error);
    }
  })();
  return out;
}
