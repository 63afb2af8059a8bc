/**
 * The job mirror's outbox on PostgreSQL (mirror.ts tells the design): every write of a job's state or document, and of
 * a trigger, records the row's key in `hearth.jobs_mirror_outbox` through a PostgreSQL trigger, in the same
 * transaction (a lease renewal, which changes neither, records nothing). Every process of the cluster runs a mirror,
 * but a round runs only in the process that holds the advisory lock `hearth jobs mirror` (tried, never waited for):
 * two processes that see the same job change never both write it into /data.
 */
import type { Doc } from '../data/store.js';
import { applyDdl } from '../engines/pg-schema.js';
import type { PgPool } from '../engines/postgres.js';
import { ensureJobsSchema } from './broker-pg.js';
import { jobMirrorDoc, triggerMirrorDoc, type Kind, type MirrorSource, type OutboxRow } from './mirror.js';
import type { JobDoc, JobState, TriggerDoc } from './types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS hearth.jobs_mirror_outbox (
  seq bigserial, kind text NOT NULL, id text NOT NULL, instance_id text, domain text NOT NULL, v integer NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, id));
CREATE OR REPLACE FUNCTION hearth.jobs_mirror_note() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
  IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
  INSERT INTO hearth.jobs_mirror_outbox (kind, id, instance_id, domain) VALUES (TG_ARGV[0], r.id, r.instance_id, r.domain)
  ON CONFLICT (kind, id) DO UPDATE SET v = hearth.jobs_mirror_outbox.v + 1, instance_id = excluded.instance_id, domain = excluded.domain;
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER jobs_mirror AFTER INSERT OR DELETE OR UPDATE OF state, tries, doc, domain, instance_id ON hearth.jobs
  FOR EACH ROW EXECUTE FUNCTION hearth.jobs_mirror_note('job');
CREATE OR REPLACE TRIGGER triggers_mirror AFTER INSERT OR DELETE OR UPDATE ON hearth.triggers
  FOR EACH ROW EXECUTE FUNCTION hearth.jobs_mirror_note('trigger');
`;

const LOCK = "hashtext('hearth jobs mirror')";

export class PgMirrorSource implements MirrorSource {
  private ready: Promise<void> | null = null;

  constructor(private readonly pool: PgPool) {}

  /** Creates the outbox and its triggers (before the first job is written, or that job is not mirrored). */
  install(): Promise<void> {
    // once per database (engines/pg-schema.ts): CREATE OR REPLACE TRIGGER locks hearth.jobs and hearth.triggers
    this.ready ??= ensureJobsSchema(this.pool).then(() => applyDdl(this.pool, SCHEMA)).catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  async next(batch: number): Promise<OutboxRow[]> {
    const { rows } = await this.pool.query<OutboxRow>('SELECT v, kind, id, instance_id, domain FROM hearth.jobs_mirror_outbox ORDER BY seq LIMIT $1', [batch]);
    return rows;
  }

  async wanted(kind: Kind, ids: string[]): Promise<Map<string, Doc>> {
    if (kind === 'job') {
      const { rows } = await this.pool.query<{ id: string; state: JobState; doc: JobDoc }>('SELECT id, state, doc FROM hearth.jobs WHERE id = ANY($1)', [ids]);
      return new Map(rows.map((r) => [r.id, jobMirrorDoc({ ...r.doc, state: r.state })]));
    }
    const { rows } = await this.pool.query<{ id: string; doc: TriggerDoc }>('SELECT id, doc FROM hearth.triggers WHERE id = ANY($1)', [ids]);
    return new Map(rows.map((r) => [r.id, triggerMirrorDoc(r.doc)]));
  }

  async done(rows: OutboxRow[]): Promise<void> {
    if (!rows.length) return;
    await this.pool.query(
      `DELETE FROM hearth.jobs_mirror_outbox o USING unnest($1::text[], $2::text[], $3::integer[]) AS d(kind, id, v)
       WHERE o.kind = d.kind AND o.id = d.id AND o.v = d.v`,
      [rows.map((r) => r.kind), rows.map((r) => r.id), rows.map((r) => r.v)],
    );
  }

  async forget(instanceId: string): Promise<void> {
    await this.install();
    await this.pool.query('DELETE FROM hearth.jobs_mirror_outbox WHERE instance_id = $1', [instanceId]);
  }

  async mark(): Promise<number> {
    await this.install();
    const { rows } = await this.pool.query<{ m: string }>('SELECT COALESCE(max(seq), 0) AS m FROM hearth.jobs_mirror_outbox');
    return Number(rows[0]!.m);
  }

  async pending(mark: number): Promise<boolean> {
    const { rows } = await this.pool.query('SELECT 1 FROM hearth.jobs_mirror_outbox WHERE seq <= $1 LIMIT 1', [mark]);
    return rows.length > 0;
  }

  async exclusive(round: () => Promise<void>): Promise<void> {
    await this.install();
    const client = await this.pool.connect();
    let broken = false;
    // the server ending this connection while the round runs (a restart: 57P01 with no query under way on it) emits
    // 'error' on the client, which the pool listens to only on idle clients: without this listener the process died
    // of it (the outage test's dead process); the unlock then fails, and the connection is dropped, lock and all
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(${LOCK}) AS ok`);
      if (!rows[0]?.ok) return;
      try {
        await round();
      } finally {
        await client.query(`SELECT pg_advisory_unlock(${LOCK})`).catch(() => (broken = true));
      }
    } catch (err) {
      broken = true;
      throw err;
    } finally {
      // a connection whose unlock failed is not given back: closing it releases the lock
      client.off('error', onError);
      client.release(broken);
    }
  }
}
