/**
 * A streaming zip writer (the export's parts, /files/archive and the zip worker; APPNOTE 6.3: local headers, data descriptors, zip64 when an entry, an
 * offset or the entry count needs it), written because yazl 3.3.1, measured on 110,000 entries of one zip, searched its
 * entry list from the start at each step (467 s, against 48 s with a position kept) and kept ~0.9 kB per entry until the
 * central directory. Here each entry costs O(1) time and leaves only its central-directory record (~110 bytes, packed in
 * 1 MiB slabs); entries are pulled from an async iterable only as the output is read, so memory stays flat.
 * Entries are deflated (level 6, as `zip -r`) or stored as asked; a body is a Buffer (crc and sizes in the local header)
 * or a stream opened when its turn comes (crc and sizes in a data descriptor after it). Names are written as given
 * (UTF-8 flag): the caller builds them (../layout.ts).
 */
import compressible from 'compressible';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { crc32, createDeflateRaw, deflateRaw, deflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  mtime: Date;
  /** Unix mode with its file type bits, e.g. 0o100640. */
  mode: number;
  /** false: stored as is (contents already compressed). */
  deflate: boolean;
  /** The bytes, or (for a stream) their number, checked when written, and a way to open them. */
  body: Buffer | { size: number; open: () => Promise<Readable> };
}

export interface ZipOptions { level?: number; /** zip64 records for every entry and the end, whatever the sizes (tests). */ forceZip64?: boolean }

const deflateBuffer = promisify(deflateRaw);
const MAX32 = 0xffffffff;
const SLAB = 2 ** 20;
/** Bodies up to this size are deflated in the calling thread (a document: tens of µs, less than a trip to zlib's thread pool). */
const SMALL = 64 * 1024;
/** Streamed contents up to this size are read whole first. */
const WHOLE = 1024 * 1024;
/** The output goes out in chunks of at least this size (headers and small entries put together): fewer writes downstream. */
const BATCH = 64 * 1024;
/** zlib's output buffer for streamed contents (16 KiB by default): fewer trips between the thread pool and the event loop. */
const DEFLATE_CHUNK = 256 * 1024;
const UTF8 = 0x0800;
const DESCRIPTOR = 0x0008;
const MADE_BY_UNIX = (3 << 8) | 45;

/** Header fields shared by the local header and the central record. */
interface Head { name: Buffer; time: number; date: number; method: number; flags: number; crc: number; csize: number; usize: number; zip64: boolean; unixTime: number }

/** The zip of `entries`, each pulled when the previous one is written; an error of the source destroys the stream. */
export function zipStream(entries: AsyncIterable<ZipEntry>, opts: ZipOptions = {}): Readable {
  return Readable.from(batched(writeZip(entries, opts)), { objectMode: false });
}

/** `chunks` with the small ones put together into chunks of at least BATCH bytes. */
async function* batched(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let held: Buffer[] = [];
  let size = 0;
  for await (const chunk of chunks) {
    held.push(chunk);
    size += chunk.length;
    if (size >= BATCH) {
      yield held.length === 1 ? chunk : Buffer.concat(held, size);
      held = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(held, size);
}

async function* writeZip(entries: AsyncIterable<ZipEntry>, opts: ZipOptions): AsyncGenerator<Buffer> {
  const level = opts.level ?? 6;
  const central = new Slabs();
  let offset = 0;
  let count = 0;
  for await (const entry of entries) {
    const { body } = entry;
    const method = entry.deflate ? 8 : 0;
    const dos = dosDateTime(entry.mtime);
    const head: Head = { name: Buffer.from(entry.name), ...dos, method, flags: UTF8, crc: 0, csize: 0, usize: 0, zip64: false, unixTime: Math.floor(entry.mtime.getTime() / 1000) };
    const at = offset;
    // a small content is read whole and written as a buffer: no stream of zlib's, no data descriptor
    const bytes = Buffer.isBuffer(body) ? body : body.size <= WHOLE ? await readWhole(entry.name, await body.open(), body.size) : null;
    if (bytes) {
      const data = !entry.deflate ? bytes : bytes.length <= SMALL ? deflateRawSync(bytes, { level }) : await deflateBuffer(bytes, { level });
      Object.assign(head, { crc: crc32(bytes), usize: bytes.length, csize: data.length });
      head.zip64 = opts.forceZip64 === true || data.length >= MAX32 || bytes.length >= MAX32;
      const local = localHeader(head);
      offset += local.length + data.length;
      yield local;
      yield data;
    } else if (!Buffer.isBuffer(body)) {
      // deflate can grow incompressible data a little: zip64 from a margin below 4 GiB, as the sizes come after
      head.zip64 = opts.forceZip64 === true || body.size * 1.01 + 4096 >= MAX32;
      head.flags |= DESCRIPTOR;
      const local = localHeader(head);
      offset += local.length;
      yield local;
      const tally = { crc: 0, usize: 0, csize: 0 };
      const source = await body.open();
      for await (const chunk of entry.deflate ? deflated(source, level, tally) : counted(source, tally)) {
        tally.csize += chunk.length;
        yield chunk;
      }
      if (tally.usize !== body.size) throw sizeError(entry.name, tally.usize, body.size);
      Object.assign(head, tally);
      const descriptor = dataDescriptor(head);
      offset += tally.csize + descriptor.length;
      yield descriptor;
    }
    central.push(centralRecord(head, at, entry.mode, opts.forceZip64 === true));
    count++;
  }
  const cdStart = offset;
  for (const slab of central.take()) {
    offset += slab.length;
    yield slab;
  }
  yield endRecords(count, cdStart, offset - cdStart, opts.forceZip64 === true);
}

const sizeError = (name: string, read: number, announced: number): Error => new Error(`zip: ${name}: ${read} bytes read, ${announced} announced`);

/** All of `source`, which must be `size` bytes. */
async function readWhole(name: string, source: AsyncIterable<Buffer>, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let read = 0;
  for await (const chunk of source) {
    read += chunk.length;
    if (read > size) break;
    chunks.push(chunk);
  }
  if (read !== size) throw sizeError(name, read, size);
  return Buffer.concat(chunks, size);
}

/** The chunks of `source`, crc and size counted into `tally`. */
async function* counted(source: AsyncIterable<Buffer>, tally: { crc: number; usize: number }): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    tally.crc = crc32(chunk, tally.crc);
    tally.usize += chunk.length;
    yield chunk;
  }
}

/** `source` deflated (raw), read as it is consumed; crc and size of the input counted into `tally`. */
async function* deflated(source: Readable, level: number, tally: { crc: number; usize: number }): AsyncGenerator<Buffer> {
  const deflate = createDeflateRaw({ level, chunkSize: DEFLATE_CHUNK });
  const feeding = pipeline(source, (chunks: AsyncIterable<Buffer>) => counted(chunks, tally), deflate);
  // an error of the source destroys `deflate`, which the loop below rethrows; a consumer that stops early destroys it too
  feeding.catch(() => undefined);
  for await (const chunk of deflate) yield chunk as Buffer;
  await feeding;
}

function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    date: (d.getDate() & 0x1f) | (((d.getMonth() + 1) & 0xf) << 5) | (((year - 1980) & 0x7f) << 9),
    time: Math.floor(d.getSeconds() / 2) | ((d.getMinutes() & 0x3f) << 5) | ((d.getHours() & 0x1f) << 11),
  };
}

/** Info-ZIP's extended timestamp (0x5455): the modification time in UTC seconds, as yazl and zip write it. */
function timestampExtra(unixTime: number): Buffer {
  const b = Buffer.alloc(9);
  b.writeUInt16LE(0x5455, 0);
  b.writeUInt16LE(5, 2);
  b.writeUInt8(1, 4);
  b.writeUInt32LE(Math.max(0, Math.min(unixTime, MAX32)) >>> 0, 5);
  return b;
}

/** The zip64 extended information (0x0001) with the given 8-byte values. */
function zip64Extra(values: number[]): Buffer {
  const b = Buffer.alloc(4 + 8 * values.length);
  b.writeUInt16LE(0x0001, 0);
  b.writeUInt16LE(8 * values.length, 2);
  values.forEach((v, i) => b.writeBigUInt64LE(BigInt(v), 4 + 8 * i));
  return b;
}

function localHeader(h: Head): Buffer {
  const known = (h.flags & DESCRIPTOR) === 0;
  const extra = Buffer.concat([timestampExtra(h.unixTime), ...(h.zip64 ? [zip64Extra(known ? [h.usize, h.csize] : [0, 0])] : [])]);
  const b = Buffer.alloc(30);
  b.writeUInt32LE(0x04034b50, 0);
  b.writeUInt16LE(h.zip64 ? 45 : 20, 4);
  b.writeUInt16LE(h.flags, 6);
  b.writeUInt16LE(h.method, 8);
  b.writeUInt16LE(h.time, 10);
  b.writeUInt16LE(h.date, 12);
  b.writeUInt32LE(known ? h.crc : 0, 14);
  b.writeUInt32LE(h.zip64 ? MAX32 : known ? h.csize : 0, 18);
  b.writeUInt32LE(h.zip64 ? MAX32 : known ? h.usize : 0, 22);
  b.writeUInt16LE(h.name.length, 26);
  b.writeUInt16LE(extra.length, 28);
  return Buffer.concat([b, h.name, extra]);
}

function dataDescriptor(h: Head): Buffer {
  const b = Buffer.alloc(h.zip64 ? 24 : 16);
  b.writeUInt32LE(0x08074b50, 0);
  b.writeUInt32LE(h.crc >>> 0, 4);
  if (h.zip64) {
    b.writeBigUInt64LE(BigInt(h.csize), 8);
    b.writeBigUInt64LE(BigInt(h.usize), 16);
  } else {
    b.writeUInt32LE(h.csize, 8);
    b.writeUInt32LE(h.usize, 12);
  }
  return b;
}

function centralRecord(h: Head, at: number, mode: number, force: boolean): Buffer {
  const zip64 = force || h.zip64 || h.usize >= MAX32 || h.csize >= MAX32 || at >= MAX32;
  const extra = Buffer.concat([timestampExtra(h.unixTime), ...(zip64 ? [zip64Extra([h.usize, h.csize, at])] : [])]);
  const b = Buffer.alloc(46);
  b.writeUInt32LE(0x02014b50, 0);
  b.writeUInt16LE(MADE_BY_UNIX, 4);
  b.writeUInt16LE(zip64 ? 45 : 20, 6);
  b.writeUInt16LE(h.flags, 8);
  b.writeUInt16LE(h.method, 10);
  b.writeUInt16LE(h.time, 12);
  b.writeUInt16LE(h.date, 14);
  b.writeUInt32LE(h.crc >>> 0, 16);
  b.writeUInt32LE(zip64 ? MAX32 : h.csize, 20);
  b.writeUInt32LE(zip64 ? MAX32 : h.usize, 24);
  b.writeUInt16LE(h.name.length, 28);
  b.writeUInt16LE(extra.length, 30);
  b.writeUInt32LE((mode << 16) >>> 0, 38);
  b.writeUInt32LE(zip64 ? MAX32 : at, 42);
  return Buffer.concat([b, h.name, extra]);
}

/** The end of central directory, preceded by its zip64 record and locator when the count or an offset needs them. */
function endRecords(count: number, cdStart: number, cdSize: number, force: boolean): Buffer {
  const zip64 = force || count >= 0xffff || cdStart >= MAX32 || cdSize >= MAX32;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : count, 8);
  end.writeUInt16LE(zip64 ? 0xffff : count, 10);
  end.writeUInt32LE(zip64 ? MAX32 : cdSize, 12);
  end.writeUInt32LE(zip64 ? MAX32 : cdStart, 16);
  if (!zip64) return end;
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(MADE_BY_UNIX, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(count), 24);
  record.writeBigUInt64LE(BigInt(count), 32);
  record.writeBigUInt64LE(BigInt(cdSize), 40);
  record.writeBigUInt64LE(BigInt(cdStart), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(cdStart + cdSize), 8);
  locator.writeUInt32LE(1, 16);
  return Buffer.concat([record, locator, end]);
}

/** Small buffers packed into 1 MiB slabs: the central directory without one object per entry. */
class Slabs {
  private readonly full: Buffer[] = [];
  private slab = Buffer.allocUnsafe(SLAB);
  private used = 0;

  push(bytes: Buffer): void {
    if (this.used + bytes.length > this.slab.length) {
      this.full.push(this.slab.subarray(0, this.used));
      this.slab = Buffer.allocUnsafe(Math.max(SLAB, bytes.length));
      this.used = 0;
    }
    bytes.copy(this.slab, this.used);
    this.used += bytes.length;
  }

  take(): Buffer[] {
    return [...this.full, this.slab.subarray(0, this.used)];
  }
}

/**
 * Contents whose type is already compressed (mime-db says not compressible: JPEG, PNG, video, audio, zip, PDF, office
 * documents…, or an image, video or audio of a type it does not know) are stored, the rest deflated. `zip -r` deflates
 * everything.
 */
export function alreadyCompressed(doc: { mime?: unknown; class?: unknown }): boolean {
  const known = typeof doc.mime === 'string' ? compressible(doc.mime) : undefined;
  return known === false || (known === undefined && ['image', 'video', 'audio'].includes(String(doc.class)));
}
