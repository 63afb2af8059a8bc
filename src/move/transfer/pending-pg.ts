/** The pending steps of a move (./pending.ts) on PostgreSQL with docs.engine postgres: the schema `hearth`. */
import type { PgPool } from '../../engines/postgres.js';
import { PgSchema } from '../../engines/pg-schema.js';
import { rowToPending, type PendingKind, type PendingRow, type PendingStore } from './pending.js';

const DDL = 'CREATE TABLE IF NOT EXISTS hearth.move_pending (kind text NOT NULL, key text NOT NULL, instance_id text NOT NULL, value text NOT NULL, expires_at bigint NOT NULL, PRIMARY KEY (kind, key))';

export class PgPending implements PendingStore {
  private readonly schema: PgSchema;

  constructor(private readonly pool: PgPool) {
    this.schema = new PgSchema(pool, DDL);
  }

  async put(kind: PendingKind, key: string, instanceId: string, value: Record<string, unknown>, ttlMs: number): Promise<void> {
    await this.schema.ready();
    const now = Date.now();
    await this.pool.query('DELETE FROM hearth.move_pending WHERE expires_at <= $1', [now]);
    await this.pool.query(`INSERT INTO hearth.move_pending (kind, key, instance_id, value, expires_at) VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (kind, key) DO UPDATE SET instance_id = excluded.instance_id, value = excluded.value, expires_at = excluded.expires_at`,
    [kind, key, instanceId, JSON.stringify(value), now + ttlMs]);
  }

  async peek(kind: PendingKind, key: string) {
    await this.schema.ready();
    const { rows } = await this.pool.query<PendingRow>('SELECT instance_id, value, expires_at FROM hearth.move_pending WHERE kind = $1 AND key = $2', [kind, key]);
    return rowToPending(rows[0], Date.now());
  }

  async take(kind: PendingKind, key: string) {
    await this.schema.ready();
    const { rows } = await this.pool.query<PendingRow>('DELETE FROM hearth.move_pending WHERE kind = $1 AND key = $2 RETURNING instance_id, value, expires_at', [kind, key]);
    return rowToPending(rows[0], Date.now());
  }

  async forget(instanceId: string): Promise<void> {
    await this.schema.ready();
    await this.pool.query('DELETE FROM hearth.move_pending WHERE instance_id = $1', [instanceId]);
  }

  /** The pool belongs to the composition root. */
  async close(): Promise<void> {}
}
