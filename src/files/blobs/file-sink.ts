/**
 * Streams a body into an open file descriptor, hashing it on the way, as a pipeline: the body's
 * chunks are hashed as they arrive while earlier batches are being written by libuv's thread pool,
 * so the event loop's work (socket, MD5) and the disk's overlap instead of taking turns.
 *
 * - Chunks are gathered into batches (buffers of a BufferPool, see there why) and each batch goes to
 *   one write at a known offset. At most `maxInFlight` batches are in the thread pool; the body is
 *   paused beyond that (back-pressure up to the socket).
 * - Every `syncEvery` bytes an `fdatasync` is started in the background, so that the disk writes
 *   out the first part of a large file while the rest arrives, and the final `fsync` (the caller's)
 *   has only the tail left.
 * - On any failure (a limit, the body's error, a disk error) the body is destroyed and the promise
 *   rejects only once no write is still in flight, so the caller may close and remove the file.
 *
 * Hand-written: Node's `pipeline(body, hash, fs.createWriteStream)` writes one chunk per syscall and
 * one chunk at a time, and hashing in a Transform adds a stream hop per chunk; none overlaps them.
 */
import type { Hash } from 'node:crypto';
import { fdatasync, write as writeFd, writev } from 'node:fs';
import type { Readable } from 'node:stream';
import type { BufferPool } from './buffer-pool.js';

export interface SinkOptions {
  /** Called with each chunk and the total so far, before it is hashed or written; throws to stop. */
  check(chunk: Buffer, total: number): void;
  /** Batches (the pool's buffers, each `pool.size` bytes) being written at once, at most. */
  maxInFlight: number;
  syncEvery: number;
}

/** Writes `bufs` (whose sum is `len`) at `pos`, going on after short writes. */
function writeAll(fd: number, bufs: Buffer[], len: number, pos: number, done: (err: Error | null) => void): void {
  writev(fd, bufs, pos, (err, n) => {
    if (err) return done(err);
    if (n === len) return done(null);
    // a short write (a disk filling up): the rest in one buffer, until written or an error (ENOSPC)
    const rest = Buffer.concat(bufs, len).subarray(n);
    const more = (at: number): void => {
      writeFd(fd, rest, at, rest.length - at, pos + n + at, (e, w) => {
        if (e) return done(e);
        if (at + w >= rest.length) return done(null);
        more(at + w);
      });
    };
    more(0);
  });
}

/**
 * Resolves with the number of bytes written once the body has ended and every write has completed.
 * A body smaller than one batch is written straight from its chunks (one `writev`, no copy); past
 * that, chunks are copied into the pool's buffers, which go back to the pool as their writes end.
 */
export function streamToFd(fd: number, body: Readable, hash: Hash, pool: BufferPool, opts: SinkOptions): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    if (body.destroyed) {
      // failed while the caller was getting ready (a client gone before its upload was read)
      reject((body.errored as Error | null) ?? new Error('the upload stream closed before its end'));
      return;
    }
    pool.enter();
    let list: Buffer[] = []; // the first chunks, until they make a batch
    let listBytes = 0;
    let copying = false;
    let cur: Buffer | null = null; // the pool buffer being filled (copying only)
    let curLen = 0;
    const waiting: Buffer[] = []; // what came while no buffer was free (the body is paused meanwhile)
    let total = 0;
    let written = 0;
    let syncedUpTo = 0;
    let busy = 0; // writes and fdatasyncs in the pool
    let writes = 0;
    let endSeen = false; // the body's 'end' came (it may come while what it gave last waits for a buffer)
    let ended = false; // and all of it went to writes
    let failure: Error | null = null;
    let settled = false;

    const settle = () => {
      if (settled || busy > 0 || (!failure && !ended)) return;
      settled = true;
      if (cur) pool.give(cur);
      cur = null;
      pool.leave();
      if (failure) reject(failure);
      else resolve(total);
    };
    const fail = (err: Error) => {
      if (failure) return;
      failure = err;
      body.off('data', onData);
      body.destroy();
      settle();
    };
    const afterIo = (err: Error | null) => {
      busy--;
      if (err && !failure) return fail(err);
      if (failure) return settle();
      if (written - syncedUpTo >= opts.syncEvery) {
        syncedUpTo = written;
        busy++;
        fdatasync(fd, afterIo);
      }
      if (copying && cur === null && writes < opts.maxInFlight) {
        cur = pool.take();
        curLen = 0;
        while (cur !== null && waiting.length > 0) {
          const left = copyIn(waiting.shift()!);
          if (left) waiting.unshift(left);
        }
        if (waiting.length === 0) {
          if (endSeen) finish();
          else body.resume();
        }
      }
      settle();
    };
    const write = (bufs: Buffer[], len: number, release?: Buffer) => {
      const pos = written;
      written += len;
      busy++;
      writes++;
      writeAll(fd, bufs, len, pos, (err) => {
        writes--;
        if (release) pool.give(release);
        afterIo(err);
      });
    };
    const flushCur = (next = true) => {
      const buf = cur!;
      write([curLen === buf.length ? buf : buf.subarray(0, curLen)], curLen, buf);
      cur = next && writes < opts.maxInFlight ? pool.take() : null;
      curLen = 0;
    };
    /** Once the body ended and nothing waits for a buffer: the last batch goes to its write. */
    const finish = () => {
      if (ended || failure) return;
      if (listBytes > 0) write(list, listBytes);
      else if (cur !== null && curLen > 0) flushCur(false);
      list = [];
      ended = true;
    };
    /** Copies `data` into the pool's buffers, writing each one that fills; returns what is left when none is free. */
    const copyIn = (data: Buffer): Buffer | null => {
      for (let at = 0; at < data.length;) {
        if (cur === null) return data.subarray(at);
        const n = data.copy(cur, curLen, at);
        curLen += n;
        at += n;
        if (curLen === cur.length) flushCur();
      }
      return null;
    };
    /** In order after what already waits; the body is paused while anything waits for a buffer. */
    const append = (data: Buffer) => {
      const left = waiting.length > 0 ? data : copyIn(data);
      if (left === null) return;
      waiting.push(left);
      body.pause();
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      try {
        opts.check(chunk, total);
      } catch (err) {
        return fail(err as Error);
      }
      hash.update(chunk);
      if (!copying) {
        if (listBytes + chunk.length < pool.size) {
          list.push(chunk);
          listBytes += chunk.length;
          return;
        }
        copying = true;
        cur = pool.take();
        curLen = 0;
        const first = list;
        list = [];
        listBytes = 0;
        for (const b of first) append(b);
      }
      append(chunk);
    };
    body.on('data', onData);
    body.once('end', () => {
      endSeen = true;
      if (waiting.length === 0) finish();
      settle();
    });
    body.once('error', (err) => fail(err));
    body.once('close', () => {
      // destroyed without an error or an end (a consumer elsewhere gave up): never a silent success
      if (!endSeen && !failure) fail(new Error('the upload stream closed before its end'));
    });
  });
}
