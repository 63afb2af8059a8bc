/**
 * A DocSnapshot of an instance's SQLite file (../store.ts): a second connection to the file holding one read transaction
 * (WAL: the writer goes on, this connection keeps reading the database as it was when the transaction's first read ran).
 */
import Database from 'better-sqlite3';
import { NotFound } from '../../common/errors.js';
import type { AllDocsOptions, AllDocsResult, Doc, DocSnapshot, GetOptions } from '../store.js';
import { lookupDoctype, prep } from './db.js';
import { Reader } from './read.js';

export class SqliteSnapshot implements DocSnapshot {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file, { fileMustExist: true });
    try {
      this.db.pragma('busy_timeout = 10000');
      this.db.exec('BEGIN');
      // the read transaction starts with its first read: the snapshot's moment is now
      prep(this.db, 'SELECT count(*) FROM doctypes', true).get();
    } catch (err) {
      this.db.close();
      throw err;
    }
  }

  private reader(doctype: string): Reader | null {
    const t = lookupDoctype(this.db, doctype);
    return t ? new Reader(this.db, t) : null;
  }

  async listDoctypes(): Promise<string[]> {
    return prep(this.db, 'SELECT name FROM doctypes ORDER BY name', true).all() as string[];
  }

  async allDocs(doctype: string, opts: AllDocsOptions): Promise<AllDocsResult> {
    return this.reader(doctype)?.allDocs(opts) ?? { total_rows: 0, offset: 0, rows: [] };
  }

  async get(doctype: string, id: string, opts: GetOptions = {}): Promise<Doc> {
    const r = this.reader(doctype);
    if (!r) throw new NotFound('missing');
    return r.get(id, opts);
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.db.exec('COMMIT');
    this.db.close();
  }
}
