/**
 * The scale-out broker: jobs and triggers of every instance in the schema `hearth` of the PostgreSQL database that the
 * process's one pool reaches (docs.engine postgres), shared by every `hearth` process of the cluster. Jobs are the kind
 * of state a queue must not lose, so they live in the database whose every write is acknowledged after COMMIT
 * (synchronous_commit on), not in a cache.
 *
 * - `claim` takes the next due job with `FOR UPDATE SKIP LOCKED`: each job goes to exactly one process, and processes
 *   claiming at the same time never wait on each other; the job is leased to this process (`owner`, `lease_until`).
 *   The claim's commit does not wait for its flush (ASYNC_COMMIT says why that loses nothing).
 * - `complete` and `fail` change the job only while this process holds its lease (one statement, no window): a late
 *   end of a run whose job was given to another process is a LeaseLost.
 * - `recover` re-queues the running jobs whose lease ended, never those a live process renews.
 * - A queued job is announced with `NOTIFY hearth_jobs, '<worker>'` (sent at COMMIT): every process LISTENs on a
 *   connection of its own (`watch`) and an idle worker of any of them claims it at once.
 * - `advance` (triggers-pg.ts) is the compare-and-set of a time trigger's next run: one process fires each slot.
 *
 * Rows are keyed by the instance's id, as in the embedded broker (broker-sqlite.ts), never by a domain.
 */
import type pg from 'pg';
import { requirePg } from '../common/lazy-libs.js';
import { NotFound } from '../common/errors.js';
import { applyDdl } from '../engines/pg-schema.js';
import type { PgPool } from '../engines/postgres.js';
import { LeaseLost, type Broker, type JobQuery, type NewJob, type TriggerChange } from './broker.js';
import { newId, type InstanceIdOf } from './broker-sqlite.js';
import type { JobDoc, JobState } from './types.js';

const SCHEMA = `
CREATE SCHEMA IF NOT EXISTS hearth;
CREATE TABLE IF NOT EXISTS hearth.jobs (
  id text PRIMARY KEY, seq bigserial, domain text NOT NULL, instance_id text NOT NULL, worker text NOT NULL, state text NOT NULL,
  trigger_id text, priority integer NOT NULL, run_at bigint NOT NULL, tries integer NOT NULL, max_exec integer NOT NULL,
  queued_at bigint NOT NULL, owner text, lease_until bigint, doc jsonb NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_queue ON hearth.jobs (worker, priority DESC, run_at, seq) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_leases ON hearth.jobs (lease_until) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_trigger ON hearth.jobs (trigger_id, queued_at) WHERE trigger_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_instance ON hearth.jobs (instance_id, worker, queued_at);
CREATE INDEX IF NOT EXISTS jobs_finished ON hearth.jobs (queued_at) WHERE state IN ('done', 'errored');
CREATE TABLE IF NOT EXISTS hearth.triggers (
  id text PRIMARY KEY, seq bigserial, domain text NOT NULL, instance_id text NOT NULL, type text NOT NULL, worker text NOT NULL,
  next_run_at bigint, doc jsonb NOT NULL);
CREATE INDEX IF NOT EXISTS triggers_due ON hearth.triggers (next_run_at) WHERE next_run_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS triggers_type ON hearth.triggers (type);
CREATE INDEX IF NOT EXISTS triggers_instance ON hearth.triggers (instance_id, worker);
ALTER TABLE hearth.triggers ADD COLUMN IF NOT EXISTS event_cursor jsonb;
CREATE TABLE IF NOT EXISTS hearth.fences (key text PRIMARY KEY, token bigint NOT NULL);
`;

/** The channel of the wake-ups; its payload is `<owner>:<worker>`, the process that queued the job and its worker. */
const CHANNEL = 'hearth_jobs';

const schemas = new WeakMap<PgPool, Promise<void>>();

/**
 * A condition that is always true and makes the statement's own transaction commit without waiting for its WAL flush
 * (`synchronous_commit` off for this transaction only; the session keeps it on). Used by `claim` alone: a claim lost in a
 * crash of PostgreSQL puts the job back in the queue, which is what a process killed during a run does too (the job runs
 * again); if the claiming process is still alive, its next lease renewal finds the job no longer its own and aborts the
 * run. Every other write (queue, complete, fail) stays flushed before it is acknowledged, and the first flushed commit
 * after a claim (any document write of the run, or its completion) carries the claim to disk with it. One flush less per
 * job: queue and complete are the two left.
 */
export const ASYNC_COMMIT = `set_config('synchronous_commit', 'off', true) IS NOT NULL`;

/** Merges the change $N into a trigger's current_state (a statement of a WITH). */
const CHANGE_TRIGGER = `UPDATE hearth.triggers SET doc = jsonb_set(doc, '{current_state}', COALESCE(doc->'current_state', '{"status":""}') || $N::jsonb)`;

/** Creates the schema once per pool (tried again after a failure), whatever the number of processes starting at the same time. */
export function ensureJobsSchema(pool: PgPool): Promise<void> {
  let ready = schemas.get(pool);
  if (!ready) {
    ready = applyDdl(pool, SCHEMA);
    schemas.set(pool, ready);
    ready.catch(() => schemas.delete(pool));
  }
  return ready;
}

/** Queries of the jobs' tables, once their schema exists. */
export class PgTables {
  constructor(protected readonly pool: PgPool) {}

  protected async query<R extends pg.QueryResultRow>(sql: string, args: unknown[] = []): Promise<pg.QueryResult<R>> {
    await ensureJobsSchema(this.pool);
    return this.pool.query<R>(sql, args);
  }
}

interface JobRow { id: string; state: JobState; tries: number; doc: Omit<JobDoc, 'state' | 'tries'>; instance_id: string; owner: string | null }
const COLS = 'id, state, tries, doc, instance_id, owner';
const iso = (ms: number) => new Date(ms).toISOString();
const toJob = (row: JobRow): JobDoc => ({ ...row.doc, state: row.state, tries: row.tries });
export const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export async function instanceId(idOf: InstanceIdOf, domain: string): Promise<string> {
  const id = await idOf(domain);
  if (!id) throw new NotFound(`no instance ${domain.slice(0, 255)}`);
  return id;
}

export class PgBroker extends PgTables implements Broker {
  private listener: pg.Client | null = null;
  private closed = false;

  constructor(pool: PgPool, private readonly idOf: InstanceIdOf, readonly owner: string = newId()) {
    super(pool);
  }

  /** The prefix of this process's notifications (`<owner>:<worker>`). */
  private get from(): string {
    return `${this.owner}:`;
  }

  push(job: NewJob, now: number, trigger?: (job: JobDoc) => TriggerChange | undefined): Promise<JobDoc> {
    // a new id: always queued, never null
    return this.insert(newId(), job, now, trigger) as Promise<JobDoc>;
  }

  pushOnce(job: NewJob & { id: string }, now: number, trigger?: (job: JobDoc) => TriggerChange | undefined): Promise<JobDoc | null> {
    return this.insert(job.id, job, now, trigger);
  }

  private async insert(id: string, job: NewJob, now: number, trigger?: (job: JobDoc) => TriggerChange | undefined): Promise<JobDoc | null> {
    const instance = job.instanceId ?? (await instanceId(this.idOf, job.domain));
    const state = job.state ?? 'queued';
    const doc: Omit<JobDoc, 'state' | 'tries'> = {
      _id: id, domain: job.domain, instance_id: instance, worker: job.worker, message: job.message ?? null, options: job.options,
      queued_at: iso(now),
      ...(state === 'running' ? { started_at: iso(now) } : {}),
      ...(job.trigger_id ? { trigger_id: job.trigger_id } : {}),
      ...(job.manual ? { manual_execution: true } : {}),
      ...(job.event ? { event: job.event } : {}),
      ...(job.payload !== undefined ? { payload: job.payload } : {}),
      ...(job.rights ? { rights: job.rights } : {}),
    };
    const pushed: JobDoc = { ...doc, state, tries: 0 };
    const change = job.trigger_id ? trigger?.(pushed) : undefined;
    // one statement, one commit: the job, its trigger's state, and the notification, which leaves at the COMMIT (no
    // process is woken for a job it cannot see yet)
    // (a job of this id that exists already, from pushOnce, is left as it is, and its trigger too)
    const { rows } = await this.query<{ state: string }>(
      `WITH added AS (INSERT INTO hearth.jobs (id, domain, instance_id, worker, state, trigger_id, priority, run_at, tries, max_exec, queued_at, doc)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11) ON CONFLICT (id) DO NOTHING RETURNING worker, state),
       changed AS (${CHANGE_TRIGGER.replace('$N', '$13')} WHERE $13::jsonb IS NOT NULL AND id = $6 AND EXISTS (SELECT 1 FROM added))
       SELECT state, CASE WHEN state = 'queued' THEN pg_notify('${CHANNEL}', $12 || worker) END FROM added`,
      [doc._id, doc.domain, instance, doc.worker, state, job.trigger_id ?? null, job.priority ?? 0, job.runAt, job.options.max_exec_count, now, doc, this.from, change ?? null],
    );
    return rows.length ? pushed : null;
  }

  async claim(worker: string, now: number, leaseUntil: number): Promise<JobDoc | null> {
    const { rows } = await this.query<JobRow>(
      `UPDATE hearth.jobs SET state = 'running', tries = tries + 1, owner = $1, lease_until = $2,
         doc = doc || jsonb_build_object('started_at', $3::text)
       WHERE state = 'queued' AND id = (SELECT id FROM hearth.jobs WHERE state = 'queued' AND worker = $4 AND run_at <= $5
         ORDER BY priority DESC, run_at, seq LIMIT 1 FOR UPDATE SKIP LOCKED)
         AND ${ASYNC_COMMIT}
       RETURNING ${COLS}`,
      [this.owner, leaseUntil, iso(now), worker, now],
    );
    return rows[0] ? toJob(rows[0]) : null;
  }

  async renew(ids: string[], leaseUntil: number): Promise<string[]> {
    if (!ids.length) return [];
    const { rows } = await this.query<{ id: string }>(
      `UPDATE hearth.jobs SET lease_until = $1 WHERE id = ANY($2) AND state = 'running' AND owner = $3 RETURNING id`,
      [leaseUntil, ids, this.owner],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Applies an end to a job this process holds, with the change of its trigger's state in the same statement (one
   * commit), or explains why it cannot (no job, or its lease was taken over).
   */
  private async ended(id: string, trigger: TriggerChange | undefined, sql: string, args: unknown[]): Promise<JobDoc> {
    const { rows } = await this.query<JobRow>(
      `WITH ended AS (${sql} WHERE id = $1 AND state = 'running' AND owner = $2 RETURNING ${COLS}, trigger_id),
       changed AS (${CHANGE_TRIGGER.replace('$N', '$3')} WHERE $3::jsonb IS NOT NULL AND id = (SELECT trigger_id FROM ended))
       SELECT ${COLS} FROM ended`,
      [id, this.owner, trigger ?? null, ...args],
    );
    if (rows[0]) return toJob(rows[0]);
    const { rows: now } = await this.query<{ state: JobState }>('SELECT state FROM hearth.jobs WHERE id = $1', [id]);
    if (!now[0]) throw new NotFound(`no job ${id}`);
    throw new LeaseLost(id, now[0].state);
  }

  complete(id: string, now: number, trigger?: TriggerChange): Promise<JobDoc> {
    return this.ended(id, trigger, `UPDATE hearth.jobs SET state = 'done', run_at = $4, owner = NULL, lease_until = NULL,
      doc = (doc - 'error') || jsonb_build_object('finished_at', $5::text)`, [now, iso(now)]);
  }

  async fail(id: string, error: string, retryAt: number | null, now: number, countTry = true, trigger?: TriggerChange): Promise<JobDoc> {
    const end = retryAt === null ? { state: 'errored', extra: { finished_at: iso(now) } } : { state: 'queued', extra: {} };
    const doc = await this.ended(id, trigger, `UPDATE hearth.jobs SET state = $4, run_at = $5, tries = GREATEST(0, tries - $6::integer),
      owner = NULL, lease_until = NULL, doc = doc || jsonb_build_object('error', $7::text) || $8::jsonb`,
    [end.state, retryAt ?? now, countTry ? 0 : 1, error, end.extra]);
    if (doc.state === 'queued') await this.notify([doc.worker]);
    return doc;
  }

  private async notify(workers: string[]): Promise<void> {
    for (const worker of new Set(workers)) await this.query(`SELECT pg_notify('${CHANNEL}', $1)`, [this.from + worker]);
  }

  async get(domain: string, id: string): Promise<JobDoc | null> {
    const { rows } = await this.query<JobRow>(`SELECT ${COLS} FROM hearth.jobs WHERE id = $1`, [id]);
    const row = rows[0];
    if (!row || row.instance_id !== (await this.idOf(domain))) return null;
    return toJob(row);
  }

  async list(domain: string, q: JobQuery): Promise<JobDoc[]> {
    const args: unknown[] = [await this.idOf(domain)];
    const where = ['instance_id = $1'];
    const add = (sql: string, value: unknown) => {
      args.push(value);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (q.worker) add('worker = ?', q.worker);
    if (q.triggerId) add('trigger_id = ?', q.triggerId);
    if (q.states?.length) add('state = ANY(?)', q.states);
    args.push(q.limit);
    const { rows } = await this.query<JobRow>(
      `SELECT ${COLS} FROM hearth.jobs WHERE ${where.join(' AND ')} ORDER BY queued_at DESC, seq DESC LIMIT $${args.length}`, args);
    return rows.map(toJob);
  }

  async report(domain: string, id: string, state: 'done' | 'errored', error: string | undefined, now: number): Promise<JobDoc> {
    const extra = { finished_at: iso(now), ...(state === 'errored' ? { error: error ?? 'errored' } : {}) };
    const { rows } = await this.query<JobRow>(
      `UPDATE hearth.jobs SET state = $3, run_at = $4, owner = NULL, lease_until = NULL, doc = (doc - 'error') || $5::jsonb
       WHERE id = $1 AND instance_id = $2 RETURNING ${COLS}`,
      [id, await this.idOf(domain), state, now, extra],
    );
    if (!rows[0]) throw new NotFound(`no job ${id}`);
    return toJob(rows[0]);
  }

  async nextDue(worker: string): Promise<number | null> {
    const { rows } = await this.query<{ t: string | null }>(`SELECT MIN(run_at) AS t FROM hearth.jobs WHERE state = 'queued' AND worker = $1`, [worker]);
    return num(rows[0]?.t);
  }

  async recover(now: number, leaseNow: number): Promise<JobDoc[]> {
    // two processes recovering at once: SKIP LOCKED gives each expired job to one of them
    const { rows } = await this.query<JobRow>(
      `UPDATE hearth.jobs SET state = CASE WHEN tries < max_exec THEN 'queued' ELSE 'errored' END, run_at = $1, owner = NULL, lease_until = NULL,
         doc = doc || jsonb_build_object('error', 'the server stopped during the run')
           || CASE WHEN tries < max_exec THEN '{}'::jsonb ELSE jsonb_build_object('finished_at', $2::text) END
       WHERE state = 'running' AND id IN (SELECT id FROM hearth.jobs WHERE state = 'running' AND worker <> 'client' AND lease_until < $3
         FOR UPDATE SKIP LOCKED)
       RETURNING ${COLS}`,
      [now, iso(now), leaseNow],
    );
    const jobs = rows.map(toJob);
    await this.notify(jobs.filter((j) => j.state === 'queued').map((j) => j.worker));
    return jobs;
  }

  async watch(wake: (worker: string) => void): Promise<void> {
    const connect = async (): Promise<void> => {
      if (this.closed) return;
      const client = new (requirePg().Client)(this.pool.options);
      const again = () => {
        client.removeAllListeners();
        client.on('error', () => undefined);
        void client.end().catch(() => undefined);
        if (this.listener !== client || this.closed) return;
        this.listener = null;
        // the server went away: listen again once it is back (meanwhile the pools poll at their next due time)
        setTimeout(() => void connect().catch(() => undefined), 1000).unref();
        wake('*');
      };
      client.on('notification', (msg) => {
        // this process's own jobs: its engine pumps when it pushes them (a wake-up here could outrun the push's answer)
        const payload = msg.payload ?? '';
        if (!payload.startsWith(this.from)) wake(payload.slice(payload.indexOf(':') + 1));
      });
      client.on('error', again);
      client.on('end', again);
      this.listener = client;
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANNEL}`);
      } catch (err) {
        again();
        throw err;
      }
    };
    await connect();
  }

  async pendingFor(triggerId: string): Promise<boolean> {
    const { rows } = await this.query(`SELECT 1 FROM hearth.jobs WHERE trigger_id = $1 AND state = 'queued' AND tries = 0 LIMIT 1`, [triggerId]);
    return rows.length > 0;
  }

  async purge(domain: string, before: number, workers: string[] | null): Promise<number> {
    const { rowCount } = await this.query(
      `DELETE FROM hearth.jobs WHERE instance_id = $1 AND state IN ('done', 'errored') AND queued_at < $2 AND ($3::text[] IS NULL OR worker = ANY($3))`,
      [await this.idOf(domain), before, workers?.length ? workers : null],
    );
    return rowCount ?? 0;
  }

  /** Deletes at most `limit` finished jobs of any instance queued before `before` (the housekeeping's purge); returns how many. */
  async purgeFinished(before: number, limit: number): Promise<number> {
    const { rowCount } = await this.query(
      `DELETE FROM hearth.jobs WHERE id IN (SELECT id FROM hearth.jobs WHERE state IN ('done', 'errored') AND queued_at < $1 LIMIT $2)`, [before, limit]);
    return rowCount ?? 0;
  }

  async dropInstance(instanceId: string): Promise<void> {
    await this.query('DELETE FROM hearth.jobs WHERE instance_id = $1', [instanceId]);
  }

  /** Stops listening; the pool belongs to the composition root, which ends it. */
  async close(): Promise<void> {
    this.closed = true;
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => undefined);
  }
}
