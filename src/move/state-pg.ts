/** The move states (./state.ts) on PostgreSQL with docs.engine postgres: one row per instance in the schema `hearth`. */
import { inTransaction, type PgPool } from '../engines/postgres.js';
import { PgSchema } from '../engines/pg-schema.js';
import { rowToState, type MoveState, type MoveStateStore, type MoveStatus } from './state.js';

const DDL = 'CREATE TABLE IF NOT EXISTS hearth.move_state (instance_id text PRIMARY KEY, status text NOT NULL, peer text, since text NOT NULL, detail text NOT NULL)';

export class PgMoveState implements MoveStateStore {
  private readonly schema: PgSchema;

  constructor(private readonly pool: PgPool) {
    this.schema = new PgSchema(pool, DDL);
  }

  async get(instanceId: string): Promise<MoveState | null> {
    await this.schema.ready();
    const { rows } = await this.pool.query('SELECT * FROM hearth.move_state WHERE instance_id = $1', [instanceId]);
    return rows[0] ? rowToState(rows[0]) : null;
  }

  async transition(instanceId: string, from: MoveStatus | null, next: MoveState | null): Promise<boolean> {
    await this.schema.ready();
    return inTransaction(this.pool, async (client) => {
      // the row lock (or, for a missing row, the per-instance advisory lock) serialises concurrent transitions
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`hearth.move_state:${instanceId}`]);
      const { rows } = await client.query<{ status: string }>('SELECT status FROM hearth.move_state WHERE instance_id = $1 FOR UPDATE', [instanceId]);
      if ((rows[0]?.status ?? null) !== from) return false;
      if (next) {
        await client.query(`INSERT INTO hearth.move_state (instance_id, status, peer, since, detail) VALUES ($1, $2, $3, $4, $5)
          ON CONFLICT (instance_id) DO UPDATE SET status = excluded.status, peer = excluded.peer, since = excluded.since, detail = excluded.detail`,
        [instanceId, next.status, next.peer, next.since, JSON.stringify(next.detail)]);
      } else {
        await client.query('DELETE FROM hearth.move_state WHERE instance_id = $1', [instanceId]);
      }
      return true;
    });
  }

  async list(): Promise<Array<{ instanceId: string; state: MoveState }>> {
    await this.schema.ready();
    const { rows } = await this.pool.query('SELECT * FROM hearth.move_state ORDER BY instance_id');
    return rows.map((r) => ({ instanceId: r.instance_id as string, state: rowToState(r) }));
  }

  async forget(instanceId: string): Promise<void> {
    await this.schema.ready();
    await this.pool.query('DELETE FROM hearth.move_state WHERE instance_id = $1', [instanceId]);
  }

  /** The pool belongs to the composition root. */
  async close(): Promise<void> {}
}
