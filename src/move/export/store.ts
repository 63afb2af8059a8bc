/**
 * The `io.cozy.exports` documents (cozy-stack keeps them in its global database): kept with the server's state, never in
 * the instance's own data. SQLite here (`<dataDir>/exports.sqlite`), PostgreSQL (store-pg.ts) with docs.engine postgres,
 * one conformance suite (test/helpers/export-store-suite.ts). An export holds no data of its own: the archive is
 * streamed from the instance's documents and blobs when it is downloaded (archive.ts), so removing an export is removing
 * its row.
 */
import Database from 'better-sqlite3';
import type { ExportDoc } from '../types.js';

/** An export with what only the server needs: whose it is, and the job that writes it. */
export interface StoredExport {
  instanceId: string;
  jobId: string | null;
  doc: ExportDoc;
}

/** An export still `exporting` after this long no longer blocks a new one (cozy-stack: 24 h). */
export const EXPORT_RUN_MAX_MS = 24 * 3_600_000;

export interface ExportStore {
  /**
   * Records `doc` (state `exporting`) unless the instance has another export `exporting` created less than 24 h before
   * `now` (then null: one export at a time, whatever the process); the instance's other exports are deleted at once,
   * in the same transaction, and returned.
   */
  begin(instanceId: string, doc: ExportDoc, jobId: string | null, now: number): Promise<{ removed: ExportDoc[] } | null>;
  get(id: string): Promise<StoredExport | null>;
  /** Ends an export that is still `exporting` (compare-and-swap); null when it is not (any more). */
  finish(id: string, end: Pick<ExportDoc, 'state'> & Partial<ExportDoc>): Promise<ExportDoc | null>;
  /** The instance's exports, newest first. */
  list(instanceId: string): Promise<ExportDoc[]>;
  /** Every export `exporting` now, of every instance (what a start checks: is its job still there?). */
  running(): Promise<StoredExport[]>;
  /** Deletes at most `limit` exports expired at `now`; returns them. */
  removeExpired(now: number, limit: number): Promise<StoredExport[]>;
  /** A destroyed instance's exports. */
  forget(instanceId: string): Promise<void>;
  close(): Promise<void>;
}

export interface ExportRow { id: string; instance_id: string; job_id: string | null; doc: string }

export const rowToExport = (r: ExportRow): StoredExport => ({ instanceId: r.instance_id, jobId: r.job_id, doc: JSON.parse(r.doc) as ExportDoc });

/** The document once ended: `end` merged, its `_rev` moved on. */
export function endedDoc(doc: ExportDoc, end: Partial<ExportDoc>): ExportDoc {
  const n = Number((doc._rev ?? '1-').split('-')[0]) + 1;
  return { ...doc, ...end, _id: doc._id, domain: doc.domain, _rev: `${n}-${doc._id.slice(0, 8)}` };
}

const isBlocking = (doc: ExportDoc, now: number) => doc.state === 'exporting' && now - Date.parse(doc.created_at) < EXPORT_RUN_MAX_MS;
export const blocks = (rows: ExportRow[], now: number): boolean => rows.some((r) => isBlocking(rowToExport(r).doc, now));

export class SqliteExportStore implements ExportStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS exports (id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, job_id TEXT, state TEXT NOT NULL,
      created_at TEXT NOT NULL, expires_at INTEGER NOT NULL, doc TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS exports_instance ON exports (instance_id, created_at);
      CREATE INDEX IF NOT EXISTS exports_expiry ON exports (expires_at)`);
  }

  async begin(instanceId: string, doc: ExportDoc, jobId: string | null, now: number): Promise<{ removed: ExportDoc[] } | null> {
    // IMMEDIATE: the write lock is taken before the read, so two processes cannot both see "none running"
    return this.db.transaction(() => {
      const rows = this.db.prepare('SELECT id, instance_id, job_id, doc FROM exports WHERE instance_id = ?').all(instanceId) as ExportRow[];
      if (blocks(rows, now)) return null;
      this.db.prepare('DELETE FROM exports WHERE instance_id = ?').run(instanceId);
      this.db.prepare('INSERT INTO exports (id, instance_id, job_id, state, created_at, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(doc._id, instanceId, jobId, doc.state, doc.created_at, Date.parse(doc.expires_at), JSON.stringify(doc));
      return { removed: rows.map((r) => rowToExport(r).doc) };
    }).immediate();
  }

  async get(id: string): Promise<StoredExport | null> {
    const r = this.db.prepare('SELECT id, instance_id, job_id, doc FROM exports WHERE id = ?').get(id) as ExportRow | undefined;
    return r ? rowToExport(r) : null;
  }

  async finish(id: string, end: Pick<ExportDoc, 'state'> & Partial<ExportDoc>): Promise<ExportDoc | null> {
    return this.db.transaction(() => {
      const r = this.db.prepare("SELECT id, instance_id, job_id, doc FROM exports WHERE id = ? AND state = 'exporting'").get(id) as ExportRow | undefined;
      if (!r) return null;
      const next = endedDoc(rowToExport(r).doc, end);
      this.db.prepare('UPDATE exports SET state = ?, expires_at = ?, doc = ? WHERE id = ?').run(next.state, Date.parse(next.expires_at), JSON.stringify(next), id);
      return next;
    }).immediate();
  }

  async list(instanceId: string): Promise<ExportDoc[]> {
    const rows = this.db.prepare('SELECT id, instance_id, job_id, doc FROM exports WHERE instance_id = ? ORDER BY created_at DESC').all(instanceId) as ExportRow[];
    return rows.map((r) => rowToExport(r).doc);
  }

  async running(): Promise<StoredExport[]> {
    return (this.db.prepare("SELECT id, instance_id, job_id, doc FROM exports WHERE state = 'exporting' ORDER BY created_at").all() as ExportRow[]).map(rowToExport);
  }

  async removeExpired(now: number, limit: number): Promise<StoredExport[]> {
    return this.db.transaction(() => {
      const rows = this.db.prepare('SELECT id, instance_id, job_id, doc FROM exports WHERE expires_at <= ? ORDER BY expires_at LIMIT ?').all(now, limit) as ExportRow[];
      const del = this.db.prepare('DELETE FROM exports WHERE id = ?');
      for (const r of rows) del.run(r.id);
      return rows.map(rowToExport);
    }).immediate();
  }

  async forget(instanceId: string): Promise<void> {
    this.db.prepare('DELETE FROM exports WHERE instance_id = ?').run(instanceId);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
