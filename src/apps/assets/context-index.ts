/**
 * Which blob holds each per-context stack asset (./context-assets.ts): one row per (context, name), with the server's
 * state (SQLite here, PostgreSQL with docs.engine postgres), so that every process serves the same overrides.
 */
import Database from 'better-sqlite3';
import type { PgPool } from '../../engines/postgres.js';
import { PgSchema } from '../../engines/pg-schema.js';

export interface ContextAsset {
  context: string;
  /** The asset's name under /assets/, e.g. `images/logo.svg` (no leading slash). */
  name: string;
  /** The blob holding its bytes. */
  key: string;
  size: number;
  /** MD5 of the content, base64 (the blob store's). */
  md5: string;
  type: string;
  created_at: string;
}

export interface ContextAssetIndex {
  list(): Promise<ContextAsset[]>;
  /** Stores `asset`, replacing the row of its (context, name): the replaced row's blob key, or null. */
  put(asset: ContextAsset): Promise<string | null>;
  /** Removes a row: its blob key, or null when there was none. */
  remove(context: string, name: string): Promise<string | null>;
  close(): Promise<void>;
}

const COLUMNS = 'context, name, key, size, md5, type, created_at';

export class SqliteContextAssetIndex implements ContextAssetIndex {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS context_assets (context TEXT NOT NULL, name TEXT NOT NULL, key TEXT NOT NULL, size INTEGER NOT NULL, md5 TEXT NOT NULL, type TEXT NOT NULL, created_at TEXT NOT NULL, PRIMARY KEY (context, name))');
  }

  async list(): Promise<ContextAsset[]> {
    return this.db.prepare(`SELECT ${COLUMNS} FROM context_assets ORDER BY context, name`).all() as ContextAsset[];
  }

  async put(a: ContextAsset): Promise<string | null> {
    return this.db.transaction(() => {
      const old = this.db.prepare('SELECT key FROM context_assets WHERE context = ? AND name = ?').pluck().get(a.context, a.name) as string | undefined;
      this.db.prepare(`INSERT OR REPLACE INTO context_assets (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`).run(a.context, a.name, a.key, a.size, a.md5, a.type, a.created_at);
      return old ?? null;
    }).immediate();
  }

  async remove(context: string, name: string): Promise<string | null> {
    const row = this.db.prepare('DELETE FROM context_assets WHERE context = ? AND name = ? RETURNING key').get(context, name) as { key: string } | undefined;
    return row?.key ?? null;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

const DDL = 'CREATE TABLE IF NOT EXISTS hearth.context_assets (context text NOT NULL, name text NOT NULL, key text NOT NULL, size bigint NOT NULL, md5 text NOT NULL, type text NOT NULL, created_at text NOT NULL, PRIMARY KEY (context, name))';

export class PgContextAssetIndex implements ContextAssetIndex {
  private readonly schema: PgSchema;

  constructor(private readonly pool: PgPool) {
    this.schema = new PgSchema(pool, DDL);
  }

  async list(): Promise<ContextAsset[]> {
    await this.schema.ready();
    const { rows } = await this.pool.query(`SELECT ${COLUMNS} FROM hearth.context_assets ORDER BY context, name`);
    return (rows as ContextAsset[]).map((r) => ({ ...r, size: Number(r.size) }));
  }

  async put(a: ContextAsset): Promise<string | null> {
    await this.schema.ready();
    // the replaced key, read in the same statement as the upsert
    const { rows } = await this.pool.query<{ old: string | null }>(`WITH old AS (SELECT key FROM hearth.context_assets WHERE context = $1 AND name = $2 FOR UPDATE)
      INSERT INTO hearth.context_assets (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (context, name) DO UPDATE SET key = excluded.key, size = excluded.size, md5 = excluded.md5, type = excluded.type, created_at = excluded.created_at
      RETURNING (SELECT key FROM old) AS old`, [a.context, a.name, a.key, a.size, a.md5, a.type, a.created_at]);
    return rows[0]?.old ?? null;
  }

  async remove(context: string, name: string): Promise<string | null> {
    await this.schema.ready();
    const { rows } = await this.pool.query<{ key: string }>('DELETE FROM hearth.context_assets WHERE context = $1 AND name = $2 RETURNING key', [context, name]);
    return rows[0]?.key ?? null;
  }

  async close(): Promise<void> {}
}
