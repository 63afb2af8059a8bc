/** The `io.cozy.exports` documents (./store.ts) on PostgreSQL with docs.engine postgres: the schema `hearth`, shared by every process. */
import { inTransaction, type PgPool } from '../../engines/postgres.js';
import { PgSchema } from '../../engines/pg-schema.js';
import type { ExportDoc } from '../types.js';
import { blocks, endedDoc, rowToExport, type ExportRow, type ExportStore, type StoredExport } from './store.js';

const DDL = `CREATE TABLE IF NOT EXISTS hearth.exports (id text PRIMARY KEY, instance_id text NOT NULL, job_id text, state text NOT NULL,
  created_at text NOT NULL, expires_at bigint NOT NULL, doc text NOT NULL);
CREATE INDEX IF NOT EXISTS exports_instance ON hearth.exports (instance_id, created_at);
CREATE INDEX IF NOT EXISTS exports_expiry ON hearth.exports (expires_at)`;
const COLUMNS = 'id, instance_id, job_id, doc';

export class PgExportStore implements ExportStore {
  private readonly schema: PgSchema;

  constructor(private readonly pool: PgPool) {
    this.schema = new PgSchema(pool, DDL);
  }

  async begin(instanceId: string, doc: ExportDoc, jobId: string | null, now: number): Promise<{ removed: ExportDoc[] } | null> {
    await this.schema.ready();
    return inTransaction(this.pool, async (client) => {
      // the per-instance advisory lock serialises two processes starting an export of one instance
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`hearth.exports:${instanceId}`]);
      const { rows } = await client.query<ExportRow>(`SELECT ${COLUMNS} FROM hearth.exports WHERE instance_id = $1`, [instanceId]);
      if (blocks(rows, now)) return null;
      await client.query('DELETE FROM hearth.exports WHERE instance_id = $1', [instanceId]);
      await client.query('INSERT INTO hearth.exports (id, instance_id, job_id, state, created_at, expires_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [doc._id, instanceId, jobId, doc.state, doc.created_at, Date.parse(doc.expires_at), JSON.stringify(doc)]);
      return { removed: rows.map((r) => rowToExport(r).doc) };
    });
  }

  async get(id: string): Promise<StoredExport | null> {
    await this.schema.ready();
    const { rows } = await this.pool.query<ExportRow>(`SELECT ${COLUMNS} FROM hearth.exports WHERE id = $1`, [id]);
    return rows[0] ? rowToExport(rows[0]) : null;
  }

  async finish(id: string, end: Pick<ExportDoc, 'state'> & Partial<ExportDoc>): Promise<ExportDoc | null> {
    await this.schema.ready();
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<ExportRow>(`SELECT ${COLUMNS} FROM hearth.exports WHERE id = $1 AND state = 'exporting' FOR UPDATE`, [id]);
      if (!rows[0]) return null;
      const next = endedDoc(rowToExport(rows[0]).doc, end);
      await client.query('UPDATE hearth.exports SET state = $1, expires_at = $2, doc = $3 WHERE id = $4', [next.state, Date.parse(next.expires_at), JSON.stringify(next), id]);
      return next;
    });
  }

  async list(instanceId: string): Promise<ExportDoc[]> {
    await this.schema.ready();
    const { rows } = await this.pool.query<ExportRow>(`SELECT ${COLUMNS} FROM hearth.exports WHERE instance_id = $1 ORDER BY created_at DESC`, [instanceId]);
    return rows.map((r) => rowToExport(r).doc);
  }

  async running(): Promise<StoredExport[]> {
    await this.schema.ready();
    const { rows } = await this.pool.query<ExportRow>(`SELECT ${COLUMNS} FROM hearth.exports WHERE state = 'exporting' ORDER BY created_at`);
    return rows.map(rowToExport);
  }

  async removeExpired(now: number, limit: number): Promise<StoredExport[]> {
    await this.schema.ready();
    const { rows } = await this.pool.query<ExportRow>(`DELETE FROM hearth.exports WHERE id IN (SELECT id FROM hearth.exports WHERE expires_at <= $1
      ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING ${COLUMNS}`, [now, limit]);
    return rows.map(rowToExport);
  }

  async forget(instanceId: string): Promise<void> {
    await this.schema.ready();
    await this.pool.query('DELETE FROM hearth.exports WHERE instance_id = $1', [instanceId]);
  }

  /** The pool belongs to the composition root. */
  async close(): Promise<void> {}
}
