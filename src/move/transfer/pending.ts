/**
 * What a move between servers keeps while the person goes from page to page (cozy-stack keeps it in its cache): the
 * wizard's progress under its OAuth `state`, a confirmed request under the secret of the mailed link, the target a
 * source is being moved to. Single use (`take`), with an expiry; kept with the server's state (SQLite in dataDir here,
 * PostgreSQL with docs.engine postgres: ./pending-pg.ts) so that the next page may land on any process.
 */
import Database from 'better-sqlite3';

export type PendingKind = 'wizard' | 'request' | 'moving_to' | 'two_factor';

export interface PendingStore {
  /** Stores `value` under (kind, key) until `ttlMs` from now, replacing what was there. */
  put(kind: PendingKind, key: string, instanceId: string, value: Record<string, unknown>, ttlMs: number): Promise<void>;
  /** The live value, without removing it. */
  peek(kind: PendingKind, key: string): Promise<{ instanceId: string; value: Record<string, unknown> } | null>;
  /** Removes and returns the live value: a second call gets null, and so does an expired one. */
  take(kind: PendingKind, key: string): Promise<{ instanceId: string; value: Record<string, unknown> } | null>;
  /** Everything kept for a destroyed instance. */
  forget(instanceId: string): Promise<void>;
  close(): Promise<void>;
}

export interface PendingRow { instance_id: string; value: string; expires_at: number | string }

export function rowToPending(r: PendingRow | undefined, now: number): { instanceId: string; value: Record<string, unknown> } | null {
  if (!r || Number(r.expires_at) <= now) return null;
  return { instanceId: r.instance_id, value: JSON.parse(r.value) as Record<string, unknown> };
}

export class SqlitePending implements PendingStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec('CREATE TABLE IF NOT EXISTS move_pending (kind TEXT NOT NULL, key TEXT NOT NULL, instance_id TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (kind, key))');
  }

  async put(kind: PendingKind, key: string, instanceId: string, value: Record<string, unknown>, ttlMs: number): Promise<void> {
    const now = Date.now();
    this.db.prepare('DELETE FROM move_pending WHERE expires_at <= ?').run(now);
    this.db.prepare('INSERT OR REPLACE INTO move_pending (kind, key, instance_id, value, expires_at) VALUES (?, ?, ?, ?, ?)').run(kind, key, instanceId, JSON.stringify(value), now + ttlMs);
  }

  async peek(kind: PendingKind, key: string) {
    return rowToPending(this.db.prepare('SELECT instance_id, value, expires_at FROM move_pending WHERE kind = ? AND key = ?').get(kind, key) as PendingRow | undefined, Date.now());
  }

  async take(kind: PendingKind, key: string) {
    const row = this.db.prepare('DELETE FROM move_pending WHERE kind = ? AND key = ? RETURNING instance_id, value, expires_at').get(kind, key) as PendingRow | undefined;
    return rowToPending(row, Date.now());
  }

  async forget(instanceId: string): Promise<void> {
    this.db.prepare('DELETE FROM move_pending WHERE instance_id = ?').run(instanceId);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
