/**
 * Reads an export part (a zip on the local disk) entry after entry with yauzl, streaming: the central directory is read
 * lazily, one entry at a time, and a content is piped where it goes without ever holding the zip (nor a file) in memory.
 * Each entry must inflate to exactly its declared size, so a "zip bomb" that lies about it fails its stream. A large
 * entry is read raw, through one buffer reused from read to read, and inflated here by 256 KiB output chunks (yauzl's
 * inflate gives 16 KiB ones: a thread-pool trip and three stream hops each, 130,000 of them for 2 GiB;
 * bench/import.bench.ts), its size counted as it comes.
 * A small entry (a document, a small file: most of an export) is read raw and inflated in one call instead, with the
 * same check: a zlib stream per entry cost more than the entry itself (bench/import.bench.ts). The zip is read through
 * a few windows of 1 MiB (`WindowedReader`): yauzl asks for each entry's central record and local header separately,
 * and a read of the thread pool for each cost more, under load, than the rest of a small entry's import.
 */
import { close, fstat, open, read } from 'node:fs';
import { Readable, Transform, pipeline } from 'node:stream';
import { MessageChannel } from 'node:worker_threads';
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { markFreshChunks } from '../../files/blobs/file-sink.js';

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
  /** For a small entry (read whole, at most WHOLE_BYTES): its bytes, inflated and checked, without a stream. */
  whole?: () => Promise<Buffer>;
}

/** Entries up to this size (inflated and deflated) are read whole. */
const WHOLE_BYTES = 256 * 1024;
const STORED = 0;
const DEFLATED = 8;

const WINDOW = 1024 * 1024;
/** The output chunks of a large entry's inflate. */
const INFLATE_CHUNK = 256 * 1024;
const WINDOWS = 3;
const LOCAL_HEADER = 0x04034b50;

/**
 * yauzl's reader of a zip file, through the last WINDOWS windows of WINDOW bytes it read (the central directory is read
 * at the end of the file while the entries are read from its start): the small reads of yauzl's records, and the small
 * entries, are served from memory. A range larger than a window is read from the file directly (a stream: a large entry).
 */
class WindowedReader extends yauzl.RandomAccessReader {
  private windows: Array<{ start: number; buf: Buffer; memory: Buffer }> = [];
  /** The memory of the window last dropped, reused by the next one (a new megabyte per window was garbage). */
  private spare: Buffer | null = null;

  constructor(private readonly fd: number, readonly size: number) {
    super();
  }

  /**
   * `length` bytes at `position` (fewer at the end of the file): a view of a window when it fits one. The view is valid
   * until the next call (its window's memory may then be reused): read it at once. yauzl's reads and the entry's own
   * take turns (lazy entries), so no call comes in between.
   */
  async bytes(position: number, length: number): Promise<Buffer> {
    const hit = this.windows.find((w) => position >= w.start && position + length <= w.start + w.buf.length);
    if (hit) return hit.buf.subarray(position - hit.start, position - hit.start + length);
    if (length > WINDOW) return this.load(Buffer.allocUnsafeSlow(length), position);
    const memory = this.spare ?? Buffer.allocUnsafeSlow(WINDOW);
    this.spare = null;
    const buf = await this.load(memory.subarray(0, Math.max(0, Math.min(WINDOW, this.size - position))), position);
    this.windows.unshift({ start: position, buf, memory });
    if (this.windows.length > WINDOWS) this.spare = this.windows.pop()!.memory;
    return buf.subarray(0, length);
  }

  private load(buf: Buffer, position: number): Promise<Buffer> {
    return new Promise((resolve, reject) => read(this.fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(buf.subarray(0, n)))));
  }

  override read(buffer: Buffer, offset: number, length: number, position: number, callback: (err: Error | null, bytesRead?: number) => void): void {
    this.bytes(position, length).then((b) => callback(null, b.copy(buffer, offset)), callback);
  }

  /** Reads `length` bytes at `position` into `buf` (not through the windows); answers how many came. */
  readInto(buf: Buffer, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => read(this.fd, buf, 0, length, position, (err, n) => (err ? reject(err) : resolve(n))));
  }

  /** The bytes [start, end) as a stream, by new buffers of a window's size. */
  rangeStream(start: number, end: number): Readable {
    return this._readStreamForRange(start, end);
  }

  /** By reads of a window's size (not fs.createReadStream: its destroy would close the file that yauzl reads on). */
  override _readStreamForRange(start: number, end: number): Readable {
    const fd = this.fd;
    let at = start;
    return new Readable({
      highWaterMark: WINDOW,
      read() {
        const n = Math.min(WINDOW, end - at);
        if (n <= 0) return void this.push(null);
        const buf = Buffer.allocUnsafe(n);
        read(fd, buf, 0, n, at, (err, got) => {
          if (err) return void this.destroy(err);
          if (got === 0) return void this.destroy(new Error('unexpected end of file'));
          at += got;
          this.push(got < n ? buf.subarray(0, got) : buf);
        });
      },
    });
  }

  override close(callback: (err: Error | null) => void): void {
    this.windows = [];
    this.spare = null;
    close(this.fd, callback);
  }
}

/** Where an entry's data starts, its local header checked as yauzl's openReadStream does. */
async function dataStart(reader: WindowedReader, entry: Entry): Promise<number> {
  if (entry.generalPurposeBitFlag & 0x1) throw new Error('an encrypted entry');
  const at = entry.relativeOffsetOfLocalHeader;
  const header = await reader.bytes(at, 30);
  if (header.length < 30 || header.readUInt32LE(0) !== LOCAL_HEADER) throw new Error('invalid local file header signature');
  const start = at + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (start + entry.compressedSize > reader.size) throw new Error('the entry\'s data runs past the end of the file');
  return start;
}

/** A small entry's bytes, inflated in one go; refused when they are not exactly the size the zip declares. */
async function readWhole(reader: WindowedReader, entry: Entry): Promise<Buffer> {
  const start = await dataStart(reader, entry);
  const raw = await reader.bytes(start, entry.compressedSize);
  if (raw.length !== entry.compressedSize) throw new Error('unexpected end of file');
  const size = entry.uncompressedSize;
  let data: Buffer;
  try {
    // zlib's output buffer sized to the entry: its default (16 KiB, a new one per call) kept a buffer of that size behind
    // each document until a collection (bench/RESULTS-import.md)
    // a stored entry copied out of the window (whose memory is reused)
    data = entry.compressionMethod === STORED ? Buffer.from(raw) : inflateRawSync(raw, { maxOutputLength: size + 1, chunkSize: Math.max(64, size + 1) });
  } catch (err) {
    throw new Error(`the entry does not inflate to the ${size} bytes it declares: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (data.length !== size) throw new Error(`the entry inflates to other than the ${size} bytes it declares`);
  return data;
}

/** Fails the stream as soon as more than `size` bytes pass, or at its end when fewer did. */
function exactly(size: number): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      n += chunk.length;
      done(n > size ? new Error(`the entry inflates to more than the ${size} bytes it declares`) : null, chunk);
    },
    flush(done) {
      done(n === size ? null : new Error(`the entry inflates to ${n} bytes, not the ${size} it declares`));
    },
  });
}

/** A port that is closed: what is moved to it is dropped, its memory freed at once (not at a garbage collection). */
const nowhere = new MessageChannel().port1;
nowhere.close();

/** Frees `memory` now; whatever still views it sees it empty. */
function freeNow(memory: ArrayBuffer): void {
  try {
    nowhere.postMessage(null, [memory]);
  } catch {
    // not movable (already moved): left to the collector
  }
}

/**
 * zlib's output chunks made buffers of their own: a full output buffer passes as it is (the blob writer moves it to its
 * hashing thread, which frees it once written), a part of one is copied into a buffer of its size, and the output
 * buffer it came from is freed as soon as zlib moved on to the next one. Left to V8, those part-filled buffers (one or
 * two per read of the zip) piled up to 60 MB between two collections, since a stream of large buffers with few
 * JavaScript objects brings few (bench/RESULTS-import.md). `held` counts the output buffers not yet freed (tests).
 */
export function ownChunks(held = { buffers: 0 }): Transform {
  let parent: ArrayBuffer | null = null;
  const release = () => {
    if (parent) freeNow(parent);
    if (parent) held.buffers--;
    parent = null;
  };
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      const memory = chunk.buffer as ArrayBuffer;
      if (memory !== parent) release();
      if (chunk.byteOffset === 0 && chunk.length === memory.byteLength) return done(null, chunk);
      if (memory !== parent) held.buffers++;
      parent = memory;
      const copy = Buffer.allocUnsafeSlow(chunk.length);
      chunk.copy(copy);
      done(null, copy);
    },
    flush(done) {
      release();
      done();
    },
    destroy(err, cb) {
      parent = null;
      cb(err);
    },
  });
}

/**
 * A large entry: its raw bytes read from the zip into one buffer of the entry's own, reused from read to read (a new
 * buffer per read is garbage that V8 frees only once 64 MB of it piled up: bench/RESULTS-import.md), each read handed
 * to the inflate once it consumed the previous one; inflated by large chunks and counted. A stored entry's chunks are
 * new buffers (they move to the blob writer's thread). Errors reach the returned stream only.
 */
async function openLarge(reader: WindowedReader, entry: Entry): Promise<Readable> {
  if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) throw new Error(`unsupported compression method: ${entry.compressionMethod}`);
  const start = await dataStart(reader, entry);
  const end = start + entry.compressedSize;
  // its chunks are new buffers that nothing else keeps (zlib's output buffers once full, the stored entry's reads): the
  // blob writer may move them to its hashing thread instead of copying them
  const out = markFreshChunks(exactly(entry.uncompressedSize));
  if (entry.compressionMethod === STORED) {
    pipeline(reader.rangeStream(start, end), out, () => undefined);
    return out;
  }
  const inflate = createInflateRaw({ chunkSize: INFLATE_CHUNK });
  pipeline(inflate, ownChunks(), out, () => undefined);
  const feed = async () => {
    const buf = Buffer.allocUnsafeSlow(Math.min(WINDOW, Math.max(1, entry.compressedSize)));
    for (let at = start; at < end;) {
      const n = await reader.readInto(buf, Math.min(buf.length, end - at), at);
      if (n === 0) throw new Error('unexpected end of file');
      at += n;
      // the callback comes once the inflate consumed the bytes (and its output was taken): the buffer is free again
      await new Promise<void>((resolve, reject) => inflate.write(buf.subarray(0, n), (err) => (err ? reject(err) : resolve())));
    }
    inflate.end();
  };
  feed().catch((err: unknown) => inflate.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}

async function openZip(path: string): Promise<{ zip: ZipFile; reader: WindowedReader }> {
  const fd = await new Promise<number>((resolve, reject) => open(path, 'r', (err, n) => (err ? reject(err) : resolve(n))));
  let reader: WindowedReader;
  try {
    const { size } = await new Promise<{ size: number }>((resolve, reject) => fstat(fd, (err, st) => (err ? reject(err) : resolve(st))));
    reader = new WindowedReader(fd, size);
  } catch (err) {
    close(fd, () => undefined);
    throw err;
  }
  return new Promise((resolve, reject) => {
    yauzl.fromRandomAccessReader(reader, reader.size, { lazyEntries: true, autoClose: true, validateEntrySizes: true, strictFileNames: false, decodeStrings: false }, (err, zip) => {
      if (err) {
        reader.close(() => undefined);
        return reject(err);
      }
      resolve({ zip, reader });
    });
  });
}

/**
 * Calls `onEntry` for each entry of the zip at `path`, in the order of its central directory (the writer's order),
 * the next one once the previous is handled. Rejects when the zip cannot be read (truncated, not a zip, too many entries).
 */
export async function eachEntry(path: string, limits: ZipLimits, onEntry: (entry: ZipEntry) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const { zip, reader } = await openZip(path);
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
      const whole = small ? () => readWhole(reader, entry) : undefined;
      const open = whole ? async () => Readable.from(entry.uncompressedSize ? [await whole()] : []) : () => openLarge(reader, entry);
      // names as raw bytes (decodeStrings: false): yauzl would fail the whole zip on one name that leaves its folder,
      // where the import leaves that entry out (layout.ts refuses such names) and reads the others
      const raw = entry.fileName as unknown as Buffer | string;
      onEntry({ name: typeof raw === 'string' ? raw : raw.toString('utf8'), size: entry.uncompressedSize, open, ...(whole ? { whole } : {}) }).then(() => zip.readEntry(), fail);
    });
    zip.readEntry();
  });
}

/**
 * Frees now the memory of bytes that `whole()` gave, once the caller is done with them (written, parsed): left to V8,
 * the small files' buffers piled up between two collections (bench/RESULTS-import.md). Those of an entry under 4 KiB,
 * slices of Buffer's shared pool, are left alone.
 */
export function release(data: Buffer): void {
  if (data.length > 0 && data.byteOffset === 0 && data.buffer.byteLength <= data.length + 1) freeNow(data.buffer as ArrayBuffer);
}

/** The whole entry as a Buffer, when it is at most `max` bytes (a document); null when it is larger. */
export async function readSmall(entry: ZipEntry, max: number): Promise<Buffer | null> {
  if (entry.size > max) return null;
  if (entry.whole) return entry.whole();
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
