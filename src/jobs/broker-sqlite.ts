/**
 * The embedded broker: jobs and triggers of every instance in `<dataDir>/jobs.sqlite`. WAL with
 * synchronous=NORMAL and every write acknowledged once the WAL is fsynced in the thread pool, never on the event
 * loop (data/sqlite/wal-sync.ts): a job is durable once `push` resolves and a finished job stays finished
 * across `kill -9`. Running jobs are leased as in every broker (broker.ts); the file belongs to one `hearth`
 * process at a time, so the first `recover` of a process also takes back every lease of another owner: its
 * process is dead, there is no need to wait for the lease to end.
 *
 * Jobs and triggers are keyed by the instance's id, never by its domain: a domain is free again once its instance
 * is destroyed, and a new instance of that domain must not inherit anything. The API still names instances by
 * domain (as cozy-stack's documents do); `idOf` resolves it to the id of the instance that has it now.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { NotFound } from '../common/errors.js';
import { currentFence } from '../common/locks.js';
import { checkFence } from '../data/sqlite/db.js';
import { checkpointOffThread, closeDurableWal, durableWal, type Checkpointer, type WalSync } from '../data/sqlite/wal-sync.js';
import { LeaseLost, type Broker, type EventCursor, type JobQuery, type NewJob, type TriggerChange, type TriggerQuery, type TriggerStore } from './broker.js';
import type { JobDoc, JobState, TriggerDoc, TriggerState } from './types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, domain TEXT NOT NULL, worker TEXT NOT NULL, state TEXT NOT NULL, trigger_id TEXT,
  priority INTEGER NOT NULL, run_at INTEGER NOT NULL, tries INTEGER NOT NULL, max_exec INTEGER NOT NULL,
  queued_at INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (worker, priority DESC, run_at) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_running ON jobs (state) WHERE state = 'running';
CREATE INDEX IF NOT EXISTS jobs_trigger ON jobs (trigger_id, queued_at) WHERE trigger_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS triggers (
  id TEXT PRIMARY KEY, domain TEXT NOT NULL, type TEXT NOT NULL, worker TEXT NOT NULL, next_run_at INTEGER, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS triggers_due ON triggers (next_run_at) WHERE next_run_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS triggers_type ON triggers (type);
CREATE TABLE IF NOT EXISTS fences (key TEXT PRIMARY KEY, token INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Columns added since the first version: the instance's id (rows of older files get it in `migrateInstanceIds`), the lease. */
const ADDED: Record<string, string[]> = { jobs: ['instance_id TEXT', 'owner TEXT', 'lease_until INTEGER'], triggers: ['instance_id TEXT', 'event_cursor TEXT'] };

/** Migration: the instance's id beside the domain. */
const BY_INSTANCE = `
DROP INDEX IF EXISTS jobs_domain;
DROP INDEX IF EXISTS triggers_domain;
CREATE INDEX IF NOT EXISTS jobs_instance ON jobs (instance_id, worker, queued_at);
CREATE INDEX IF NOT EXISTS triggers_instance ON triggers (instance_id, worker);
`;

/** The id of the instance that has this domain now, or null. */
export type InstanceIdOf = (domain: string) => Promise<string | null>;

interface JobRow { id: string; state: JobState; tries: number; max_exec: number; doc: string; instance_id: string | null; owner: string | null }

const iso = (ms: number) => new Date(ms).toISOString();
export const newId = () => randomUUID().replaceAll('-', '');

function rowToJob(row: JobRow): JobDoc {
  return { ...(JSON.parse(row.doc) as JobDoc), state: row.state, tries: row.tries };
}

/** `checkpoints`: the thread that checkpoints the WAL, instead of SQLite's automatic checkpoint on the event loop (wal-sync.ts). */
export function openJobsDb(file: string, checkpoints?: Checkpointer): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  durableWal(db);
  if (checkpoints) checkpointOffThread(db, checkpoints);
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  for (const [table, added] of Object.entries(ADDED)) {
    const cols = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[];
    for (const col of added) if (!cols.includes(col.split(' ')[0]!)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${col}`);
  }
  db.exec(BY_INSTANCE);
  return db;
}

/**
 * Gives the rows of a file written before jobs were keyed by instance their instance's id, from their domain;
 * the rows of a domain that no instance has any more (its instance was destroyed) are deleted, not inherited.
 * Returns how many rows were deleted.
 */
export async function migrateInstanceIds(db: Database.Database, idOf: InstanceIdOf): Promise<number> {
  let deleted = 0;
  for (const table of ['jobs', 'triggers']) {
    const domains = db.prepare(`SELECT DISTINCT domain FROM ${table} WHERE instance_id IS NULL`).pluck().all() as string[];
    for (const domain of domains) {
      const id = await idOf(domain);
      if (id) db.prepare(`UPDATE ${table} SET instance_id = ?, doc = json_set(doc, '$.instance_id', ?) WHERE domain = ? AND instance_id IS NULL`).run(id, id, domain);
      else deleted += db.prepare(`DELETE FROM ${table} WHERE domain = ? AND instance_id IS NULL`).run(domain).changes;
    }
  }
  return deleted;
}

/** The id of the instance that has `domain` now, or a NotFound. */
async function instanceId(idOf: InstanceIdOf, domain: string): Promise<string> {
  const id = await idOf(domain);
  if (!id) throw new NotFound(`no instance ${domain.slice(0, 255)}`);
  return id;
}

/** `value`, once the writes committed so far are on disk. */
async function once<T>(wal: WalSync, value: T): Promise<T> {
  await wal.sync();
  return value;
}

const COLS = 'id, state, tries, max_exec, doc, instance_id, owner';

export class SqliteBroker implements Broker {
  private readonly st;
  private readonly wal: WalSync;
  private recovered = false;

  constructor(private readonly db: Database.Database, private readonly idOf: InstanceIdOf, readonly owner: string = newId()) {
    this.wal = durableWal(db);
    this.st = {
      // a job of a given id (pushOnce) that exists already is left as it is
      insert: db.prepare(`INSERT INTO jobs (id, domain, instance_id, worker, state, trigger_id, priority, run_at, tries, max_exec, queued_at, doc)
        VALUES (@id, @domain, @instance_id, @worker, @state, @trigger_id, @priority, @run_at, 0, @max_exec, @queued_at, @doc) ON CONFLICT (id) DO NOTHING`),
      claim: db.prepare(`UPDATE jobs SET state = 'running', tries = tries + 1, doc = json_set(doc, '$.started_at', ?), owner = ?, lease_until = ?
        WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND worker = ? AND run_at <= ? ORDER BY priority DESC, run_at LIMIT 1)
        RETURNING ${COLS}`),
      renew: db.prepare(`UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'running' AND owner = ? RETURNING id`).pluck(),
      byId: db.prepare(`SELECT ${COLS} FROM jobs WHERE id = ?`),
      // a job that leaves the running state leaves its lease
      save: db.prepare(`UPDATE jobs SET state = ?, run_at = ?, tries = ?, doc = ?, owner = NULL, lease_until = NULL WHERE id = ?`),
      nextDue: db.prepare(`SELECT MIN(run_at) AS t FROM jobs WHERE state = 'queued' AND worker = ?`),
      // a client's job (@client) has no lease: its end is the client's report
      expired: db.prepare(`SELECT ${COLS} FROM jobs WHERE state = 'running' AND worker != 'client'
        AND (lease_until IS NULL OR lease_until < @now OR (@first AND owner IS NOT @owner))`),
      pending: db.prepare(`SELECT 1 FROM jobs WHERE trigger_id = ? AND state = 'queued' AND tries = 0 LIMIT 1`),
    };
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
    const doc: JobDoc = {
      _id: id, domain: job.domain, instance_id: instance, worker: job.worker, message: job.message ?? null, options: job.options,
      state: job.state ?? 'queued', queued_at: iso(now),
      ...(job.state === 'running' ? { started_at: iso(now) } : {}),
      ...(job.trigger_id ? { trigger_id: job.trigger_id } : {}),
      ...(job.manual ? { manual_execution: true } : {}),
      ...(job.event ? { event: job.event } : {}),
      ...(job.payload !== undefined ? { payload: job.payload } : {}),
      ...(job.rights ? { rights: job.rights } : {}),
    };
    const pushed = { ...doc, tries: 0 };
    const change = job.trigger_id ? trigger?.(pushed) : undefined;
    const added = this.db.transaction(() => {
      const { changes } = this.st.insert.run({
        id: doc._id, domain: doc.domain, instance_id: instance, worker: doc.worker, state: doc.state, trigger_id: job.trigger_id ?? null,
        priority: job.priority ?? 0, run_at: job.runAt, max_exec: job.options.max_exec_count, queued_at: now, doc: JSON.stringify(doc),
      });
      if (changes && change) changeTriggerState(this.db, job.trigger_id!, (s) => ({ ...s, ...change }));
      return changes > 0;
    })();
    return added ? once(this.wal, pushed) : null;
  }

  async claim(worker: string, now: number, leaseUntil: number): Promise<JobDoc | null> {
    const row = this.st.claim.get(iso(now), this.owner, leaseUntil, worker, now) as JobRow | undefined;
    // not waited for: a claim lost in a crash leaves the job queued, which is what recover() makes of a running one
    return row ? rowToJob(row) : null;
  }

  async renew(ids: string[], leaseUntil: number): Promise<string[]> {
    return this.db.transaction(() => ids.flatMap((id) => this.st.renew.all(leaseUntil, id, this.owner) as string[]))();
  }

  private load(id: string): JobRow {
    const row = this.st.byId.get(id) as JobRow | undefined;
    if (!row) throw new NotFound(`no job ${id}`);
    return row;
  }

  /** The job, if this process holds its lease. */
  private leased(id: string): JobRow {
    const row = this.load(id);
    if (row.state !== 'running' || row.owner !== this.owner) throw new LeaseLost(id, row.state);
    return row;
  }

  private store(row: JobRow, doc: JobDoc, runAt: number): JobDoc {
    const { state, tries, ...rest } = doc;
    this.st.save.run(state, runAt, tries ?? row.tries, JSON.stringify(rest), row.id);
    return doc;
  }

  private stored(row: JobRow, doc: JobDoc, runAt: number): Promise<JobDoc> {
    return once(this.wal, this.store(row, doc, runAt));
  }

  /** Ends a run this process holds, and changes its trigger's state in the same transaction. */
  private async end(id: string, trigger: TriggerChange | undefined, next: (row: JobRow) => [JobDoc, number]): Promise<JobDoc> {
    return once(this.wal, this.db.transaction(() => {
      const row = this.leased(id);
      const [doc, runAt] = next(row);
      if (trigger && doc.trigger_id) changeTriggerState(this.db, doc.trigger_id, (s) => ({ ...s, ...trigger }));
      return this.store(row, doc, runAt);
    })());
  }

  complete(id: string, now: number, trigger?: TriggerChange): Promise<JobDoc> {
    return this.end(id, trigger, (row) => {
      const doc = rowToJob(row);
      delete doc.error;
      return [{ ...doc, state: 'done', finished_at: iso(now) }, now];
    });
  }

  fail(id: string, error: string, retryAt: number | null, now: number, countTry = true, trigger?: TriggerChange): Promise<JobDoc> {
    return this.end(id, trigger, (row) => {
      const doc = { ...rowToJob(row), error };
      if (!countTry) doc.tries = Math.max(0, row.tries - 1);
      if (retryAt === null) return [{ ...doc, state: 'errored', finished_at: iso(now) }, now];
      return [{ ...doc, state: 'queued' }, retryAt];
    });
  }

  async get(domain: string, id: string): Promise<JobDoc | null> {
    const row = this.st.byId.get(id) as JobRow | undefined;
    if (!row || row.instance_id === null || row.instance_id !== (await this.idOf(domain))) return null;
    return rowToJob(row);
  }

  async list(domain: string, q: JobQuery): Promise<JobDoc[]> {
    const where = ['instance_id = ?'];
    const args: unknown[] = [await this.idOf(domain)];
    if (q.worker) {
      where.push('worker = ?');
      args.push(q.worker);
    }
    if (q.triggerId) {
      where.push('trigger_id = ?');
      args.push(q.triggerId);
    }
    if (q.states?.length) {
      where.push(`state IN (${q.states.map(() => '?').join(',')})`);
      args.push(...q.states);
    }
    const sql = `SELECT ${COLS} FROM jobs WHERE ${where.join(' AND ')} ORDER BY queued_at DESC, rowid DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as JobRow[]).map(rowToJob);
  }

  async report(domain: string, id: string, state: 'done' | 'errored', error: string | undefined, now: number): Promise<JobDoc> {
    const row = this.load(id);
    const doc = rowToJob(row);
    if (row.instance_id === null || row.instance_id !== (await this.idOf(domain))) throw new NotFound(`no job ${id}`);
    const next: JobDoc = { ...doc, state, finished_at: iso(now) };
    if (state === 'errored') next.error = error ?? 'errored';
    else delete next.error;
    return this.stored(row, next, now);
  }

  async nextDue(worker: string): Promise<number | null> {
    return (this.st.nextDue.get(worker) as { t: number | null }).t;
  }

  async recover(now: number, leaseNow: number): Promise<JobDoc[]> {
    const first = !this.recovered;
    this.recovered = true;
    return once(this.wal, this.db.transaction(() =>
      (this.st.expired.all({ now: leaseNow, first: first ? 1 : 0, owner: this.owner }) as JobRow[])
        .map((row) => {
          const doc = { ...rowToJob(row), error: 'the server stopped during the run' };
          if (row.tries < row.max_exec) return this.store(row, { ...doc, state: 'queued' }, now);
          return this.store(row, { ...doc, state: 'errored', finished_at: iso(now) }, now);
        }),
    )());
  }

  async watch(): Promise<void> {
    // one process has the file: every job is pushed here, and the engine is told directly
  }

  async pendingFor(triggerId: string): Promise<boolean> {
    return this.st.pending.get(triggerId) !== undefined;
  }

  async purge(domain: string, before: number, workers: string[] | null): Promise<number> {
    const byWorker = workers?.length ? ` AND worker IN (${workers.map(() => '?').join(',')})` : '';
    const sql = `DELETE FROM jobs WHERE instance_id = ? AND state IN ('done', 'errored') AND queued_at < ?${byWorker}`;
    return once(this.wal, this.db.prepare(sql).run(await this.idOf(domain), before, ...(workers ?? [])).changes);
  }

  async dropInstance(instanceId: string): Promise<void> {
    this.db.prepare('DELETE FROM jobs WHERE instance_id = ?').run(instanceId);
    await this.wal.sync();
  }

  async close(): Promise<void> {
    await closeDurableWal(this.db);
  }
}

/** Changes a trigger's current_state in place (no-op if it was deleted); inside the caller's transaction. */
function changeTriggerState(db: Database.Database, id: string, change: (state: TriggerState) => TriggerState): void {
  const row = db.prepare('SELECT doc FROM triggers WHERE id = ?').get(id) as { doc: string } | undefined;
  if (!row) return;
  const doc = JSON.parse(row.doc) as TriggerDoc;
  doc.current_state = change(doc.current_state ?? { status: '' });
  db.prepare('UPDATE triggers SET doc = ? WHERE id = ?').run(JSON.stringify(doc), id);
}

export class SqliteTriggerStore implements TriggerStore {
  private readonly wal: WalSync;

  constructor(private readonly db: Database.Database, private readonly idOf: InstanceIdOf) {
    this.wal = durableWal(db);
  }

  /** A write of a trigger, refused (StaleLock) in its transaction when made under a lock whose fence moved on (common/locks.ts). */
  private fenced<T>(fn: () => T): T {
    const fence = currentFence();
    return fence ? this.db.transaction(() => {
      checkFence(this.db, fence);
      return fn();
    }).immediate() : fn();
  }

  async put(doc: TriggerDoc, nextRunAt: number | null, durable = true): Promise<void> {
    const instance = doc.instance_id ?? (await instanceId(this.idOf, doc.domain));
    this.fenced(() => this.db.prepare(`INSERT OR REPLACE INTO triggers (id, domain, instance_id, type, worker, next_run_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(doc._id, doc.domain, instance, doc.type, doc.worker, nextRunAt, JSON.stringify({ ...doc, instance_id: instance })));
    if (durable) await this.wal.sync();
  }

  sync(): Promise<void> {
    return this.wal.sync();
  }

  async get(domain: string, id: string): Promise<TriggerDoc | null> {
    const doc = await this.find(id);
    return doc && doc.instance_id !== undefined && doc.instance_id === (await this.idOf(domain)) ? doc : null;
  }

  async find(id: string): Promise<TriggerDoc | null> {
    const row = this.db.prepare('SELECT doc FROM triggers WHERE id = ?').get(id) as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as TriggerDoc) : null;
  }

  async list(domain: string, q: TriggerQuery): Promise<TriggerDoc[]> {
    const where = ['instance_id = ?'];
    const args: unknown[] = [await this.idOf(domain)];
    if (q.workers?.length) {
      where.push(`worker IN (${q.workers.map(() => '?').join(',')})`);
      args.push(...q.workers);
    }
    if (q.types?.length) {
      where.push(`type IN (${q.types.map(() => '?').join(',')})`);
      args.push(...q.types);
    }
    const rows = this.db.prepare(`SELECT doc FROM triggers WHERE ${where.join(' AND ')} ORDER BY rowid`).all(...args) as Array<{ doc: string }>;
    return rows.map((r) => JSON.parse(r.doc) as TriggerDoc);
  }

  async delete(domain: string, id: string): Promise<boolean> {
    const instance = await this.idOf(domain);
    return once(this.wal, this.fenced(() => this.db.prepare('DELETE FROM triggers WHERE id = ? AND instance_id = ?').run(id, instance)).changes > 0);
  }

  async due(now: number, limit: number): Promise<Array<{ doc: TriggerDoc; nextRunAt: number }>> {
    const rows = this.db.prepare('SELECT doc, next_run_at FROM triggers WHERE next_run_at <= ? ORDER BY next_run_at LIMIT ?').all(now, limit) as Array<{ doc: string; next_run_at: number }>;
    return rows.map((r) => ({ doc: JSON.parse(r.doc) as TriggerDoc, nextRunAt: r.next_run_at }));
  }

  async advance(id: string, from: number, to: number | null): Promise<boolean> {
    const taken = to === null
      ? this.db.prepare('DELETE FROM triggers WHERE id = ? AND next_run_at = ?').run(id, from)
      : this.db.prepare('UPDATE triggers SET next_run_at = ? WHERE id = ? AND next_run_at = ?').run(to, id, from);
    return once(this.wal, taken.changes > 0);
  }

  async nextDue(): Promise<number | null> {
    return (this.db.prepare('SELECT MIN(next_run_at) AS t FROM triggers WHERE next_run_at IS NOT NULL').get() as { t: number | null }).t;
  }

  async ofType(type: string): Promise<TriggerDoc[]> {
    return (this.db.prepare('SELECT doc FROM triggers WHERE type = ?').all(type) as Array<{ doc: string }>).map((r) => JSON.parse(r.doc) as TriggerDoc);
  }

  async updateState(id: string, change: (state: TriggerState) => TriggerState): Promise<void> {
    this.db.transaction(() => changeTriggerState(this.db, id, change))();
    await this.wal.sync();
  }

  async dropInstance(instanceId: string): Promise<void> {
    this.db.prepare('DELETE FROM triggers WHERE instance_id = ?').run(instanceId);
    await this.wal.sync();
  }

  async eventCursor(id: string): Promise<EventCursor | null> {
    const text = this.db.prepare('SELECT event_cursor FROM triggers WHERE id = ?').pluck().get(id) as string | null | undefined;
    return text ? (JSON.parse(text) as EventCursor) : null;
  }

  async moveEventCursor(id: string, from: EventCursor | null, to: EventCursor, durable = true): Promise<boolean> {
    const moved = this.db.prepare('UPDATE triggers SET event_cursor = ? WHERE id = ? AND event_cursor IS ?').run(JSON.stringify(to), id, from && JSON.stringify(from));
    return durable ? once(this.wal, moved.changes > 0) : moved.changes > 0;
  }
}
