/**
 * WebDAV write locks (RFC 4918 §6–7), per instance, on paths of the file system (a lock belongs to
 * a URL, not to a document: it does not follow a MOVE). A lock is tied to the principal that took it
 * (`principal`: the credential, see rights.ts `principalOf`): its token is of use to that principal
 * only. The engine is SQLite (locks-sqlite.ts) or PostgreSQL (locks-pg.ts): locks, with their timeouts, survive a restart.
 */
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
  /** Who took it (the credential, not the client's DAV:owner): only this principal can use its token. */
  principal: string;
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
  /** Removes every lock of a namespace (the instance is destroyed). */
  dropNamespace(ns: string): Promise<void>;
}

/** At most this many live locks per instance (memory is bounded). */
export const MAX_LOCKS = 10_000;

export class TooManyLocks extends HearthError {
  constructor() {
    super(503, 'too_many_locks', `this instance already holds ${MAX_LOCKS} locks: unlock some, or wait for them to time out`);
  }
}

/** `path` is strictly below `root`. */
export const isBelow = (path: string, root: string): boolean => path !== root && within(path, root);
/** The lock's scope holds `path`. */
export const covers = (l: Pick<NewLock, 'root' | 'depth'>, path: string): boolean => l.root === path || (l.depth === 'infinity' && isBelow(path, l.root));

/** `/`, `/a`, `/a/b` for `/a/b/c` (the paths strictly above). */
export function ancestors(path: string): string[] {
  if (path === '/') return [];
  const out = ['/'];
  for (let i = path.indexOf('/', 1); i > 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i));
  return out;
}

/** The bounds of the roots strictly below `path` ('0' is the character after '/'). */
export const belowRange = (path: string): [string, string] => (path === '/' ? ['/', '0'] : [`${path}/`, `${path}0`]);
