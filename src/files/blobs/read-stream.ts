/**
 * A blob's bytes [start, end] from an open file descriptor, as a Readable that closes the descriptor
 * when it ends or is destroyed.
 *
 * Read as any stream, each chunk is a new buffer (as fs.createReadStream). Piped straight into an HTTP
 * response (what Fastify does with a stream payload) it reads into a few buffers of a BufferPool
 * instead, and reuses each one once the response's write callback said the socket took its bytes: a
 * gigabyte download then touches a few megabytes of memory instead of a gigabyte of new buffers that
 * only the garbage collector frees (about a third of the CPU of a download, measured in
 * bench/files.bench.ts). Any other destination (a PassThrough, whose write callback comes before its
 * reader has the bytes) gets the ordinary pipe.
 */
import { close, read } from 'node:fs';
import { ServerResponse } from 'node:http';
import { Readable, type Writable } from 'node:stream';
import type { BufferPool } from './buffer-pool.js';

/** Buffers being read or written at once by a pooled pipe. */
const IN_FLIGHT = 3;

export class BlobReadStream extends Readable {
  private pos: number;
  private reads = 0; // fs.read calls in flight (the descriptor is closed only once there are none)
  private fdClosed = false;
  private pooled = false;

  constructor(private readonly fd: number, start: number, private readonly end: number, private readonly pool: BufferPool) {
    super({ highWaterMark: Math.min(pool.size, Math.max(64 * 1024, end - start + 1)) });
    this.pos = start;
  }

  private remaining(): number {
    return Math.max(0, this.end - this.pos + 1);
  }

  /** Reads up to `buf.length` bytes at the current position; `done(null, 0)` at the end. */
  private readInto(buf: Buffer, done: (err: Error | null, n: number) => void): void {
    const len = Math.min(buf.length, this.remaining());
    if (len === 0) return done(null, 0);
    const at = this.pos;
    this.pos += len;
    this.reads++;
    read(this.fd, buf, 0, len, at, (err, n) => {
      this.reads--;
      if (this.destroyed) this.closeFd();
      if (!err && n < len) this.pos = this.end + 1; // the file is shorter than announced: stop there
      done(err, n);
    });
  }

  override _read(): void {
    if (this.pooled) return;
    const buf = Buffer.allocUnsafeSlow(Math.min(this.readableHighWaterMark, this.remaining()) || 1);
    this.readInto(buf, (err, n) => {
      if (err) return this.destroy(err);
      this.push(n === 0 ? null : n === buf.length ? buf : buf.subarray(0, n));
    });
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (this.reads === 0) this.closeFd();
    cb(err);
  }

  private closeFd(): void {
    if (this.fdClosed || this.reads > 0) return;
    this.fdClosed = true;
    close(this.fd, () => undefined);
  }

  override pipe<T extends NodeJS.WritableStream>(dest: T, opts?: { end?: boolean }): T {
    if (!(dest instanceof ServerResponse) || this.readableFlowing !== null || this.readableLength > 0 || this.pooled) return super.pipe(dest, opts);
    this.pooled = true;
    this.pooledPipe(dest, opts?.end !== false);
    return dest;
  }

  /**
   * Up to IN_FLIGHT pool buffers cycle between fs.read and res.write: one read at a time (so the writes
   * go in file order) while earlier buffers are being written; each comes back when its write callback fires.
   */
  private pooledPipe(res: Writable, endIt: boolean): void {
    this.pool.enter();
    let busy = 0; // buffers out of the pool (being read or written)
    let reading = false;
    let done = false;
    const leave = () => {
      if (done) return;
      done = true;
      this.pool.leave();
    };
    const finish = () => {
      if (busy > 0 || this.destroyed || done) return;
      leave();
      if (endIt) res.end();
      // the stream ends as streams do ('end', then 'close'), which is what Fastify waits for
      this.push(null);
      this.resume();
    };
    const next = () => {
      if (reading || this.destroyed || done) return;
      if (this.remaining() === 0) return finish();
      if (busy >= IN_FLIGHT) return;
      const buf = this.pool.take();
      busy++;
      reading = true;
      this.readInto(buf, (err, n) => {
        reading = false;
        if (err || this.destroyed || n === 0) {
          busy--;
          this.pool.give(buf);
          if (err) {
            leave();
            this.destroy(err);
          } else next();
          return;
        }
        // the callback means the bytes left for the socket: only then may the buffer be read into again
        res.write(n === buf.length ? buf : buf.subarray(0, n), (werr) => {
          busy--;
          if (werr) {
            leave();
            this.destroy();
            return;
          }
          this.pool.give(buf);
          next();
        });
        next();
      });
    };
    this.once('close', leave);
    // the client went away before the end: stop reading and close the file (Fastify would too)
    res.once('close', () => {
      if (!done) {
        leave();
        this.destroy();
      }
    });
    next();
  }
}
