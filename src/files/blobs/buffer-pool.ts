/**
 * Large buffers reused from one stream to the next (the read buffers of downloads, ./read-stream.ts): a gigabyte
 * download through them touches a few megabytes of memory instead of a gigabyte of new buffers that only the garbage
 * collector frees.
 *
 * The pool keeps at most `keep` buffers and lets them all go once no stream has used it for `idleMs`.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  private users = 0;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    readonly size: number,
    private readonly keep: number,
    private readonly idleMs = 10_000,
  ) {}

  /** A stream starts using the pool. */
  enter(): void {
    this.users++;
    clearTimeout(this.idle);
    this.idle = undefined;
  }

  /** A stream is done (after it gave back its buffers). */
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
