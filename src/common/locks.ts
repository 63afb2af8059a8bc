/**
 * Named mutual exclusion, for the few operations that read then write several documents and
 * must not interleave (a name taken in a folder, a folder moved with its subtree). The
 * in-process engine serves one `hearth` process; the scale-out one (Redis) implements the same
 * interface for several processes.
 */
export interface Locks {
  /** Runs `fn` while holding the lock `key`; callers of the same key run one after the other, in order. */
  withLock<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

export class InProcessLocks implements Locks {
  /** The tail of each key's queue: resolved when the last holder is done. */
  private readonly tails = new Map<string, Promise<void>>();

  async withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    await before;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
