/**
 * What the stack did with the built-in apps on each instance (state.ts), on PostgreSQL with docs.engine postgres: one
 * row per instance in the shared schema `hearth`, so that every process knows what any of them already applied.
 */
import type { PgPool } from '../../engines/postgres.js';
import { PgSchema } from '../../engines/pg-schema.js';
import { parseSeen, seenText, type BuiltinRow, type BuiltinStateStore } from './state.js';

const DDL = 'CREATE TABLE IF NOT EXISTS hearth.builtin_apps (instance_id text PRIMARY KEY, fingerprint text NOT NULL, seen text NOT NULL)';

export class PgBuiltinState implements BuiltinStateStore {
  private readonly schema: PgSchema;

  constructor(private readonly pool: PgPool) {
    this.schema = new PgSchema(pool, DDL);
  }

  async get(instanceId: string): Promise<BuiltinRow | null> {
    return (await this.many([instanceId])).get(instanceId) ?? null;
  }

  async many(instanceIds: string[]): Promise<Map<string, BuiltinRow>> {
    await this.schema.ready();
    const { rows } = await this.pool.query<{ instance_id: string; fingerprint: string; seen: string }>(
      'SELECT instance_id, fingerprint, seen FROM hearth.builtin_apps WHERE instance_id = ANY($1)', [instanceIds]);
    return new Map(rows.map((r) => [r.instance_id, { fingerprint: r.fingerprint, seen: parseSeen(r.seen) }]));
  }

  async set(instanceId: string, row: BuiltinRow): Promise<void> {
    await this.schema.ready();
    await this.pool.query(`INSERT INTO hearth.builtin_apps (instance_id, fingerprint, seen) VALUES ($1, $2, $3)
      ON CONFLICT (instance_id) DO UPDATE SET fingerprint = excluded.fingerprint, seen = excluded.seen`, [instanceId, row.fingerprint, seenText(row.seen)]);
  }

  async forget(instanceId: string): Promise<void> {
    await this.schema.ready();
    await this.pool.query('DELETE FROM hearth.builtin_apps WHERE instance_id = $1', [instanceId]);
  }

  /** The pool belongs to the composition root. */
  async close(): Promise<void> {}
}
