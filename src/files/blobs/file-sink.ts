/**
 * Streams a body into an open file descriptor, hashing it on the way, as a pipeline: the event loop
 * reads the socket and gathers the chunks into batches, a thread of its own hashes each batch and
 * starts its write (./md5-thread.ts), and libuv's thread pool writes them, so that the three overlap
 * instead of taking turns.
 *
 * - Chunks are gathered, not copied, until they make `batchBytes`; the batch then moves to the thread
 *   (in order). The chunks of a body marked with `markFreshChunks` (Node's HTTP parser makes a new
 *   buffer for each) move as they are; those of any other body are copied first into one buffer of the
 *   batch's own, since its producer may keep or reuse them (a moved buffer is empty for whoever else holds it).
 * - At most `maxInFlight` batches are out at once; the body is paused beyond that (back-pressure up to the socket).
 * - Every `syncEvery` bytes an `fdatasync` is started in the background, so that the disk writes
 *   out the first part of a large file while the rest arrives, and the final `fsync` (the caller's)
 *   has only the tail left.
 * - On any failure (a limit, the body's error, a disk or hashing error) the body is destroyed and the
 *   promise rejects only once no write is still in flight, so the caller may close and remove the file.
 *
 * Hand-written: Node's `pipeline(body, hash, fs.createWriteStream)` writes one chunk per syscall and
 * one chunk at a time, and hashes on the event loop in a Transform, a stream hop per chunk; none overlaps them.
 */
import { createHash } from 'node:crypto';
import { fdatasync, writev } from 'node:fs';
import type { Readable } from 'node:stream';
import { owns, type BatchHash, type BatchHasher } from './md5-thread.js';

/** On a body: its chunks are new buffers that nothing else keeps (Node's HTTP parser's), so they may move to the hashing thread as they are. */
export const FRESH_CHUNKS = Symbol('hearth.freshChunks');

/** Marks `body`'s chunks as its consumer's to keep (see FRESH_CHUNKS). */
export function markFreshChunks<T extends Readable>(body: T): T {
  (body as T & { [FRESH_CHUNKS]?: boolean })[FRESH_CHUNKS] = true;
  return body;
}

export interface SinkOptions {
  /** Called with each chunk and the total so far, before it is hashed or written; throws to stop. */
  check(chunk: Buffer, total: number): void;
  /** Bytes gathered before a batch goes to the thread; a body smaller than that is written in one go and hashed on the event loop. */
  batchBytes: number;
  /** Batches out at once, at most. */
  maxInFlight: number;
  syncEvery: number;
  /** Hashes and writes the batches of a body larger than one. */
  hasher: BatchHasher;
}

export interface SinkResult {
  size: number;
  /** base64 */
  md5: string;
}

/** `bufs` (`len` bytes in all) copied into one buffer that owns its memory (never a slice of Buffer's shared pool). */
function ownCopy(bufs: Buffer[], len: number): Buffer {
  const copy = Buffer.allocUnsafeSlow(len);
  let at = 0;
  for (const b of bufs) at += b.copy(copy, at);
  return copy;
}

/**
 * Resolves with the size and MD5 (base64) once the body has ended and every write and hash has
 * completed. A body smaller than one batch is written straight from its chunks (one `writev`)
 * and hashed here; past that, each batch of chunks goes to `opts.hasher`, which hashes and writes it.
 */
export function streamToFd(fd: number, body: Readable, opts: SinkOptions): Promise<SinkResult> {
  return new Promise<SinkResult>((resolve, reject) => {
    if (body.destroyed) {
      // failed while the caller was getting ready (a client gone before its upload was read)
      reject((body.errored as Error | null) ?? new Error('the upload stream closed before its end'));
      return;
    }
    const fresh = (body as Readable & { [FRESH_CHUNKS]?: boolean })[FRESH_CHUNKS] === true;
    let list: Buffer[] = []; // the chunks of the batch being gathered
    let listBytes = 0;
    let batches: BatchHash | null = null; // the hash of the batches, once the body outgrew one
    let listMd5 = ''; // or the list's, if it never did
    let total = 0;
    let offset = 0; // where the next batch goes
    let written = 0; // bytes sent to writes
    let syncedUpTo = 0;
    let busy = 0; // writes and fdatasyncs under way
    let inFlight = 0; // batches with the thread
    let paused = false;
    let ended = false; // the body's 'end' came and all of it went to writes
    let failure: Error | null = null;
    let settled = false;

    const settle = () => {
      if (settled || busy > 0 || (!failure && !ended)) return;
      settled = true;
      if (failure) {
        batches?.drop();
        reject(failure);
      } else if (batches === null) {
        resolve({ size: total, md5: listMd5 });
      } else {
        batches.digest().then((md5) => resolve({ size: total, md5 }), reject);
      }
    };
    const fail = (err: Error) => {
      if (failure) return;
      failure = err;
      body.off('data', onData);
      body.destroy();
      settle();
    };
    /** One write or fdatasync ended. */
    const done = (err: Error | null) => {
      busy--;
      if (err && !failure) return fail(err);
      if (failure) return settle();
      if (written - syncedUpTo >= opts.syncEvery) {
        syncedUpTo = written;
        busy++;
        fdatasync(fd, done);
      }
      if (paused && inFlight < opts.maxInFlight) {
        paused = false;
        body.resume();
      }
      settle();
    };
    /** The gathered chunks go to the thread, to be hashed and written at the offset they are given now. */
    const send = () => {
      const len = listBytes;
      const bufs = fresh ? list.map((b) => (owns(b) ? b : ownCopy([b], b.length))) : [ownCopy(list, len)];
      const pos = offset;
      offset += len;
      written += len;
      list = [];
      listBytes = 0;
      inFlight++;
      busy++;
      batches!.write(fd, bufs, len, pos, (err) => {
        inFlight--;
        done(err);
      });
      if (inFlight >= opts.maxInFlight && !paused) {
        paused = true;
        body.pause();
      }
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      try {
        opts.check(chunk, total);
      } catch (err) {
        return fail(err as Error);
      }
      if (chunk.length === 0) return;
      list.push(chunk);
      listBytes += chunk.length;
      if (listBytes < opts.batchBytes) return;
      if (batches === null) {
        try {
          batches = opts.hasher.open();
        } catch (err) {
          return fail(err as Error); // the hashing thread could not start
        }
      }
      send();
    };
    body.on('data', onData);
    body.once('end', () => {
      if (failure || ended) return;
      if (batches !== null) {
        if (listBytes > 0) send();
      } else {
        const hash = createHash('md5');
        for (const chunk of list) hash.update(chunk);
        listMd5 = hash.digest('base64');
        if (listBytes > 0) {
          written += listBytes;
          busy++;
          writeAll(fd, list, listBytes, 0, done);
        }
        list = [];
      }
      ended = true;
      settle();
    });
    body.once('error', (err) => fail(err));
    body.once('close', () => {
      // destroyed without an error or an end (a consumer elsewhere gave up): never a silent success
      if (!ended && !failure) fail(new Error('the upload stream closed before its end'));
    });
  });
}

/** Writes `bufs` (whose sum is `len`) at `pos` (a body smaller than one batch), going on after short writes. */
function writeAll(fd: number, bufs: Buffer[], len: number, pos: number, done: (err: Error | null) => void): void {
  writev(fd, bufs, pos, (err, n) => {
    if (err) return done(err);
    if (n === len) return done(null);
    // a short write (a disk filling up): the rest, until written or an error (ENOSPC)
    const rest = Buffer.concat(bufs, len).subarray(n);
    writeAll(fd, [rest], rest.length, pos + n, done);
  });
}
