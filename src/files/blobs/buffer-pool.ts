/**
 * Large write buffers reused from one upload to the next. A gigabyte upload that kept the socket's
 * 64 KiB chunks until their batch was written would let thousands of them survive into V8's old
 * generation (freed only by full collections, one every few dozen megabytes); copied into these
 * buffers they die young, and the pages of these are touched once instead of fresh ones per batch.
 *
 * An ordinary pool keeps at most `keep` buffers and lets them all go once no upload has used it for
 * `idleMs`; each of its buffers owns its ArrayBuffer (allocUnsafeSlow), so that it can be moved to
 * another thread (./md5-thread.ts).
 *
 * A `shared` pool (the blob store's batches) makes its first `keep` buffers on SharedArrayBuffers and
 * keeps them for its whole life: the hashing thread reads them in place, so that no batch is moved.
 * Moving one makes a new ArrayBuffer object on each side per batch, each counting its 4 MiB towards
 * V8's heap limits once the pool kept it past a young collection: a gigabyte upload then ran about 80
 * full collections (1.5 s of CPU per GiB on V8's helper threads, bench/files.bench.ts). Shared ones are
 * never let go, since V8 does not count them towards any limit (one dropped would stay allocated until
 * a collection came for other reasons, in this thread and in the hashing one); the buffers it makes
 * beyond those (uploads at the same time) are ordinary ones, let go as soon as they come back.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private users = 0;
  private idle: NodeJS.Timeout | undefined;
  /** Shared buffers made so far (at most `keep`, never let go). */
  private sharedMade = 0;

  constructor(
    readonly size: number,
    private readonly keep: number,
    private readonly idleMs = 10_000,
    private readonly shared = false,
  ) {}

  /** A writer starts using the pool. */
  enter(): void {
    this.users++;
    clearTimeout(this.idle);
    this.idle = undefined;
  }

  /** A writer is done (after it gave back its buffers). */
  leave(): void {
    this.users--;
    if (this.users > 0 || this.free.length === 0 || this.shared) return;
    this.idle = setTimeout(() => {
      if (this.users === 0) this.free.length = 0;
    }, this.idleMs);
    this.idle.unref();
  }

  take(): Buffer {
    const buf = this.free.pop();
    if (buf) return buf;
    if (this.shared && this.sharedMade < this.keep) {
      this.sharedMade++;
      return Buffer.from(new SharedArrayBuffer(this.size));
    }
    return Buffer.allocUnsafeSlow(this.size);
  }

  give(buf: Buffer): void {
    if (buf.buffer instanceof SharedArrayBuffer) {
      if (buf.length === this.size) this.free.push(buf);
    } else if (!this.shared && this.free.length < this.keep && buf.length === this.size) {
      this.free.push(buf);
    }
  }

  /** Buffers kept for reuse now (for tests). */
  get kept(): number {
    return this.free.length;
  }
}
