/**
 * The local-disk blob engine. Layout, per namespace (instance id):
 *
 *   <root>/<ns>/<sub>/.tmp/<key>.part   a write in progress (removed on failure, or by cleanTemporary)
 *   <root>/<ns>/<sub>/<k0k1>/<key>      a blob: 32 hex characters, spread over 256 folders
 *
 * `sub` is the area: `files` for file contents, `thumbs` for thumbnails (a second store on the same
 * root), so that the keys of one never meet the other's, nor fsck's listing of file blobs.
 *
 * A write streams into the .part file through an MD5 and a byte counter (./file-sink.ts: the hashing,
 * on a thread of its own that also starts the writes (./md5-thread.ts), and the disk writes overlap; a body announced at most
 * 256 KiB is read whole first and hashed on the event loop, ./small-write.ts), fsyncs
 * it, renames it into place and fsyncs the folder, so that a blob that `write` returned survives a power cut. A read is a ./read-stream.ts stream.
 * Nothing refers to it yet: the file system's metadata commit does, after this (see store.ts).
 */
import { createHash } from 'node:crypto';
import { close, fstat, fsync, open as openFd, renameSync } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { NotFound, isDiskFull } from '../../common/errors.js';
import { BLOB_KEY_RE, InsufficientStorage, type BlobInfo, type BlobStore, type ByteRange, type WriteOptions } from './store.js';
import { chunkChecker, keyToWrite, verifyBlob } from './checks.js';
import { BufferPool } from './buffer-pool.js';
import { streamToFd, type SinkResult } from './file-sink.js';
import { Md5Thread } from './md5-thread.js';
import { BlobReadStream } from './read-stream.js';
import { DirSync } from './dir-sync.js';
import { SMALL_BLOB_BYTES, readSmall, writeSmall } from './small-write.js';

const NS_RE = /^[0-9a-f]{32}$/;
/** Bytes gathered before a write to the file, and how many such writes run at once (WriteOptions.memoryBytes: smaller batches). */
const WRITE_BATCH = 4 * 1024 * 1024;
const MAX_IN_FLIGHT = 4;
const MIN_WRITE_BATCH = 256 * 1024;
/** The largest read of a download. */
const READ_CHUNK = 1024 * 1024;
/** While a large file arrives, an fdatasync is started every this many bytes (the final fsync then has only the tail). */
const SYNC_EVERY = 64 * 1024 * 1024;
const TMP = '.tmp';
const openP = promisify(openFd);
const fsyncP = promisify(fsync);
const closeP = promisify(close);
const fstatP = promisify(fstat);
const execFileP = promisify(execFile);

export class LocalBlobStore implements BlobStore {
  /** Folders known to exist (a mkdir per write is a syscall on the hot path); forgotten when a namespace is dropped. */
  private readonly made = new Set<string>();
  /** The MD5 and the writes of large uploads, started with the first one. */
  private readonly md5 = new Md5Thread();
  /** Read buffers of downloads piped into a response (./read-stream.ts), shared by the downloads of the moment. */
  private readonly readPool = new BufferPool(READ_CHUNK, 12);
  /** The blob folders' descriptors for their fsyncs (./dir-sync.ts). */
  private readonly dirs = new DirSync();

  /** `root`: the folder holding one folder per namespace; `sub`: the blobs' folder inside it. */
  constructor(private readonly root: string, private readonly sub = 'files') {}

  private async ensureDir(dir: string): Promise<void> {
    if (this.made.has(dir)) return;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.made.add(dir);
  }

  private dir(ns: string): string {
    if (!NS_RE.test(ns)) throw new Error(`invalid blob namespace ${ns.slice(0, 40)}`);
    return join(this.root, ns, this.sub);
  }

  private path(ns: string, key: string): string {
    if (!BLOB_KEY_RE.test(key)) throw new NotFound(`no blob ${key.slice(0, 40)}`);
    return join(this.dir(ns), key.slice(0, 2), key);
  }

  async write(ns: string, body: Readable, opts: WriteOptions): Promise<BlobInfo> {
    const dir = this.dir(ns);
    const tmpDir = join(dir, TMP);
    await this.ensureDir(tmpDir);
    const key = keyToWrite(opts);
    const tmp = join(tmpDir, `${key}.part`);
    const check = chunkChecker(opts);
    const verify = (size: number, md5: string): void => verifyBlob(opts, size, md5);
    try {
      let size: number;
      let md5: string;
      if (opts.expectedSize !== undefined && opts.expectedSize <= SMALL_BLOB_BYTES) {
        // small: read into memory, then written in one go (./small-write.ts)
        const hash = createHash('md5');
        const chunks = await readSmall(body, hash, check);
        size = chunks.reduce((n, c) => n + c.length, 0);
        md5 = hash.digest('base64');
        verify(size, md5);
        await writeSmall(tmp, chunks, !opts.deferSync);
      } else {
        const batch = opts.memoryBytes === undefined ? WRITE_BATCH : Math.max(MIN_WRITE_BATCH, Math.min(WRITE_BATCH, Math.floor(opts.memoryBytes / (MAX_IN_FLIGHT + 1))));
        ({ size, md5 } = await this.writeLarge(tmp, body, check, !opts.deferSync, batch));
        verify(size, md5);
      }
      const finalDir = join(dir, key.slice(0, 2));
      await this.ensureDir(finalDir);
      renameSync(tmp, join(finalDir, key));
      if (!opts.deferSync) await this.dirs.sync(finalDir);
      return { key, size, md5 };
    } catch (err) {
      await rm(tmp, { force: true });
      if (isDiskFull(err)) throw new InsufficientStorage();
      throw err;
    }
  }

  /** A body of unknown or large size: streamed into `tmp` in batches (./file-sink.ts), then fsynced. */
  private async writeLarge(tmp: string, body: Readable, check: (chunk: Buffer, n: number) => void, durable: boolean, batchBytes: number): Promise<SinkResult> {
    const fd = await openP(tmp, 'wx', 0o600);
    try {
      const out = await streamToFd(fd, body, { batchBytes, maxInFlight: MAX_IN_FLIGHT, syncEvery: durable ? SYNC_EVERY : Infinity, check, hasher: this.md5 });
      if (durable) await fsyncP(fd);
      return out;
    } finally {
      await closeP(fd).catch(() => undefined);
    }
  }

  async read(ns: string, key: string, range?: ByteRange): Promise<Readable> {
    const path = this.path(ns, key);
    // opened first, so that a missing blob is a 404 before anything is sent; fs streams on a file
    // descriptor read with callbacks, faster than FileHandle streams
    const fd = await openP(path, 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new NotFound(`no blob ${key}`);
      throw err;
    });
    let start = range?.start ?? 0;
    let end = range?.end;
    if (end === undefined) {
      try {
        end = (await fstatP(fd)).size - 1;
      } catch (err) {
        await closeP(fd).catch(() => undefined);
        throw err;
      }
    }
    if (end < start) [start, end] = [0, -1]; // an empty blob: nothing to read
    return new BlobReadStream(fd, start, end, this.readPool);
  }

  async size(ns: string, key: string): Promise<number | null> {
    try {
      return (await stat(this.path(ns, key))).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof NotFound) return null;
      throw err;
    }
  }

  async remove(ns: string, key: string): Promise<void> {
    await rm(this.path(ns, key), { force: true });
  }

  async *keys(ns: string): AsyncIterable<string> {
    const dir = this.dir(ns);
    let folders: string[];
    try {
      folders = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const folder of folders.filter((f) => /^[0-9a-f]{2}$/.test(f)).sort()) {
      for (const name of (await readdir(join(dir, folder))).sort()) {
        if (BLOB_KEY_RE.test(name) && name.startsWith(folder)) yield name;
      }
    }
  }

  /** At start-up only (before any write of this process): a .part file is either a live write or a dead one. */
  async cleanTemporary(ns: string): Promise<number> {
    const tmpDir = join(this.dir(ns), TMP);
    let names: string[];
    try {
      names = await readdir(tmpDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    await Promise.all(names.map((n) => rm(join(tmpDir, n), { force: true })));
    return names.length;
  }

  async close(): Promise<void> {
    await Promise.all([this.dirs.forget(), this.md5.close()]);
  }

  /** syncfs(2) of the file system holding the namespace (coreutils' `sync --file-system`): one call for every deferred write. */
  async sync(ns: string): Promise<void> {
    const dir = this.dir(ns);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await execFileP('sync', ['--file-system', dir]);
  }

  async drop(ns: string): Promise<void> {
    const dir = this.dir(ns);
    for (const d of this.made) if (d.startsWith(dir)) this.made.delete(d);
    await this.dirs.forget(dir);
    await rm(dir, { recursive: true, force: true });
  }
}
