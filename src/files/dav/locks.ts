/**
 * WebDAV write locks (RFC 4918 §6–7), per instance, on paths of the file system (a lock belongs to
 * a URL, not to a document: it does not follow a MOVE). The in-process engine below serves one
 * `hearth` process and loses its locks on restart, which clients survive (they lock again); a
 * shared engine (Redis) implements the same interface for several processes.
 */
import { randomUUID } from 'node:crypto';
import { HearthError } from '../../common/errors.js';
import { within } from './paths.js';

export type LockScope = 'exclusive' | 'shared';
export type LockDepth = '0' | 'infinity';

export interface NewLock {
  /** The path the lock was taken on (its lock root). */
  root: string;
  depth: LockDepth;
  scope: LockScope;
  /** The client's DAV:owner, as XML (kept as given, shown by lock discovery). */
  owner: string;
  /** Seconds. */
  timeout: number;
}

export interface DavLock extends NewLock {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface DavLockEngine {
  /** Locks whose scope holds `path`: taken on it, or on a directory above it with depth infinity. */
  covering(ns: string, path: string): Promise<DavLock[]>;
  /** Locks taken strictly below `path`. */
  below(ns: string, path: string): Promise<DavLock[]>;
  /** Takes a lock unless a conflicting one exists (checked and taken atomically). */
  acquire(ns: string, lock: NewLock): Promise<{ lock: DavLock } | { conflict: DavLock }>;
  /** A new timeout for a live lock; null if there is no such lock. */
  refresh(ns: string, token: string, timeout: number): Promise<DavLock | null>;
  release(ns: string, token: string): Promise<boolean>;
  /** Removes the locks taken on `path` or below (it was deleted or moved away). */
  dropTree(ns: string, path: string): Promise<void>;
}

/** At most this many live locks per instance (memory is bounded). */
export const MAX_LOCKS = 10_000;

export class TooManyLocks extends HearthError {
  constructor() {
    super(503, 'too_many_locks', `this instance already holds ${MAX_LOCKS} locks: unlock some, or wait for them to time out`);
  }
}

const below = (path: string, root: string) => path !== root && within(path, root);
const covers = (l: NewLock, path: string) => l.root === path || (l.depth === 'infinity' && below(path, l.root));

export class MemoryLockEngine implements DavLockEngine {
  private readonly byNs = new Map<string, Map<string, DavLock>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The live locks of a namespace (expired ones are dropped on the way). */
  private live(ns: string): Map<string, DavLock> {
    let locks = this.byNs.get(ns);
    if (!locks) {
      locks = new Map();
      this.byNs.set(ns, locks);
    }
    const now = this.now();
    for (const [token, l] of locks) if (l.expiresAt <= now) locks.delete(token);
    return locks;
  }

  async covering(ns: string, path: string): Promise<DavLock[]> {
    return [...this.live(ns).values()].filter((l) => covers(l, path));
  }

  async below(ns: string, path: string): Promise<DavLock[]> {
    return [...this.live(ns).values()].filter((l) => below(l.root, path));
  }

  async acquire(ns: string, lock: NewLock): Promise<{ lock: DavLock } | { conflict: DavLock }> {
    const locks = this.live(ns);
    for (const l of locks.values()) {
      const overlaps = covers(l, lock.root) || covers(lock, l.root);
      if (overlaps && (l.scope === 'exclusive' || lock.scope === 'exclusive')) return { conflict: l };
    }
    if (locks.size >= MAX_LOCKS) throw new TooManyLocks();
    const taken: DavLock = { ...lock, token: `opaquelocktoken:${randomUUID()}`, expiresAt: this.now() + lock.timeout * 1000 };
    locks.set(taken.token, taken);
    return { lock: taken };
  }

  async refresh(ns: string, token: string, timeout: number): Promise<DavLock | null> {
    const l = this.live(ns).get(token);
    if (!l) return null;
    l.timeout = timeout;
    l.expiresAt = this.now() + timeout * 1000;
    return l;
  }

  async release(ns: string, token: string): Promise<boolean> {
    return this.live(ns).delete(token);
  }

  async dropTree(ns: string, path: string): Promise<void> {
    const locks = this.live(ns);
    for (const [token, l] of locks) if (within(l.root, path)) locks.delete(token);
  }
}
