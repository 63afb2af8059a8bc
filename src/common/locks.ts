/**
 * Named mutual exclusion, for the few operations that read then write several documents and
 * must not interleave (a name taken in a folder, a folder moved with its subtree). The
 * in-process engine serves one `hearth` process; the scale-out one (Redis, src/coordination/redis-locks.ts)
 * implements the same interface for several processes.
 */
export interface Locks {
  /** Runs `fn` while holding the lock `key`; callers of the same key run one after the other, in order. */
  withLock<T>(key: string, fn: (held: HeldLock) => Promise<T>): Promise<T>;
}

/** What the holder of a lock knows of it. */
export interface HeldLock {
  /**
   * The fencing token: it grows at every acquisition of the key, so that a store that remembers the highest token it
   * saw can refuse the writes of a holder whose lease expired meanwhile (a paused process).
   */
  readonly fence: number;
  /** Aborted if the lock was lost before `fn` ended (its lease expired and could not be renewed). */
  readonly signal: AbortSignal;
}

export class InProcessLocks implements Locks {
  /** The tail of each key's queue: resolved when the last holder is done. */
  private readonly tails = new Map<string, Promise<void>>();
  private fences = 0;

  async withLock<T>(key: string, fn: (held: HeldLock) => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    try {
      return await fn({ fence: ++this.fences, signal: NEVER });
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

const NEVER = new AbortController().signal;
