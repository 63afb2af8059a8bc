/**
 * Named mutual exclusion, for the few operations that read then write several documents and
 * must not interleave (a name taken in a folder, a folder moved with its subtree). The
 * in-process engine serves one `hearth` process; the scale-out one (Redis, src/coordination/redis-locks.ts)
 * implements the same interface for several processes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ServiceUnavailable } from './errors.js';
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
  /**
   * True when the lock has a lease that can end while its holder still runs (a process paused past it), and `fence`
   * grows across processes and restarts (Redis): the writes made under it are then fenced (`fenced`).
   */
  readonly leased: boolean;
}

/** The fence of the writes of the current async context: the lock's key and token, while its holder's `fn` runs. */
export interface Fence { readonly key: string; readonly token: number; active: boolean }

const fences = new AsyncLocalStorage<Fence>();

/**
 * Runs `fn` under the lock `key`; with a leased lock, every DocStore write that `fn` makes carries the lock's fencing
 * token, which the store compares, in the transaction that commits the write, with the highest it saw for this key
 * (data/sqlite, data/postgres): the write of a holder whose lease ended and whose lock another process took since
 * (and wrote under) is refused with a StaleLock, never committed over the newer holder's.
 */
export function fencedLock<T>(locks: Locks, key: string, fn: () => Promise<T>): Promise<T> {
  return locks.withLock(key, async (held) => {
    if (!held.leased) return fn();
    const fence: Fence = { key, token: held.fence, active: true };
    try {
      return await fences.run(fence, fn);
    } finally {
      // what `fn` left running (a timer, a late callback) writes unfenced once the lock is released
      fence.active = false;
    }
  });
}

/**
 * Runs `fn` under a fence taken from the context of a lock's holder (`currentFence()` there): for work that the holder
 * waits for but that runs outside its async context (installer.ts: an install that holds its lock to its end).
 */
export function withFence<T>(fence: Fence | undefined, fn: () => Promise<T>): Promise<T> {
  return fence ? fences.run(fence, fn) : fn();
}

/** The fence of the write being made now, if it is made under a leased lock. */
export function currentFence(): Fence | undefined {
  const fence = fences.getStore();
  return fence?.active ? fence : undefined;
}

/** A write under a lock whose lease ended and which another holder took (and wrote under) since: 503, to retry. */
export class StaleLock extends ServiceUnavailable {
  constructor(key: string) {
    super(`this operation held the lock "${key}" past its lease and another one took it: nothing was written, retry it`);
  }
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
      return await fn({ fence: ++this.fences, signal: NEVER, leased: false });
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

const NEVER = new AbortController().signal;
