/**
 * InstanceEngines (./engines.ts) on PostgreSQL, beside the registry's tables (created here if missing). Every
 * statement is one transaction committed with synchronous_commit on (engines/postgres.ts); the switch is one
 * statement pair in a transaction. Connection errors propagate as they are (a 503, engines/unavailable.ts).
 */
import { PgSchema } from '../engines/pg-schema.js';
import { inTransaction, type PgPool, type Queryable } from '../engines/postgres.js';
import type { EngineChoice, InstanceEngines, MigrationRecord } from './engines.js';
import { recordValues, toRecord } from './engines-sqlite.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS hearth_instance_engines (instance_id TEXT PRIMARY KEY, docs TEXT NOT NULL, blobs TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS hearth_instance_migrations (
    instance_id TEXT PRIMARY KEY, domain TEXT NOT NULL, from_docs TEXT NOT NULL, from_blobs TEXT NOT NULL,
    to_docs TEXT NOT NULL, to_blobs TEXT NOT NULL, phase TEXT NOT NULL, started_at TEXT NOT NULL)`;

export class PgInstanceEngines implements InstanceEngines {
  private readonly schema: PgSchema;

  /** `pool`: the process's pool (a Queryable for plain statements; a pool for the switch's transaction). */
  constructor(private readonly pool: PgPool) {
    this.schema = new PgSchema(pool, SCHEMA);
  }

  private async db(): Promise<Queryable> {
    // a failed creation (server down) is tried again by the next call (engines/pg-schema.ts)
    await this.schema.ready();
    return this.pool;
  }

  async get(instanceId: string): Promise<EngineChoice | null> {
    const { rows } = await (await this.db()).query<EngineChoice>('SELECT docs, blobs FROM hearth_instance_engines WHERE instance_id = $1', [instanceId]);
    return rows[0] ? { docs: rows[0].docs, blobs: rows[0].blobs } : null;
  }

  async set(instanceId: string, engines: EngineChoice): Promise<void> {
    await (await this.db()).query(
      'INSERT INTO hearth_instance_engines (instance_id, docs, blobs) VALUES ($1, $2, $3) ON CONFLICT (instance_id) DO UPDATE SET docs = $2, blobs = $3',
      [instanceId, engines.docs, engines.blobs],
    );
  }

  async remove(instanceId: string): Promise<void> {
    await this.db();
    await inTransaction(this.pool, async (c) => {
      await c.query('DELETE FROM hearth_instance_engines WHERE instance_id = $1', [instanceId]);
      await c.query('DELETE FROM hearth_instance_migrations WHERE instance_id = $1', [instanceId]);
    });
  }

  async migration(instanceId: string): Promise<MigrationRecord | null> {
    const { rows } = await (await this.db()).query('SELECT * FROM hearth_instance_migrations WHERE instance_id = $1', [instanceId]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async migrations(): Promise<MigrationRecord[]> {
    const { rows } = await (await this.db()).query('SELECT * FROM hearth_instance_migrations ORDER BY started_at');
    return rows.map(toRecord);
  }

  async beginMigration(record: MigrationRecord, replacing: null | 'switched'): Promise<boolean> {
    const values = recordValues({ ...record, phase: 'running' });
    const sql = replacing === null
      ? 'INSERT INTO hearth_instance_migrations VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (instance_id) DO NOTHING'
      : `UPDATE hearth_instance_migrations SET domain = $2, from_docs = $3, from_blobs = $4, to_docs = $5, to_blobs = $6, phase = $7, started_at = $8
         WHERE instance_id = $1 AND phase = 'switched'`;
    return (await (await this.db()).query(sql, values)).rowCount === 1;
  }

  async switchMigration(instanceId: string): Promise<void> {
    await this.db();
    await inTransaction(this.pool, async (c) => {
      const { rows } = await c.query("SELECT * FROM hearth_instance_migrations WHERE instance_id = $1 AND phase = 'running' FOR UPDATE", [instanceId]);
      if (!rows[0]) throw new Error(`no running migration of instance ${instanceId} to switch`);
      const r = toRecord(rows[0]);
      await c.query(
        'INSERT INTO hearth_instance_engines (instance_id, docs, blobs) VALUES ($1, $2, $3) ON CONFLICT (instance_id) DO UPDATE SET docs = $2, blobs = $3',
        [instanceId, r.to.docs, r.to.blobs],
      );
      await c.query("UPDATE hearth_instance_migrations SET phase = 'switched' WHERE instance_id = $1", [instanceId]);
    });
  }

  async endMigration(instanceId: string): Promise<void> {
    await (await this.db()).query('DELETE FROM hearth_instance_migrations WHERE instance_id = $1', [instanceId]);
  }

  /** The pool belongs to the process (compose.ts closes it). */
  async close(): Promise<void> {}
}
