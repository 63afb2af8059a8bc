/**
 * The WebDAV lock engine, in one SQLite file of the data directory (`dav-locks.sqlite`): one row per live lock,
 * with its principal and expiry, so locks (and what is left of their timeouts) survive a restart. Its own file:
 * locks come and go with every client session and are worth little after a power cut (clients lock again), so it
 * runs WAL with synchronous = NORMAL — a lock is durable across a crash of the process, not of the machine.
 * Expired rows are never returned and are purged as locks are taken; a lock lasts at most a day (lock-unlock.ts).
 * Lookups are index ranges: the locks covering a path are those on the path or on one of its ancestors (depth
 * infinity), those below it a prefix range of roots. Acquire checks conflicts and inserts in one immediate
 * transaction, so two processes on the same data directory cannot both take conflicting locks.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { ancestors, belowRange, MAX_LOCKS, TooManyLocks, type DavLock, type DavLockEngine, type LockDepth, type LockScope, type NewLock } from './locks.js';

interface Row {
  token: string;
  root: string;
  depth: LockDepth;
  scope: LockScope;
  owner: string;
  principal: string;
  timeout: number;
  expires_at: number;
}

const toLock = (r: Row): DavLock => ({ token: r.token, root: r.root, depth: r.depth, scope: r.scope, owner: r.owner, principal: r.principal, timeout: r.timeout, expiresAt: r.expires_at });

function prepare(db: Database.Database) {
  const cols = 'token, root, depth, scope, owner, principal, timeout, expires_at';
  return {
    covering: db.prepare<[string, number, string, string], Row>(
      `SELECT ${cols} FROM dav_locks WHERE ns = ? AND expires_at > ? AND (root = ? OR (depth = 'infinity' AND root IN (SELECT value FROM json_each(?))))`),
    below: db.prepare<[string, number, string, string], Row>(`SELECT ${cols} FROM dav_locks WHERE ns = ? AND expires_at > ? AND root > ? AND root < ?`),
    byToken: db.prepare<[string, string, number], Row>(`SELECT ${cols} FROM dav_locks WHERE ns = ? AND token = ? AND expires_at > ?`),
    count: db.prepare<[string, number], { n: number }>('SELECT count(*) AS n FROM dav_locks WHERE ns = ? AND expires_at > ?'),
    insert: db.prepare('INSERT INTO dav_locks (token, ns, root, depth, scope, owner, principal, timeout, expires_at) VALUES (@token, @ns, @root, @depth, @scope, @owner, @principal, @timeout, @expiresAt)'),
    refresh: db.prepare('UPDATE dav_locks SET timeout = ?, expires_at = ? WHERE ns = ? AND token = ? AND expires_at > ?'),
    release: db.prepare('DELETE FROM dav_locks WHERE ns = ? AND token = ? AND expires_at > ?'),
    dropTree: db.prepare('DELETE FROM dav_locks WHERE ns = ? AND (root = ? OR (root > ? AND root < ?))'),
    dropNamespace: db.prepare('DELETE FROM dav_locks WHERE ns = ?'),
    purge: db.prepare('DELETE FROM dav_locks WHERE expires_at <= ?'),
  };
}

export class SqliteLockEngine implements DavLockEngine {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly stmts: ReturnType<typeof prepare>;

  constructor(file: string, opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS dav_locks (
      token TEXT PRIMARY KEY, ns TEXT NOT NULL, root TEXT NOT NULL, depth TEXT NOT NULL, scope TEXT NOT NULL,
      owner TEXT NOT NULL, principal TEXT NOT NULL, timeout INTEGER NOT NULL, expires_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS dav_locks_root ON dav_locks (ns, root);`);
    this.stmts = prepare(this.db);
  }

  private coveringNow(ns: string, path: string, now: number): DavLock[] {
    return this.stmts.covering.all(ns, now, path, JSON.stringify(ancestors(path))).map(toLock);
  }

  private belowNow(ns: string, path: string, now: number): DavLock[] {
    return this.stmts.below.all(ns, now, ...belowRange(path)).map(toLock);
  }

  async covering(ns: string, path: string): Promise<DavLock[]> {
    return this.coveringNow(ns, path, this.now());
  }

  async below(ns: string, path: string): Promise<DavLock[]> {
    return this.belowNow(ns, path, this.now());
  }

  async acquire(ns: string, lock: NewLock): Promise<{ lock: DavLock } | { conflict: DavLock }> {
    const take = this.db.transaction((): { lock: DavLock } | { conflict: DavLock } => {
      const now = this.now();
      this.stmts.purge.run(now);
      // overlapping: a lock whose scope holds the new root, or one the new lock's scope would hold
      const overlapping = [...this.coveringNow(ns, lock.root, now), ...(lock.depth === 'infinity' ? this.belowNow(ns, lock.root, now) : [])];
      const conflict = overlapping.find((l) => l.scope === 'exclusive' || lock.scope === 'exclusive');
      if (conflict) return { conflict };
      if (this.stmts.count.get(ns, now)!.n >= MAX_LOCKS) throw new TooManyLocks();
      const taken: DavLock = { ...lock, token: `opaquelocktoken:${randomUUID()}`, expiresAt: now + lock.timeout * 1000 };
      this.stmts.insert.run({ ...taken, ns });
      return { lock: taken };
    });
    return take.immediate();
  }

  async refresh(ns: string, token: string, timeout: number): Promise<DavLock | null> {
    const now = this.now();
    if (this.stmts.refresh.run(timeout, now + timeout * 1000, ns, token, now).changes === 0) return null;
    const row = this.stmts.byToken.get(ns, token, now);
    return row ? toLock(row) : null;
  }

  async release(ns: string, token: string): Promise<boolean> {
    return this.stmts.release.run(ns, token, this.now()).changes > 0;
  }

  async dropTree(ns: string, path: string): Promise<void> {
    this.stmts.dropTree.run(ns, path, ...belowRange(path));
  }

  async dropNamespace(ns: string): Promise<void> {
    this.stmts.dropNamespace.run(ns);
  }

  close(): void {
    this.db.close();
  }
}
