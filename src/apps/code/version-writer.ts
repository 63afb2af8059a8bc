/**
 * Writes one version of an app's code into a temporary folder for the local store (./local-store.ts): each file
 * raw (hashed on the way), then its brotli and gzip copies when compressible and smaller, compressed in the
 * background (a few files at a time, in libuv's thread pool) while the next files arrive; `finish` waits for
 * them, writes the index and fsyncs every file and folder, so that the folder can be renamed into place.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createBrotliCompress, createGzip } from 'node:zlib';
import { fsyncPath } from '../../common/fsync.js';
import { hashTap } from '../../common/hash-tap.js';
import { BadPackage } from './errors.js';
import { isCompressible, type StoredFile } from './store.js';
import { cleanEntryName } from './tarball.js';

export const INDEX = 'index.json';
export const SUB: Record<'raw' | 'br' | 'gzip', string> = { raw: 'raw', br: 'br', gzip: 'gz' };
/**
 * Brotli quality: 11 (the best) costs ~6 s per MiB of minified JS, 9 about 0.3-0.5 s for 10 % more bytes; small
 * files get 11. Measured on a 2.4 MB minified bundle: q9 498 KB in 0.7-1.1 s, q11 445 KB in 14.8 s. Gzip (the
 * fallback for clients without brotli) at level 6: 585 KB in 0.16 s, where level 9 took 0.55 s for 580 KB.
 */
const brotliQuality = (size: number): number => (size <= 4 * 1024 ? 11 : 9);
/** Files being compressed at once (each one brotli and gzip: two tasks of the thread pool). */
const COMPRESS_PARALLEL = 2;
/** fsyncs in flight at once. */
const SYNC_PARALLEL = 8;

export { fsyncPath };

export async function fsyncAll(paths: string[]): Promise<void> {
  for (let i = 0; i < paths.length; i += SYNC_PARALLEL) await Promise.all(paths.slice(i, i + SYNC_PARALLEL).map(fsyncPath));
}

/** Compresses `from` into `to`; keeps it (returning its size) only when smaller. */
async function compressTo(from: string, to: string, size: number, encoding: 'br' | 'gzip'): Promise<number | null> {
  const compressor = encoding === 'br'
    ? createBrotliCompress({ params: { [zlibConstants.BROTLI_PARAM_QUALITY]: brotliQuality(size), [zlibConstants.BROTLI_PARAM_SIZE_HINT]: size } })
    : createGzip({ level: 6 });
  await pipeline(createReadStream(from), compressor, createWriteStream(to, { flags: 'wx' }));
  const { size: compressed } = await stat(to);
  if (compressed < size) return compressed;
  await rm(to, { force: true });
  return null;
}

export class VersionWriter {
  private readonly files = new Map<string, StoredFile>();
  private readonly dirs = new Set<string>();
  private readonly written: string[] = [];
  private readonly pending = new Set<Promise<void>>();
  private failure: unknown = null;

  constructor(readonly dir: string) {}

  async start(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    this.dirs.add(this.dir);
  }

  private async ensureDir(d: string): Promise<void> {
    if (this.dirs.has(d)) return;
    await mkdir(d, { recursive: true });
    for (let p = d; p.startsWith(this.dir) && !this.dirs.has(p); p = dirname(p)) this.dirs.add(p);
  }

  /** Adds a file (the AddFile of the store's `acquire`). */
  readonly add = async (rawPath: string, body: Readable): Promise<void> => {
    if (this.failure) throw this.failure;
    const path = cleanEntryName(rawPath);
    if (path === '') throw new BadPackage('a file of the package has an empty name');
    if (this.files.has(path)) throw new BadPackage(`the file ${JSON.stringify(path.slice(0, 200))} is in the package twice`);
    const raw = join(this.dir, SUB.raw, path);
    await this.ensureDir(dirname(raw));
    const tap = hashTap('sha256');
    const entry: StoredFile = { size: 0, hash: '', br: null, gzip: null };
    this.files.set(path, entry);
    await pipeline(body, tap.stream, createWriteStream(raw, { flags: 'wx' }));
    this.written.push(raw);
    const { hash, size } = tap.result();
    entry.size = size;
    entry.hash = hash;
    if (isCompressible(path) && size > 0) await this.compressLater(path, raw, entry);
  };

  private async compressLater(path: string, raw: string, entry: StoredFile): Promise<void> {
    while (this.pending.size >= COMPRESS_PARALLEL) await Promise.race(this.pending);
    if (this.failure) throw this.failure;
    const job = Promise.all((['br', 'gzip'] as const).map(async (enc) => {
      const to = join(this.dir, SUB[enc], path);
      await this.ensureDir(dirname(to));
      const n = await compressTo(raw, to, entry.size, enc);
      if (n !== null) this.written.push(to);
      entry[enc] = n;
    })).then(() => undefined, (err: unknown) => void (this.failure ??= err));
    this.pending.add(job);
    void job.then(() => this.pending.delete(job));
  }

  /** Waits for the compressions, writes the index, makes everything durable. */
  async finish(): Promise<void> {
    await Promise.all(this.pending);
    if (this.failure) throw this.failure;
    const index = join(this.dir, INDEX);
    await writeFile(index, JSON.stringify({ files: [...this.files] }), { flag: 'wx' });
    await fsyncAll([...this.written, index, ...[...this.dirs].sort((a, b) => b.length - a.length)]);
  }

  /** Removes what was written, once the compressions in flight are over (they would write again). */
  async abort(): Promise<void> {
    await Promise.all(this.pending);
    await rm(this.dir, { recursive: true, force: true });
  }
}
