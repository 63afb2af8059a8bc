/**
 * The write of a small blob (a body whose announced size is at most SMALL_BLOB_BYTES): the body is
 * read into memory first (checked and hashed as it comes), then the file is created and fsynced in
 * libuv's thread pool, but written and closed with synchronous calls on the event loop.
 *
 * Why: on a virtual machine, each round trip through the thread pool costs the event loop about
 * 30 µs (waking a sleeping pool thread, then being woken). Six round trips per small upload (open, writev, fsync, close,
 * rename, the folder's fsync) took a fifth of the event loop under many small uploads
 * (bench/files.bench.ts); this path makes three (the file's creation, its fsync and its folder's):
 * writing a few KiB into the page cache, closing and renaming are cheaper done at once, while a
 * file's creation costs more than the trip.
 */
import type { Hash } from 'node:crypto';
import { closeSync, fsync, open, writeSync, writevSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

/** Bodies up to this size take the small path: at most this much is held in memory per upload. */
export const SMALL_BLOB_BYTES = 256 * 1024;

const fsyncP = promisify(fsync);
const openP = promisify(open);

/**
 * Reads the whole body, each chunk passed to `check` (with the total so far) then hashed. Leaving the
 * loop by a throw destroys the body; a body that errs or closes before its end makes the loop throw.
 */
export async function readSmall(body: Readable, hash: Hash, check: (chunk: Buffer, total: number) => void): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    check(chunk, total);
    hash.update(chunk);
    chunks.push(chunk);
  }
  return chunks;
}

/** Writes all of `chunks` at the start of `fd`, going on after short writes (a disk filling up ends in ENOSPC). */
function writeAllSync(fd: number, chunks: Buffer[]): void {
  const len = chunks.reduce((n, c) => n + c.length, 0);
  const n = chunks.length === 0 ? 0 : writevSync(fd, chunks, 0);
  if (n === len) return;
  const rest = Buffer.concat(chunks, len);
  for (let at = n; at < len;) at += writeSync(fd, rest, at, len - at, at);
}

/**
 * Creates `tmp` (it must not exist), writes `chunks` into it and fsyncs it; the file is closed in
 * every case. A failure rejects with the system's error (its code tells a full disk).
 */
export async function writeSmall(tmp: string, chunks: Buffer[], fsync = true): Promise<void> {
  // creating a file costs the event loop more than a trip through the pool (about 45 µs here): that one goes there
  const fd = await openP(tmp, 'wx', 0o600);
  try {
    writeAllSync(fd, chunks);
    if (fsync) await fsyncP(fd);
  } finally {
    closeSync(fd);
  }
}
