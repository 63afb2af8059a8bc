/**
 * What the stack did with the built-in apps on each instance (`<dataDir>/apps-builtin.sqlite`), so that a start does not
 * open every instance's database to learn that nothing changed:
 * - `fingerprint`: the built-in set (slugs, versions, checksums) last applied to the instance in full, or '' while some
 *   app of it is still to install or update;
 * - `seen`: the built-in slugs that were installed on the instance once (by the stack or the owner). A slug seen but
 *   no longer installed was uninstalled by the owner: it is not put back.
 * A row is written after each step's outcome, so a stop in the middle leaves a row the next start finishes.
 */
import Database from 'better-sqlite3';

export interface BuiltinRow {
  fingerprint: string;
  seen: string[];
}

/** Where that state lives: SQLite here, PostgreSQL (state-pg.ts) with docs.engine postgres. */
export interface BuiltinStateStore {
  get(instanceId: string): Promise<BuiltinRow | null>;
  /** The rows of these instances (a page of the registry), in one read. */
  many(instanceIds: string[]): Promise<Map<string, BuiltinRow>>;
  set(instanceId: string, row: BuiltinRow): Promise<void>;
  /** A destroyed instance's row. */
  forget(instanceId: string): Promise<void>;
  close(): Promise<void>;
}

/** The `seen` column as stored (JSON), tolerant of anything else. */
export function parseSeen(text: string): string[] {
  const seen: unknown = JSON.parse(text);
  return Array.isArray(seen) ? seen.filter((s): s is string => typeof s === 'string') : [];
}

/** The `seen` column to store: each slug once, sorted. */
export const seenText = (seen: string[]): string => JSON.stringify([...new Set(seen)].sort());

export class BuiltinState implements BuiltinStateStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS instances (instance_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, seen TEXT NOT NULL)');
  }

  async get(instanceId: string): Promise<BuiltinRow | null> {
    const r = this.db.prepare('SELECT fingerprint, seen FROM instances WHERE instance_id = ?').get(instanceId) as { fingerprint: string; seen: string } | undefined;
    return r ? { fingerprint: r.fingerprint, seen: parseSeen(r.seen) } : null;
  }

  async many(instanceIds: string[]): Promise<Map<string, BuiltinRow>> {
    const out = new Map<string, BuiltinRow>();
    for (const id of instanceIds) {
      const row = await this.get(id);
      if (row) out.set(id, row);
    }
    return out;
  }

  async set(instanceId: string, row: BuiltinRow): Promise<void> {
    this.db.prepare('INSERT INTO instances (instance_id, fingerprint, seen) VALUES (?, ?, ?) ON CONFLICT(instance_id) DO UPDATE SET fingerprint = excluded.fingerprint, seen = excluded.seen')
      .run(instanceId, row.fingerprint, seenText(row.seen));
  }

  async forget(instanceId: string): Promise<void> {
    this.db.prepare('DELETE FROM instances WHERE instance_id = ?').run(instanceId);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
