/**
 * Large write buffers reused from one upload to the next. A gigabyte upload that kept the socket's
 * 64 KiB chunks until their batch was written would let thousands of them survive into V8's old
 * generation (freed only by full collections, one every few dozen megabytes); copied into these
 * buffers they die young, and the pages of these are touched once instead of fresh ones per batch.
 * The pool keeps at most `keep` buffers and lets them all go once no upload has used it for `idleMs`.
 * Each buffer owns its ArrayBuffer (allocUnsafeSlow), so that it can be moved to another thread (./md5-thread.ts).
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private users = 0;
  private idle: NodeJS.Timeout | undefined;

  constructor(readonly size: number, private readonly keep: number, private readonly idleMs = 10_000) {}

  /** A writer starts using the pool. */
  enter(): void {
    this.users++;
    clearTimeout(this.idle);
    this.idle = undefined;
  }

  /** A writer is done (after it gave back its buffers). */
  leave(): void {
    this.users--;
    if (this.users > 0 || this.free.length === 0) return;
    this.idle = setTimeout(() => {
      if (this.users === 0) this.free.length = 0;
    }, this.idleMs);
    this.idle.unref();
  }

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  give(buf: Buffer): void {
    if (this.free.length < this.keep && buf.length === this.size) this.free.push(buf);
  }

  /** Buffers kept for reuse now (for tests). */
  get kept(): number {
    return this.free.length;
  }
}
