/**
 * The `io.cozy.exports` documents (cozy-stack keeps them in its global database): kept with the server's state, never in
 * the instance's own data. SQLite here (`<dataDir>/exports.sqlite`), PostgreSQL (store-pg.ts) with docs.engine postgres,
 * one conformance suite (test/helpers/export-store-suite.ts). With each export, its snapshot (snapshot.ts): a copy of the
 * instance's documents taken by its job at one moment (`export_docs`, removed with the export, in the same transaction),
 * and the pins: blobs the instance's file system removed while the export holds them (`export_pins`), removed for good
 * once no export holds them (`releasable`, then `unpin`).
 */
import Database from 'better-sqlite3';
import type { ExportDoc } from '../types.js';

/** An export with what only the server needs: whose it is, and the job that writes it. */
export interface StoredExport {
  instanceId: string;
  jobId: string | null;
  doc: ExportDoc;
}

/**
 * What a row of a snapshot is: 0 a document of part 0 (every doctype but the files'), 1 a directory, 2 a file, 3 an old
 * version, 4 an image of part 0 (the avatar, the wallpaper: `doctype` its entry's name, `body` its bytes in base64).
 */
export type SnapshotKind = 0 | 1 | 2 | 3 | 4;
export interface SnapshotDoc { kind: SnapshotKind; doctype: string; id: string; body: string }
/** A blob kept for an export: `key` in the namespace `instanceId`. */
export interface Pin { exportId: string; instanceId: string; key: string }
/** A blob an export holds now, and when that export expires (epoch ms). */
export interface HeldBlob { key: string; exportId: string; expiresAt: number }

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
  /** Adds documents to an export's snapshot. */
  saveDocs(exportId: string, docs: SnapshotDoc[]): Promise<void>;
  /** A page of the snapshot's documents of `kind`, in (doctype, id) order, from `from` (`inclusive` or not), with ids before `until` if given. */
  docs(exportId: string, kind: SnapshotKind, from: { doctype: string; id: string }, inclusive: boolean, until: string | null, limit: number): Promise<SnapshotDoc[]>;
  /**
   * Keeps the blob `key` of `instanceId` for the instance's exports that hold (not failed, not expired at `now`), in one
   * atomic step: true when one does (the blob must then stay), false when none does (it can go now).
   */
  pin(instanceId: string, key: string, now: number): Promise<boolean>;
  /** At most `limit` pins no export holds any more at `now` (gone, failed or expired): their blobs can go, then `unpin`. */
  releasable(now: number, limit: number): Promise<Pin[]>;
  unpin(pins: Pin[]): Promise<void>;
  /** The blobs of `instanceId` kept for exports that hold at `now` (fsck: these are not orphans), with the export and its end. */
  held(instanceId: string, now: number): Promise<HeldBlob[]>;
  /** A destroyed instance's exports (and its pins: its blobs go with it). */
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

/** The snapshot's tables, the same on SQLite and PostgreSQL (`p` the tables' prefix). */
export const snapshotDdl = (p: string) => `CREATE TABLE IF NOT EXISTS ${p}export_docs (export_id TEXT NOT NULL REFERENCES ${p}exports (id) ON DELETE CASCADE,
  kind INTEGER NOT NULL, doctype TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (export_id, kind, doctype, id));
CREATE TABLE IF NOT EXISTS ${p}export_pins (export_id TEXT NOT NULL, instance_id TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (export_id, key));
CREATE INDEX IF NOT EXISTS export_pins_key ON ${p}export_pins (instance_id, key)`;
const SNAPSHOT_DDL = snapshotDdl('');
/** The exports that hold their snapshot's blobs (aliased `e`, at the parameter `now`). */
export const HOLDING = "e.state <> 'error' AND e.expires_at > ";
/** `c`: the collation of ids (PostgreSQL: "C", the bytes' order, as the document stores' and SQLite's own). */
export const snapshotPage = (p: string, inclusive: boolean, until: boolean, n: (i: number) => string, c = '') => `SELECT kind, doctype, id, body FROM ${p}export_docs
  WHERE export_id = ${n(1)} AND kind = ${n(2)} AND (doctype${c}, id${c}) ${inclusive ? '>=' : '>'} (${n(3)}, ${n(4)})${until ? ` AND id${c} < ${n(6)}` : ''}
  ORDER BY doctype${c}, id${c} LIMIT ${n(5)}`;
export const releasableSql = (p: string, n: (i: number) => string) => `SELECT p.export_id, p.instance_id, p.key FROM ${p}export_pins p
  WHERE NOT EXISTS (SELECT 1 FROM ${p}export_pins q JOIN ${p}exports e ON e.id = q.export_id WHERE q.instance_id = p.instance_id AND q.key = p.key
  AND ${HOLDING}${n(1)}) LIMIT ${n(2)}`;
export const heldSql = (p: string, n: (i: number) => string) => `SELECT p.key, p.export_id, e.expires_at FROM ${p}export_pins p
  JOIN ${p}exports e ON e.id = p.export_id WHERE p.instance_id = ${n(1)} AND ${HOLDING}${n(2)} ORDER BY p.key, e.expires_at DESC`;
export interface HeldRow { key: string; export_id: string; expires_at: number | string }
export const rowToHeld = (r: HeldRow): HeldBlob => ({ key: r.key, exportId: r.export_id, expiresAt: Number(r.expires_at) });
export interface PinRow { export_id: string; instance_id: string; key: string }
export const rowToPin = (r: PinRow): Pin => ({ exportId: r.export_id, instanceId: r.instance_id, key: r.key });

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
      CREATE INDEX IF NOT EXISTS exports_expiry ON exports (expires_at);
      ${SNAPSHOT_DDL}`);
    this.db.pragma('foreign_keys = ON');
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
      // a failed export keeps nothing: its copy of the documents goes now, its pins at the next release
      if (next.state === 'error') this.db.prepare('DELETE FROM export_docs WHERE export_id = ?').run(id);
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
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM exports WHERE instance_id = ?').run(instanceId);
      this.db.prepare('DELETE FROM export_pins WHERE instance_id = ?').run(instanceId);
    }).immediate();
  }

  async saveDocs(exportId: string, docs: SnapshotDoc[]): Promise<void> {
    const insert = this.db.prepare('INSERT INTO export_docs (export_id, kind, doctype, id, body) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const d of docs) insert.run(exportId, d.kind, d.doctype, d.id, d.body);
    }).immediate();
  }

  async docs(exportId: string, kind: SnapshotKind, from: { doctype: string; id: string }, inclusive: boolean, until: string | null, limit: number): Promise<SnapshotDoc[]> {
    // the placeholders in the text's order: export, kind, doctype, id, [until], limit
    const params: unknown[] = [exportId, kind, from.doctype, from.id, ...(until === null ? [] : [until]), limit];
    return this.db.prepare(snapshotPage('', inclusive, until !== null, () => '?')).all(...params) as SnapshotDoc[];
  }

  async pin(instanceId: string, key: string, now: number): Promise<boolean> {
    // a read, and a write only when an export holds: the removal's document was committed before this call, so an
    // export that begins after the read takes its snapshot later and does not name the blob (snapshot.ts)
    const holds = this.db.prepare(`SELECT e.id FROM exports e WHERE e.instance_id = ? AND ${HOLDING}?`).pluck().all(instanceId, now) as string[];
    if (holds.length === 0) return false;
    const insert = this.db.prepare('INSERT OR IGNORE INTO export_pins (export_id, instance_id, key) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      for (const id of holds) insert.run(id, instanceId, key);
    }).immediate();
    return true;
  }

  async releasable(now: number, limit: number): Promise<Pin[]> {
    return (this.db.prepare(releasableSql('', () => '?')).all(now, limit) as PinRow[]).map(rowToPin);
  }

  async unpin(pins: Pin[]): Promise<void> {
    const del = this.db.prepare('DELETE FROM export_pins WHERE export_id = ? AND key = ?');
    this.db.transaction(() => {
      for (const p of pins) del.run(p.exportId, p.key);
    }).immediate();
  }

  async held(instanceId: string, now: number): Promise<HeldBlob[]> {
    return (this.db.prepare(heldSql('', () => '?')).all(instanceId, now) as HeldRow[]).map(rowToHeld);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
