/**
 * The journal of folder copies on PostgreSQL (docs.engine postgres), in the shared schema `hearth`: a copy cut by the
 * death of its process is seen, and undone, by any other process (copy-journal.ts), without the dead one coming back.
 * A claim is one UPDATE over a FOR UPDATE SKIP LOCKED pick of the ended leases (the `copies_lease` index): processes
 * claiming at once never wait on each other, and an entry goes to one of them only; when no lease has ended it reads
 * nothing but the start of the index.
 */
import type { PgPool } from '../engines/postgres.js';
import { PgSchema } from '../engines/pg-schema.js';
import type { CopyJournalStore, CopyMark, CopyRecord } from './copy-journal.js';

const DDL = `
CREATE TABLE IF NOT EXISTS hearth.copies (id text PRIMARY KEY, mark jsonb NOT NULL, owner text NOT NULL, lease_until bigint NOT NULL);
CREATE INDEX IF NOT EXISTS copies_lease ON hearth.copies (lease_until);`;

export class PgCopyJournalStore implements CopyJournalStore {
  private readonly schema: PgSchema;

  constructor(private readonly pool: PgPool) {
    this.schema = new PgSchema(pool, DDL);
  }

  private async query(sql: string, args: unknown[]): Promise<Array<Record<string, unknown>>> {
    await this.schema.ready();
    return (await this.pool.query(sql, args)).rows as Array<Record<string, unknown>>;
  }

  async insert(id: string, mark: CopyMark, owner: string, leaseUntil: number): Promise<void> {
    await this.query('INSERT INTO hearth.copies (id, mark, owner, lease_until) VALUES ($1, $2, $3, $4)', [id, JSON.stringify(mark), owner, leaseUntil]);
  }

  async made(id: string, topId: string): Promise<void> {
    await this.query(`UPDATE hearth.copies SET mark = mark || jsonb_build_object('topId', $2::text) WHERE id = $1`, [id, topId]);
  }

  async remove(id: string): Promise<void> {
    await this.query('DELETE FROM hearth.copies WHERE id = $1', [id]);
  }

  async renew(ids: string[], owner: string, leaseUntil: number): Promise<string[]> {
    return (await this.query('UPDATE hearth.copies SET lease_until = $1 WHERE id = ANY($2) AND owner = $3 RETURNING id', [leaseUntil, ids, owner])).map((r) => String(r.id));
  }

  async claimExpired(owner: string, now: number, leaseUntil: number, limit: number): Promise<CopyRecord[]> {
    const rows = await this.query(`UPDATE hearth.copies SET owner = $1, lease_until = $2
      WHERE id IN (SELECT id FROM hearth.copies WHERE lease_until < $3 ORDER BY lease_until LIMIT $4 FOR UPDATE SKIP LOCKED)
      RETURNING id, mark`, [owner, leaseUntil, now, limit]);
    return rows.map((r) => ({ id: String(r.id), mark: r.mark as CopyMark }));
  }

  async close(): Promise<void> {
    // the pool is the composition root's
  }
}
