/** The `io.cozy.exports` documents (./store.ts) on PostgreSQL with docs.engine postgres: the schema `hearth`, shared by every process. */
import { inTransaction, type PgPool } from '../../engines/postgres.js';
import { PgSchema } from '../../engines/pg-schema.js';
import type { ExportDoc } from '../types.js';
import {
  blocks, endedDoc, heldSql, HOLDING, releasableSql, rowToHeld, rowToExport, rowToPin, snapshotDdl, snapshotPage, type ExportRow, type ExportStore, type HeldBlob, type HeldRow, type Pin, type PinRow,
  type SnapshotDoc, type SnapshotKind, type StoredExport,
} from './store.js';

const DDL = `CREATE TABLE IF NOT EXISTS hearth.exports (id text PRIMARY KEY, instance_id text NOT NULL, job_id text, state text NOT NULL,
  created_at text NOT NULL, expires_at bigint NOT NULL, doc text NOT NULL);
CREATE INDEX IF NOT EXISTS exports_instance ON hearth.exports (instance_id, created_at);
CREATE INDEX IF NOT EXISTS exports_expiry ON hearth.exports (expires_at);
${snapshotDdl('hearth.')}`;
const $ = (i: number) => `$${i}`;
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
      if (next.state === 'error') await client.query('DELETE FROM hearth.export_docs WHERE export_id = $1', [id]);
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
    await this.pool.query('DELETE FROM hearth.export_pins WHERE instance_id = $1', [instanceId]);
  }

  async saveDocs(exportId: string, docs: SnapshotDoc[]): Promise<void> {
    if (docs.length === 0) return;
    await this.schema.ready();
    await this.pool.query(`INSERT INTO hearth.export_docs (export_id, kind, doctype, id, body)
      SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[])`,
    [exportId, docs.map((d) => d.kind), docs.map((d) => d.doctype), docs.map((d) => d.id), docs.map((d) => d.body)]);
  }

  async docs(exportId: string, kind: SnapshotKind, from: { doctype: string; id: string }, inclusive: boolean, until: string | null, limit: number): Promise<SnapshotDoc[]> {
    await this.schema.ready();
    const values: unknown[] = [exportId, kind, from.doctype, from.id, limit, ...(until === null ? [] : [until])];
    const sql = snapshotPage('hearth.', inclusive, until !== null, $, ' COLLATE "C"');
    return (await this.pool.query<SnapshotDoc>(sql, values)).rows;
  }

  async pin(instanceId: string, key: string, now: number): Promise<boolean> {
    await this.schema.ready();
    // one statement: the holds it reads and the pins it writes are of one moment
    const { rows } = await this.pool.query<{ n: string }>(`WITH h AS (SELECT e.id FROM hearth.exports e WHERE e.instance_id = $1 AND ${HOLDING}$3),
      ins AS (INSERT INTO hearth.export_pins (export_id, instance_id, key) SELECT id, $1, $2 FROM h ON CONFLICT DO NOTHING)
      SELECT count(*) AS n FROM h`, [instanceId, key, now]);
    return Number(rows[0]?.n ?? 0) > 0;
  }

  async releasable(now: number, limit: number): Promise<Pin[]> {
    await this.schema.ready();
    return (await this.pool.query<PinRow>(releasableSql('hearth.', $), [now, limit])).rows.map(rowToPin);
  }

  async unpin(pins: Pin[]): Promise<void> {
    if (pins.length === 0) return;
    await this.schema.ready();
    await this.pool.query('DELETE FROM hearth.export_pins p USING unnest($1::text[], $2::text[]) AS u(e, k) WHERE p.export_id = u.e AND p.key = u.k',
      [pins.map((p) => p.exportId), pins.map((p) => p.key)]);
  }

  async held(instanceId: string, now: number): Promise<HeldBlob[]> {
    await this.schema.ready();
    return (await this.pool.query<HeldRow>(heldSql('hearth.', $), [instanceId, now])).rows.map(rowToHeld);
  }

  /** The pool belongs to the composition root. */
  async close(): Promise<void> {}
}
