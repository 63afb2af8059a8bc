/**
 * The housekeeping's hints (./housekeeping-hints.ts) in PostgreSQL's schema `hearth`, with docs.engine postgres: every
 * process marks the instances whose events it published, and the processes' rounds share the due rows: a round
 * claims the rows it takes for LEASE_MS (`claimed_until`), so two rounds at once queue different jobs, and the rows of
 * a process that dies before `done` are taken again once their claim is over. The first process that creates the
 * table starts the seeding (the instances registered before), which any process continues.
 */
import { PgSchema } from '../engines/pg-schema.js';
import type { PgPool } from '../engines/postgres.js';
import type { Instance } from '../instances/types.js';
import { CLEANING_WORKERS, type DueRow, firstOfEachPair, type HousekeepingHints, type Mark } from './housekeeping-hints.js';

/** How long a round's claim on due rows lasts (a round queues at most 100 jobs: seconds). */
const LEASE_MS = 10 * 60_000;

/** Idempotent (engines/pg-schema.ts): the seeding starts only with the tables' creation. */
const DDL = `
DO $$ BEGIN
  IF to_regclass('hearth.housekeeping') IS NULL THEN
    CREATE TABLE hearth.housekeeping (instance_id text NOT NULL, domain text NOT NULL, worker text NOT NULL, due_at bigint NOT NULL,
      claimed_until bigint NOT NULL DEFAULT 0, PRIMARY KEY (instance_id, worker, due_at));
    CREATE INDEX housekeeping_due ON hearth.housekeeping (due_at);
    CREATE TABLE hearth.housekeeping_seed (after text NOT NULL);
    INSERT INTO hearth.housekeeping_seed (after) VALUES ('');
  END IF;
END $$`;

export class PgHousekeepingHints implements HousekeepingHints {
  /** The tables, created with the seeding's start by the first process (engines/pg-schema.ts). */
  private readonly schema: () => Promise<void>;

  constructor(private readonly pool: PgPool, private readonly now: () => number = Date.now) {
    this.schema = new PgSchema(pool, DDL).ready;
  }

  private async insert(marks: Mark[]): Promise<void> {
    if (marks.length === 0) return;
    await this.schema();
    const cols = [0, 1, 2, 3].map((i) => marks.map((m) => m[i]));
    await this.pool.query(`INSERT INTO hearth.housekeeping (instance_id, domain, worker, due_at)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) ON CONFLICT DO NOTHING`, cols);
  }

  mark(marks: Mark[]): Promise<void> {
    return this.insert(marks);
  }

  async due(now: number, limit: number): Promise<DueRow[]> {
    await this.schema();
    const clock = this.now();
    const { rows } = await this.pool.query<DueRow & { due_at: string }>(`WITH picked AS (
        SELECT instance_id, worker FROM hearth.housekeeping WHERE due_at <= $1 AND claimed_until < $2
        GROUP BY instance_id, worker ORDER BY min(due_at) LIMIT $3)
      UPDATE hearth.housekeeping h SET claimed_until = $4 FROM picked p
      WHERE h.instance_id = p.instance_id AND h.worker = p.worker AND h.due_at <= $1 AND h.claimed_until < $2
      RETURNING h.instance_id, h.domain, h.worker, h.due_at`, [now, clock, limit, clock + LEASE_MS]);
    // one row per pair (a pair may have several due marks), in the order of their earliest
    return firstOfEachPair(rows.sort((a, b) => Number(a.due_at) - Number(b.due_at)));
  }

  async done(rows: DueRow[], now: number): Promise<void> {
    if (rows.length === 0) return;
    await this.schema();
    await this.pool.query(`DELETE FROM hearth.housekeeping h USING unnest($1::text[], $2::text[]) AS d(instance_id, worker)
      WHERE h.instance_id = d.instance_id AND h.worker = d.worker AND h.due_at <= $3`, [rows.map((r) => r.instance_id), rows.map((r) => r.worker), now]);
  }

  async seedAfter(): Promise<string | undefined> {
    await this.schema();
    const { rows } = await this.pool.query<{ after: string }>('SELECT after FROM hearth.housekeeping_seed LIMIT 1');
    return rows[0]?.after;
  }

  async seedPage(instances: Instance[], dueOf: (instance: Instance) => number, last: boolean): Promise<void> {
    await this.insert(instances.flatMap((i) => CLEANING_WORKERS.map((w): Mark => [i.id, i.domain, w, dueOf(i)])));
    if (last) await this.pool.query('DELETE FROM hearth.housekeeping_seed');
    else await this.pool.query('UPDATE hearth.housekeeping_seed SET after = $1', [instances[instances.length - 1]!.domain]);
  }
}
