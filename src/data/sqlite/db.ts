/**
 * One instance's SQLite database: the schema, the per-doctype tables and the
 * group-commit write queue. A doctype gets three tables, named from a number we
 * allocate (never from user text): d<N>_docs (one row per document, its winning
 * revision and rev tree), d<N>_revs (bodies of the leaf revisions) and d<N>_local.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import type { DocEvent } from '../../common/bus.js';
import { InsufficientStorage, isDiskFull } from '../../common/errors.js';
import { StaleLock, type Fence } from '../../common/locks.js';

/** SQLite's or the WAL fsync's "disk full" as the domain's 507; any other error as it is. */
function diskFull(error: unknown): unknown {
  return isDiskFull(error) ? new InsufficientStorage('the disk is full: this change was not saved; free some disk space, then retry') : error;
}

/** One row of d<N>_docs: a document's winning revision, its seq and its rev tree (JSON). */
export interface DocRow {
  id: string;
  rev: string;
  deleted: number;
  seq: number;
  body: string;
  tree: string;
}

export interface DoctypeTables {
  doctype: string;
  num: number;
  docs: string;
  revs: string;
  local: string;
  epoch: string;
}

const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

/**
 * A cached prepared statement (preparing costs more than running a point query).
 * `pluck` returns the first column only; it is set on every call because the
 * statement is shared.
 */
export function prep(db: Database.Database, sql: string, pluck = false): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) {
    if (cache.size >= 2000) cache.clear();
    stmt = db.prepare(sql);
    cache.set(sql, stmt);
  }
  if (stmt.reader) stmt.pluck(pluck);
  return stmt;
}

/** Forgets the cached statements of a database (after its schema changed, or before closing it). */
export function forgetStatements(db: Database.Database): void {
  statements.delete(db);
}

export function openInstanceDb(file: string, registerFunctions: (db: Database.Database) => void): Database.Database {
  const db = new Database(file);
  try {
    return setUpInstanceDb(db, registerFunctions);
  } catch (err) {
    db.close(); // out of descriptors for the WAL, say: the database's own must not leak
    throw err;
  }
}

function setUpInstanceDb(db: Database.Database, registerFunctions: (db: Database.Database) => void): Database.Database {
  // A new file switches to WAL without fsyncs (three of them on the event loop otherwise, 15-75 ms on a busy
  // disk): the database file is fsynced off the event loop before the first write is acknowledged (wal-sync.ts).
  if (db.pragma('journal_mode', { simple: true }) !== 'wal') {
    db.pragma('synchronous = OFF');
    db.pragma('journal_mode = WAL');
  }
  // NORMAL: COMMIT writes the WAL without an fsync; the write queue fsyncs it off the event loop
  // (wal-sync.ts) before it acknowledges a write, so a write is durable even on power loss.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -16000');
  registerFunctions(db);
  // one transaction: one WAL append instead of one per statement
  db.exec(`BEGIN;
    CREATE TABLE IF NOT EXISTS doctypes (name TEXT PRIMARY KEY, num INTEGER NOT NULL UNIQUE, seq INTEGER NOT NULL DEFAULT 0,
      epoch TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS attachments (digest TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS att_refs (digest TEXT NOT NULL, num INTEGER NOT NULL, id TEXT NOT NULL, rev TEXT NOT NULL,
      PRIMARY KEY (num, id, rev, digest)) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS att_refs_digest ON att_refs(digest);
    CREATE TABLE IF NOT EXISTS mango_indexes (num INTEGER NOT NULL, ddoc TEXT NOT NULL, name TEXT NOT NULL, def TEXT NOT NULL,
      sql_name TEXT NOT NULL UNIQUE, PRIMARY KEY (num, ddoc, name)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS fences (key TEXT PRIMARY KEY, token INTEGER NOT NULL) WITHOUT ROWID;
    COMMIT;`);
  return db;
}

export function tablesFor(doctype: string, num: number, epoch: string): DoctypeTables {
  return { doctype, num, docs: `d${num}_docs`, revs: `d${num}_revs`, local: `d${num}_local`, epoch };
}

export function lookupDoctype(db: Database.Database, doctype: string): DoctypeTables | null {
  const row = prep(db, 'SELECT num, epoch FROM doctypes WHERE name = ?').get(doctype) as { num: number; epoch: string } | undefined;
  return row ? tablesFor(doctype, row.num, row.epoch) : null;
}

/** Creates the doctype's tables; must run inside a write transaction. */
export function createDoctypeTables(db: Database.Database, doctype: string): DoctypeTables {
  const existing = lookupDoctype(db, doctype);
  if (existing) return existing;
  const num = ((prep(db, 'SELECT max(num) FROM doctypes', true).get() as number | null) ?? 0) + 1;
  const epoch = randomBytes(4).toString('hex');
  prep(db, 'INSERT INTO doctypes (name, num, seq, epoch, created_at) VALUES (?, ?, 0, ?, ?)').run(doctype, num, epoch, new Date().toISOString());
  const t = tablesFor(doctype, num, epoch);
  db.exec(`
    CREATE TABLE ${t.docs} (id TEXT PRIMARY KEY, rev TEXT NOT NULL, deleted INTEGER NOT NULL, seq INTEGER NOT NULL,
      body TEXT NOT NULL, tree TEXT NOT NULL);
    CREATE UNIQUE INDEX ${t.docs}_seq ON ${t.docs}(seq);
    CREATE TABLE ${t.revs} (id TEXT NOT NULL, rev TEXT NOT NULL, deleted INTEGER NOT NULL, body TEXT NOT NULL,
      PRIMARY KEY (id, rev)) WITHOUT ROWID;
    CREATE TABLE ${t.local} (id TEXT PRIMARY KEY, rev TEXT NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;`);
  return t;
}

export function dropDoctypeTables(db: Database.Database, t: DoctypeTables): void {
  db.exec(`DROP TABLE IF EXISTS ${t.docs}; DROP TABLE IF EXISTS ${t.revs}; DROP TABLE IF EXISTS ${t.local};`);
  prep(db, 'DELETE FROM doctypes WHERE num = ?').run(t.num);
  prep(db, 'DELETE FROM mango_indexes WHERE num = ?').run(t.num);
  prep(db, 'DELETE FROM att_refs WHERE num = ?').run(t.num);
  db.exec('DELETE FROM attachments WHERE digest NOT IN (SELECT digest FROM att_refs)');
}

/** Allocates the next update sequence of a doctype (inside a write transaction). */
export function nextSeq(db: Database.Database, t: DoctypeTables): number {
  return prep(db, 'UPDATE doctypes SET seq = seq + 1 WHERE num = ? RETURNING seq', true).get(t.num) as number;
}

export function formatSeq(t: DoctypeTables | null, seq: number): string {
  return t ? `${seq}-${t.epoch}` : '0';
}

interface Pending {
  fn: (events: DocEvent[]) => unknown;
  /** Called right after the COMMIT that holds this write, before it is durable (not called if it failed). */
  onCommit: (() => void) | undefined;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * Group commit: writes queued in the same tick (or within `windowMs`) run in one
 * transaction, each under its own savepoint so that one failure does not undo the
 * others, and share one fsync. Promises resolve only after COMMIT returned and
 * `durable` (the WAL's fsync) resolved, i.e. once the write is durable; the events
 * are published after that. A write's `onCommit` runs right after the COMMIT, before the fsync:
 * a caller that holds a lock over a read-then-write can let the next holder in then, since its
 * reads see the commit (files/fs.ts). Such a write is committed at the next microtask (with what
 * else is queued) rather than after the event loop's pending callbacks: the lock is held for less
 * than a turn of the loop, so writers taking turns under it are not held to one per turn.
 */
export class WriteQueue {
  private pending: Pending[] = [];
  private scheduled = false;
  /** A flush is due at the next microtask (a write with onCommit is queued). */
  private urgent = false;
  /** Settles when the last batch committed so far is durable (or its fsync failed). */
  private lastDurable: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Database.Database,
    private readonly publish: (events: DocEvent[]) => void,
    private readonly windowMs = 0,
    /** Called when a whole batch is rolled back (caches of what it created must go). */
    private readonly onAbort: () => void = () => undefined,
    private readonly maxBatch = 512,
    /** Makes the committed transactions durable (the WAL's fsync); resolved at once when absent. */
    private readonly durable: () => Promise<void> = async () => undefined,
    /** Why no write may run any more (a failed fsync, wal-sync.ts), or null: checked before each batch. */
    private readonly refusal: () => Error | null = () => null,
  ) {}

  /**
   * Resolves once every write queued so far is committed and durable (rejected as they are if an fsync failed). With
   * nothing queued, commits nothing: no empty transaction, no fsync of its own (the store pool closes databases so).
   */
  drain(): Promise<unknown> {
    return this.pending.length ? this.run(() => undefined) : this.lastDurable;
  }

  run<T>(fn: (events: DocEvent[]) => T, onCommit?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, onCommit, resolve: resolve as (v: unknown) => void, reject });
      if (this.pending.length >= this.maxBatch) this.flush();
      else if (onCommit && !this.urgent) {
        // its caller waits for the commit (holding a lock, say): committed in this turn of the event loop, with what else is queued
        this.urgent = true;
        queueMicrotask(() => {
          this.urgent = false;
          this.flush();
        });
      } else if (!this.scheduled) {
        this.scheduled = true;
        if (this.windowMs > 0) setTimeout(() => this.flush(), this.windowMs);
        else setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const refused = this.refusal();
    if (refused) {
      for (const item of batch) item.reject(refused);
      return;
    }
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const events: DocEvent[] = [];
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const item of batch) {
        const mine: DocEvent[] = [];
        this.db.exec('SAVEPOINT w');
        try {
          const value = item.fn(mine);
          this.db.exec('RELEASE w');
          outcomes.push({ ok: true, value });
          events.push(...mine);
        } catch (error) {
          this.db.exec('ROLLBACK TO w');
          this.db.exec('RELEASE w');
          outcomes.push({ ok: false, error });
        }
      }
      this.db.exec('COMMIT');
    } catch (error) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.onAbort();
      for (const item of batch) item.reject(diskFull(error));
      return;
    }
    batch.forEach((item, i) => {
      if (!item.onCommit || !outcomes[i]?.ok) return;
      try {
        item.onCommit();
      } catch {
        // a caller's hook: its failure is not the write's
      }
    });
    // acknowledged (and published) once the WAL holding this commit is on disk; the next batch may run meanwhile
    const durable = this.durable();
    this.lastDurable = durable.catch(() => undefined);
    durable.then(
      () => {
        batch.forEach((item, i) => {
          const o = outcomes[i];
          if (o?.ok) item.resolve(o.value);
          else item.reject(diskFull(o?.error));
        });
        if (events.length) this.publish(events);
      },
      (error: unknown) => {
        for (const item of batch) item.reject(diskFull(error));
      },
    );
  }
}

/**
 * The fence of a write made under a leased lock (common/locks.ts fencedLock), inside the write's transaction: refused
 * with a StaleLock if a write of a later holder of the lock came first, else its token becomes the key's highest.
 */
export function checkFence(db: Database.Database, fence: Fence | undefined): void {
  if (!fence) return;
  const kept = prep(db, 'INSERT INTO fences (key, token) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET token = excluded.token WHERE token <= excluded.token').run(fence.key, fence.token);
  if (kept.changes === 0) throw new StaleLock(fence.key);
}
