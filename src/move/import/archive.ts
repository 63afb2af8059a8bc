/**
 * Reads an export part (a zip on the local disk) entry after entry with yauzl, streaming: the central directory is read
 * lazily, one entry at a time, and a content is piped where it goes without ever holding the zip (nor a file) in memory.
 * yauzl checks that each entry inflates to exactly its declared size, so a "zip bomb" that lies about it fails its stream.
 * A small entry (a document, a small file: most of an export) is read raw and inflated in one call instead, with the
 * same check: a zlib stream per entry cost more than the entry itself (bench/import.bench.ts).
 */
import { PassThrough, Readable, pipeline } from 'node:stream';
import { inflateRawSync } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';

export interface ZipLimits {
  /** At most this many entries in one part (more: the part is refused before anything is read). */
  maxEntries: number;
  /** At most this many bytes, inflated, in one entry (more: the entry is skipped). */
  maxEntryBytes: number;
}

export interface ZipEntry {
  name: string;
  /** The size the zip declares for the inflated entry (checked by yauzl as it inflates). */
  size: number;
  open(): Promise<Readable>;
}

/** Entries up to this size (inflated and deflated) are read whole. */
const WHOLE_BYTES = 256 * 1024;
const STORED = 0;
const DEFLATED = 8;

/** A small entry's bytes, inflated in one go; refused when they are not exactly the size the zip declares. */
async function readWhole(zip: ZipFile, entry: Entry): Promise<Readable> {
  const raw = await new Promise<Buffer>((resolve, reject) => zip.openReadStream(entry, { decompress: false }, (err, stream) => {
    if (err) return reject(err);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c)).on('error', reject).on('end', () => resolve(Buffer.concat(chunks)));
  }));
  const size = entry.uncompressedSize;
  let data: Buffer;
  try {
    data = entry.compressionMethod === STORED ? raw : inflateRawSync(raw, { maxOutputLength: size + 1 });
  } catch (err) {
    throw new Error(`the entry does not inflate to the ${size} bytes it declares: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (data.length !== size) throw new Error(`the entry inflates to other than the ${size} bytes it declares`);
  return Readable.from(size ? [data] : []);
}

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true, autoClose: true, validateEntrySizes: true, strictFileNames: false, decodeStrings: false }, (err, zip) => (err ? reject(err) : resolve(zip)));
  });
}

/**
 * Calls `onEntry` for each entry of the zip at `path`, in the order of its central directory (the writer's order),
 * the next one once the previous is handled. Rejects when the zip cannot be read (truncated, not a zip, too many entries).
 */
export async function eachEntry(path: string, limits: ZipLimits, onEntry: (entry: ZipEntry) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const zip = await openZip(path);
  if (zip.entryCount > limits.maxEntries) {
    zip.close();
    throw new Error(`the archive holds ${zip.entryCount} entries, more than the ${limits.maxEntries} allowed`);
  }
  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      zip.close();
      reject(err);
    };
    zip.on('error', fail);
    zip.on('end', () => {
      if (!failed) resolve();
    });
    zip.on('entry', (entry: Entry) => {
      if (signal?.aborted) return fail(signal.reason instanceof Error ? signal.reason : new Error('the import was aborted'));
      // through a pipeline, so that an error of yauzl's stream (more bytes than declared) reaches the reader, never the process
      const small = entry.uncompressedSize <= WHOLE_BYTES && entry.compressedSize <= WHOLE_BYTES && (entry.compressionMethod === STORED || entry.compressionMethod === DEFLATED);
      const open = small ? () => readWhole(zip, entry) : () => new Promise<Readable>((res, rej) => zip.openReadStream(entry, (err, stream) => {
        if (err) return rej(err);
        const out = new PassThrough();
        pipeline(stream, out, () => undefined);
        res(out);
      }));
      // names as raw bytes (decodeStrings: false): yauzl would fail the whole zip on one name that leaves its folder,
      // where the import leaves that entry out (layout.ts refuses such names) and reads the others
      const raw = entry.fileName as unknown as Buffer | string;
      onEntry({ name: typeof raw === 'string' ? raw : raw.toString('utf8'), size: entry.uncompressedSize, open }).then(() => zip.readEntry(), fail);
    });
    zip.readEntry();
  });
}

/** The whole entry as a Buffer, when it is at most `max` bytes (a document); null when it is larger. */
export async function readSmall(entry: ZipEntry, max: number): Promise<Buffer | null> {
  if (entry.size > max) return null;
  const stream = await entry.open();
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > max) {
      stream.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
