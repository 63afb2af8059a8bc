/**
 * Streams a body into an open file descriptor, hashing it on the way, as a pipeline: the event loop
 * reads the socket and gathers batches, a thread of its own hashes them (./md5-thread.ts) and
 * libuv's thread pool writes them, so that the three overlap instead of taking turns.
 *
 * - Chunks are gathered into batches (buffers of a BufferPool, see there why); each batch goes to the
 *   hash (in order), then to one write at the offset it was given. At most `maxInFlight` batches are
 *   out at once; the body is paused beyond that (back-pressure up to the socket).
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
import { fdatasync, write as writeFd, writev } from 'node:fs';
import type { Readable } from 'node:stream';
import type { BufferPool } from './buffer-pool.js';
import type { BatchHash, BatchHasher } from './md5-thread.js';

export interface SinkOptions {
  /** Called with each chunk and the total so far, before it is hashed or written; throws to stop. */
  check(chunk: Buffer, total: number): void;
  /** Batches (the pool's buffers, each `pool.size` bytes) out at once, at most. */
  maxInFlight: number;
  syncEvery: number;
  /** Hashes the batches of a body larger than one (a body smaller than that is hashed on the event loop). */
  hasher: BatchHasher;
}

export interface SinkResult {
  size: number;
  /** base64 */
  md5: string;
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
 * Resolves with the size and MD5 (base64) once the body has ended and every write and hash has
 * completed. A body smaller than one batch is written straight from its chunks (one `writev`, no
 * copy) and hashed here; past that, chunks are copied into the pool's buffers, each of which is
 * hashed (`opts.hasher`, off the event loop), then written, then goes back to the pool.
 */
export function streamToFd(fd: number, body: Readable, pool: BufferPool, opts: SinkOptions): Promise<SinkResult> {
  return new Promise<SinkResult>((resolve, reject) => {
    if (body.destroyed) {
      // failed while the caller was getting ready (a client gone before its upload was read)
      reject((body.errored as Error | null) ?? new Error('the upload stream closed before its end'));
      return;
    }
    pool.enter();
    let list: Buffer[] = []; // the first chunks, until they make a batch
    let listBytes = 0;
    let batches: BatchHash | null = null; // the hash of the batches, once the body outgrew the list
    let listMd5 = ''; // or the list's, if it never did
    let cur: Buffer | null = null; // the pool buffer being filled (batches only)
    let curLen = 0;
    const waiting: Buffer[] = []; // what came while no buffer was free (the body is paused meanwhile)
    let total = 0;
    let offset = 0; // where the next batch goes
    let written = 0; // bytes sent to writes
    let syncedUpTo = 0;
    let busy = 0; // writes, hashes and fdatasyncs under way
    let inFlight = 0; // batches not back in the pool yet (being hashed, then written)
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
    /** One write, hash or fdatasync ended. */
    const done = (err: Error | null) => {
      busy--;
      if (err && !failure) return fail(err);
      if (failure) return settle();
      if (written - syncedUpTo >= opts.syncEvery) {
        syncedUpTo = written;
        busy++;
        fdatasync(fd, done);
      }
      if (batches !== null && cur === null && inFlight < opts.maxInFlight) {
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
    const write = (bufs: Buffer[], len: number, pos: number, after?: () => void) => {
      written += len;
      busy++;
      writeAll(fd, bufs, len, pos, (err) => {
        after?.();
        done(err);
      });
    };
    /**
     * The buffer being filled goes to the hash, then, once the hashing thread gave it back, to its
     * write at the offset it was given now, then back to the pool; the next one is taken if one may be.
     */
    const flushCur = (next = true) => {
      const buf = cur!;
      const len = curLen;
      const pos = offset;
      offset += len;
      cur = null;
      curLen = 0;
      inFlight++;
      busy++;
      batches!.update(buf, len, (err, back) => {
        if (err || !back) {
          inFlight--;
          if (back) pool.give(back);
          return done(err ?? new Error('the hashing thread kept a batch'));
        }
        if (failure) {
          inFlight--;
          pool.give(back);
          return done(null);
        }
        write([len === back.length ? back : back.subarray(0, len)], len, pos, () => {
          inFlight--;
          pool.give(back);
        });
        done(null);
      });
      if (next && inFlight < opts.maxInFlight) cur = pool.take();
    };
    /** Once the body ended and nothing waits for a buffer: the last batch goes to its write. */
    const finish = () => {
      if (ended || failure) return;
      if (batches === null) {
        const hash = createHash('md5');
        for (const chunk of list) hash.update(chunk);
        listMd5 = hash.digest('base64');
        if (listBytes > 0) write(list, listBytes, 0);
      } else if (cur !== null && curLen > 0) {
        flushCur(false);
      }
      list = [];
      ended = true;
    };
    /** Copies `data` into the pool's buffers, sending each one that fills; returns what is left when none is free. */
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
      if (batches === null) {
        if (listBytes + chunk.length < pool.size) {
          list.push(chunk);
          listBytes += chunk.length;
          return;
        }
        try {
          batches = opts.hasher.open();
        } catch (err) {
          return fail(err as Error); // the hashing thread could not start
        }
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
