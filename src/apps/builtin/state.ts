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

export class BuiltinState {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS instances (instance_id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, seen TEXT NOT NULL)');
  }

  get(instanceId: string): BuiltinRow | null {
    const r = this.db.prepare('SELECT fingerprint, seen FROM instances WHERE instance_id = ?').get(instanceId) as { fingerprint: string; seen: string } | undefined;
    if (!r) return null;
    const seen: unknown = JSON.parse(r.seen);
    return { fingerprint: r.fingerprint, seen: Array.isArray(seen) ? seen.filter((s): s is string => typeof s === 'string') : [] };
  }

  set(instanceId: string, row: BuiltinRow): void {
    this.db.prepare('INSERT INTO instances (instance_id, fingerprint, seen) VALUES (?, ?, ?) ON CONFLICT(instance_id) DO UPDATE SET fingerprint = excluded.fingerprint, seen = excluded.seen')
      .run(instanceId, row.fingerprint, JSON.stringify([...new Set(row.seen)].sort()));
  }

  /** A destroyed instance's row. */
  forget(instanceId: string): void {
    this.db.prepare('DELETE FROM instances WHERE instance_id = ?').run(instanceId);
  }

  close(): void {
    this.db.close();
  }
}
