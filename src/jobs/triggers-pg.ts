/**
 * The time, event, webhook and client triggers of every instance on PostgreSQL, in the schema of the jobs (broker-pg.ts),
 * shared by every process of the cluster. `advance` is the compare-and-set of a time trigger's next run: of all the
 * processes that find a slot due, only the one whose UPDATE matched fires it.
 */
import type { QueryResult, QueryResultRow } from 'pg';
import { currentFence } from '../common/locks.js';
import { checkFence } from '../data/postgres/schema.js';
import { inTransaction, type PgPool, type Queryable } from '../engines/postgres.js';
import type { EventCursor, TriggerQuery, TriggerStore } from './broker.js';
import { ASYNC_COMMIT, ensureJobsSchema, instanceId, num, PgTables } from './broker-pg.js';
import type { InstanceIdOf } from './broker-sqlite.js';
import type { TriggerDoc, TriggerState } from './types.js';

const doc = (row: { doc: TriggerDoc }) => row.doc;

export class PgTriggerStore extends PgTables implements TriggerStore {
  constructor(pool: PgPool, private readonly idOf: InstanceIdOf) {
    super(pool);
  }

  /**
   * The WAL positions past the commits made without waiting for their flush (`durable` false: an install's trigger and
   * its first @event cursor, which its journal covers until `sync()`), not yet seen flushed.
   */
  private unflushed: string[] = [];

  /**
   * Resolves once every trigger written before is durable: at once when the WAL is flushed past the commits made without
   * their flush (the next flushed commit of the database, an install's documents on PostgreSQL, or the walwriter within
   * its delay, carried them); otherwise the last of those triggers is written again with a flushed commit, which
   * carries every earlier one (a trigger deleted since went with a flushed commit, which did the same).
   */
  async sync(): Promise<void> {
    const targets = this.unflushed;
    // nothing new: a check already under way may hold this caller's triggers (taken from the list by an earlier call)
    if (!targets.length) return this.syncing;
    this.unflushed = [];
    const run = this.syncing.catch(() => undefined).then(() => this.flushPast(targets));
    this.syncing = run;
    return run;
  }

  /** The check in flight (sync() calls one after the other): a caller with nothing new waits for it. */
  private syncing: Promise<void> = Promise.resolve();

  private async flushPast(targets: string[]): Promise<void> {
    try {
      const { rows } = await this.query<{ done: boolean }>('SELECT pg_current_wal_flush_lsn() >= max(l) AS done FROM unnest($1::pg_lsn[]) l', [targets.map((t) => t.split(' ')[0])]);
      if (!rows[0]?.done) await this.query('UPDATE hearth.triggers SET doc = doc WHERE id = $1', [targets.at(-1)!.split(' ')[1]]);
    } catch (e) {
      this.unflushed.unshift(...targets);
      throw e;
    }
  }

  /**
   * A write of a trigger, refused (StaleLock) in its transaction when made under a lock whose fence moved on (common/locks.ts).
   * `durable` false: committed without waiting for its flush, the WAL position past its commit kept for sync() (with `id`).
   */
  private async fenced<R extends QueryResultRow>(sql: string, args: unknown[], unflushedId?: string): Promise<QueryResult<R>> {
    const fence = currentFence();
    if (!fence && unflushedId === undefined) return this.query<R>(sql, args);
    await ensureJobsSchema(this.pool);
    const res = await inTransaction(this.pool, async (c) => {
      if (unflushedId !== undefined) await c.query(`SELECT ${ASYNC_COMMIT}`);
      if (fence) await checkFence(c, 'hearth', fence);
      return c.query<R>(sql, args);
    });
    if (unflushedId !== undefined) {
      const { rows } = await this.pool.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
      this.unflushed.push(`${rows[0]!.lsn} ${unflushedId}`);
    }
    return res;
  }

  async put(trigger: TriggerDoc, nextRunAt: number | null, durable = true): Promise<void> {
    const instance = trigger.instance_id ?? (await instanceId(this.idOf, trigger.domain));
    await this.fenced(
      `INSERT INTO hearth.triggers (id, domain, instance_id, type, worker, next_run_at, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET domain = $2, instance_id = $3, type = $4, worker = $5, next_run_at = $6, doc = $7`,
      [trigger._id, trigger.domain, instance, trigger.type, trigger.worker, nextRunAt, { ...trigger, instance_id: instance }],
      durable ? undefined : trigger._id,
    );
  }

  async get(domain: string, id: string): Promise<TriggerDoc | null> {
    const found = await this.find(id);
    return found && found.instance_id === (await this.idOf(domain)) ? found : null;
  }

  async find(id: string): Promise<TriggerDoc | null> {
    const { rows } = await this.query<{ doc: TriggerDoc }>('SELECT doc FROM hearth.triggers WHERE id = $1', [id]);
    return rows[0] ? doc(rows[0]) : null;
  }

  async list(domain: string, q: TriggerQuery): Promise<TriggerDoc[]> {
    const { rows } = await this.query<{ doc: TriggerDoc }>(
      `SELECT doc FROM hearth.triggers WHERE instance_id = $1 AND ($2::text[] IS NULL OR worker = ANY($2)) AND ($3::text[] IS NULL OR type = ANY($3))
       ORDER BY seq`,
      [await this.idOf(domain), q.workers?.length ? q.workers : null, q.types?.length ? q.types : null],
    );
    return rows.map(doc);
  }

  async delete(domain: string, id: string): Promise<boolean> {
    const { rowCount } = await this.fenced('DELETE FROM hearth.triggers WHERE id = $1 AND instance_id = $2', [id, await this.idOf(domain)]);
    return (rowCount ?? 0) > 0;
  }

  async due(now: number, limit: number): Promise<Array<{ doc: TriggerDoc; nextRunAt: number }>> {
    const { rows } = await this.query<{ doc: TriggerDoc; next_run_at: string }>(
      'SELECT doc, next_run_at FROM hearth.triggers WHERE next_run_at <= $1 ORDER BY next_run_at LIMIT $2', [now, limit]);
    return rows.map((r) => ({ doc: r.doc, nextRunAt: Number(r.next_run_at) }));
  }

  async advance(id: string, from: number, to: number | null): Promise<boolean> {
    const { rowCount } = to === null
      ? await this.query('DELETE FROM hearth.triggers WHERE id = $1 AND next_run_at = $2', [id, from])
      : await this.query('UPDATE hearth.triggers SET next_run_at = $3 WHERE id = $1 AND next_run_at = $2', [id, from, to]);
    return (rowCount ?? 0) > 0;
  }

  async nextDue(): Promise<number | null> {
    const { rows } = await this.query<{ t: string | null }>('SELECT MIN(next_run_at) AS t FROM hearth.triggers WHERE next_run_at IS NOT NULL');
    return num(rows[0]?.t);
  }

  async ofType(type: string): Promise<TriggerDoc[]> {
    const { rows } = await this.query<{ doc: TriggerDoc }>('SELECT doc FROM hearth.triggers WHERE type = $1 ORDER BY seq', [type]);
    return rows.map(doc);
  }

  async updateState(id: string, change: (state: TriggerState) => TriggerState): Promise<void> {
    await ensureJobsSchema(this.pool);
    await inTransaction(this.pool, async (client: Queryable) => {
      const { rows } = await client.query<{ doc: TriggerDoc }>('SELECT doc FROM hearth.triggers WHERE id = $1 FOR UPDATE', [id]);
      if (!rows[0]) return;
      const state = change(rows[0].doc.current_state ?? { status: '' });
      await client.query(`UPDATE hearth.triggers SET doc = jsonb_set(doc, '{current_state}', $2::jsonb) WHERE id = $1`, [id, state]);
    });
  }

  async dropInstance(instanceId: string): Promise<void> {
    await this.query('DELETE FROM hearth.triggers WHERE instance_id = $1', [instanceId]);
  }

  async eventCursor(id: string): Promise<EventCursor | null> {
    const { rows } = await this.query<{ c: EventCursor | null }>('SELECT event_cursor AS c FROM hearth.triggers WHERE id = $1', [id]);
    return rows[0]?.c ?? null;
  }

  async moveEventCursor(id: string, from: EventCursor | null, to: EventCursor, durable = true): Promise<boolean> {
    const sql = 'UPDATE hearth.triggers SET event_cursor = $3 WHERE id = $1 AND event_cursor IS NOT DISTINCT FROM $2::jsonb';
    const { rowCount } = durable ? await this.query(sql, [id, from, to]) : await this.fenced(sql, [id, from, to], id);
    return (rowCount ?? 0) > 0;
  }
}
