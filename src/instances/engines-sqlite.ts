/**
 * InstanceEngines (./engines.ts) in the registry's SQLite file (registry.sqlite), in tables of their own, on a
 * connection of their own (WAL: the registry's connection and this one share the file). Each write is fsynced
 * before it is acknowledged (synchronous = FULL): the switch of a migration must survive a power cut.
 */
import Database from 'better-sqlite3';
import type { EngineChoice, InstanceEngines, MigrationRecord } from './engines.js';

interface MigrationRow {
  instance_id: string;
  domain: string;
  from_docs: string;
  from_blobs: string;
  to_docs: string;
  to_blobs: string;
  phase: 'running' | 'switched';
  started_at: string;
}

export const toRecord = (r: MigrationRow): MigrationRecord => ({
  instanceId: r.instance_id, domain: r.domain, phase: r.phase, startedAt: r.started_at,
  from: { docs: r.from_docs, blobs: r.from_blobs }, to: { docs: r.to_docs, blobs: r.to_blobs },
});

export const recordValues = (r: MigrationRecord): Array<string> => [r.instanceId, r.domain, r.from.docs, r.from.blobs, r.to.docs, r.to.blobs, r.phase, r.startedAt];

export class SqliteInstanceEngines implements InstanceEngines {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS instance_engines (instance_id TEXT PRIMARY KEY, docs TEXT NOT NULL, blobs TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS instance_migrations (
        instance_id TEXT PRIMARY KEY, domain TEXT NOT NULL, from_docs TEXT NOT NULL, from_blobs TEXT NOT NULL,
        to_docs TEXT NOT NULL, to_blobs TEXT NOT NULL, phase TEXT NOT NULL, started_at TEXT NOT NULL);`);
  }

  async get(instanceId: string): Promise<EngineChoice | null> {
    const row = this.db.prepare('SELECT docs, blobs FROM instance_engines WHERE instance_id = ?').get(instanceId) as EngineChoice | undefined;
    return row ? { docs: row.docs, blobs: row.blobs } : null;
  }

  async set(instanceId: string, engines: EngineChoice): Promise<void> {
    this.db.prepare('INSERT OR REPLACE INTO instance_engines (instance_id, docs, blobs) VALUES (?, ?, ?)').run(instanceId, engines.docs, engines.blobs);
  }

  async remove(instanceId: string): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM instance_engines WHERE instance_id = ?').run(instanceId);
      this.db.prepare('DELETE FROM instance_migrations WHERE instance_id = ?').run(instanceId);
    })();
  }

  async migration(instanceId: string): Promise<MigrationRecord | null> {
    const row = this.db.prepare('SELECT * FROM instance_migrations WHERE instance_id = ?').get(instanceId) as MigrationRow | undefined;
    return row ? toRecord(row) : null;
  }

  async migrations(): Promise<MigrationRecord[]> {
    return (this.db.prepare('SELECT * FROM instance_migrations ORDER BY started_at').all() as MigrationRow[]).map(toRecord);
  }

  async beginMigration(record: MigrationRecord, replacing: null | 'switched'): Promise<boolean> {
    const [id, ...rest] = recordValues({ ...record, phase: 'running' });
    if (replacing === null) {
      return this.db.prepare('INSERT INTO instance_migrations VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (instance_id) DO NOTHING').run(id, ...rest).changes === 1;
    }
    const sql = `UPDATE instance_migrations SET domain = ?, from_docs = ?, from_blobs = ?, to_docs = ?, to_blobs = ?, phase = ?, started_at = ?
      WHERE instance_id = ? AND phase = 'switched'`;
    return this.db.prepare(sql).run(...rest, id).changes === 1;
  }

  async switchMigration(instanceId: string): Promise<void> {
    this.db.transaction(() => {
      const row = this.db.prepare("SELECT * FROM instance_migrations WHERE instance_id = ? AND phase = 'running'").get(instanceId) as MigrationRow | undefined;
      if (!row) throw new Error(`no running migration of instance ${instanceId} to switch`);
      this.db.prepare('INSERT OR REPLACE INTO instance_engines (instance_id, docs, blobs) VALUES (?, ?, ?)').run(instanceId, row.to_docs, row.to_blobs);
      this.db.prepare("UPDATE instance_migrations SET phase = 'switched' WHERE instance_id = ?").run(instanceId);
    })();
  }

  async endMigration(instanceId: string): Promise<void> {
    this.db.prepare('DELETE FROM instance_migrations WHERE instance_id = ?').run(instanceId);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
