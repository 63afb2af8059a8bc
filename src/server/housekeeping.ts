/**
 * The stack's own periodic work, for a farm: `clean-clients` (OAuth clients left pending an hour),
 * `clean-old-trashed` (the trash empties itself after `files.trashRetentionDays`) and the purge of
 * finished jobs older than 30 days.
 *
 * Only the instances that have something to clean get a job. Which ones is kept in a small table of
 * jobs.sqlite, `housekeeping` (instance, worker, when it is due), filled from the event bus: a pending
 * OAuth client is due an hour after its creation, an item put in the trash `trashRetentionDays` after
 * it went there. Due times are rounded up to the hour, so a burst of events makes one row. No
 * instance database is opened to find the work. When the table is first created, every instance
 * already registered gets both jobs once, spread over the hour after the next (`seed`), since what
 * it held before the table existed is unknown.
 *
 * Every `tickMs` a round takes at most `batch` due rows and queues their jobs one at a time, yielding
 * to the event loop between each (a push is one fsynced SQLite commit), so no round blocks requests
 * for more than one commit, and memory stays that of one batch. The jobs themselves run under their
 * workers' concurrency, and their stores come from the bounded pool (data/sqlite/factory.ts).
 */
import type Database from 'better-sqlite3';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { DocEvent, EventBus, Unsubscribe } from '../common/bus.js';
import type { Instance, InstanceRegistry } from '../instances/types.js';
import type { JobEngine } from '../jobs/engine.js';
import { CLIENTS_DOCTYPE } from '../oauth/clients.js';
import { TRASH_DIR_ID } from '../files/types.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FINISHED_KEPT_MS = 30 * DAY;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS housekeeping (
  instance_id TEXT NOT NULL, domain TEXT NOT NULL, worker TEXT NOT NULL, due_at INTEGER NOT NULL,
  PRIMARY KEY (instance_id, worker, due_at)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS housekeeping_due ON housekeeping (due_at);
CREATE TABLE IF NOT EXISTS housekeeping_seed (after TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (queued_at) WHERE state IN ('done', 'errored');
`;

export interface HousekeepingDeps {
  /** jobs.sqlite (its `jobs` table is purged here, its `housekeeping` table is this module's). */
  db: Database.Database;
  engine: Pick<JobEngine, 'push' | 'worker'>;
  registry: Pick<InstanceRegistry, 'get' | 'page'>;
  bus: EventBus;
  logger: Logger;
  /** 0: the trash is never emptied (no row is kept for it). */
  trashRetentionDays: number;
  now?: () => number;
  /** Deletes at most `limit` finished jobs queued before `before`, where the broker keeps them (default: jobs.sqlite's). */
  purge?: (before: number, limit: number) => Promise<number>;
  /** How often a round runs (default 10 s) and how many due rows it takes at most (default 100). */
  tickMs?: number;
  batch?: number;
}

const MARKS_PER_COMMIT = 1000;

interface DueRow { instance_id: string; domain: string; worker: string }

export class Housekeeping {
  private readonly now: () => number;
  private readonly st;
  private readonly hooks: Unsubscribe[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private lastPurge = 0;
  /** Rows written lately (a burst of events on one instance writes once); bounded. */
  private readonly recent = new Set<string>();
  /** Marks waiting for their commit (`flush`). */
  private readonly pending: Array<[string, string, string, number]> = [];
  private flushing: NodeJS.Immediate | null = null;

  constructor(private readonly deps: HousekeepingDeps) {
    this.now = deps.now ?? Date.now;
    const fresh = deps.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'housekeeping'").get() === undefined;
    deps.db.transaction(() => { // one commit
      deps.db.exec(SCHEMA);
      if (fresh) deps.db.prepare("INSERT INTO housekeeping_seed (after) VALUES ('')").run();
    })();
    this.st = {
      mark: deps.db.prepare('INSERT OR IGNORE INTO housekeeping (instance_id, domain, worker, due_at) VALUES (?, ?, ?, ?)'),
      due: deps.db.prepare(`SELECT instance_id, domain, worker, min(due_at) AS first FROM housekeeping WHERE due_at <= ?
        GROUP BY instance_id, worker ORDER BY first LIMIT ?`),
      done: deps.db.prepare('DELETE FROM housekeeping WHERE instance_id = ? AND worker = ? AND due_at <= ?'),
      seedAfter: deps.db.prepare('SELECT after FROM housekeeping_seed').pluck(),
      seedMove: deps.db.prepare('UPDATE housekeeping_seed SET after = ?'),
      seedDone: deps.db.prepare('DELETE FROM housekeeping_seed'),
      purge: deps.db.prepare(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN ('done', 'errored') AND queued_at < ? LIMIT ?)`),
    };
  }

  /**
   * Records that `instance` will have work for `worker` at `dueAt` (rounded up to the hour). Marks are written
   * together, in one commit after the current turn of the event loop, at most MARKS_PER_COMMIT a turn (20,000 in one
   * commit held the event loop 100-130 ms: bench/farm.bench.ts).
   */
  mark(instance: Pick<Instance, 'id' | 'domain'>, worker: string, dueAt: number): void {
    const due = Math.ceil(dueAt / HOUR) * HOUR;
    const key = `${instance.id}\n${worker}\n${due}`;
    if (this.recent.has(key)) return;
    if (this.recent.size >= 10_000) this.recent.clear();
    this.recent.add(key);
    this.pending.push([instance.id, instance.domain, worker, due]);
    this.flushing ??= setImmediate(() => this.flush());
  }

  private flush(): void {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    const marks = this.pending.splice(0, MARKS_PER_COMMIT);
    if (marks.length) this.deps.db.transaction(() => marks.forEach((m) => this.st.mark.run(...m)))();
    if (this.pending.length) this.flushing = setImmediate(() => this.flush());
  }

  /** Queues the jobs due by `now`, at most `limit`, one commit at a time; returns how many were queued. */
  async run(now = this.now(), limit = this.deps.batch ?? 100): Promise<number> {
    this.flush();
    let pushed = 0;
    const done: DueRow[] = [];
    try {
      for (const row of this.st.due.all(now, limit) as DueRow[]) {
        const instance = await this.deps.registry.get(row.domain);
        // destroyed (and maybe its domain reused): nothing left to clean
        if (instance && instance.id === row.instance_id && this.deps.engine.worker(row.worker)) {
          await this.deps.engine.push(instance.domain, { worker: row.worker });
          pushed++;
        }
        done.push(row);
        await yieldToLoop();
      }
    } finally {
      // one commit for the round (a crash before it queues these jobs again: cleaning twice is harmless)
      this.deps.db.transaction(() => done.forEach((r) => this.st.done.run(r.instance_id, r.worker, now)))();
    }
    return pushed;
  }

  /** Deletes the jobs finished more than 30 days before `now`, 500 at a time; returns how many. */
  async purgeFinished(now = this.now()): Promise<number> {
    let purged = 0;
    for (let n = -1; n !== 0; purged += n) {
      n = this.deps.purge ? await this.deps.purge(now - FINISHED_KEPT_MS, 500) : this.st.purge.run(now - FINISHED_KEPT_MS, 500).changes;
      await yieldToLoop();
    }
    return purged;
  }

  /** One page of the instances registered before the table existed; false once they all are. */
  async seed(page = 200): Promise<boolean> {
    const after = this.st.seedAfter.get() as string | undefined;
    if (after === undefined) return false;
    const instances = await this.deps.registry.page({ after, limit: page });
    const start = this.now() + HOUR;
    this.deps.db.transaction(() => {
      for (const instance of instances) {
        // spread over the hour after the next one, by the instance's id
        const due = start + (parseInt(instance.id.slice(0, 8), 16) % HOUR);
        for (const worker of ['clean-clients', 'clean-old-trashed']) this.st.mark.run(instance.id, instance.domain, worker, due);
      }
      if (instances.length < page) this.st.seedDone.run();
      else this.st.seedMove.run(instances[instances.length - 1]!.domain);
    })();
    return instances.length === page;
  }

  private async round(): Promise<void> {
    while (await this.seed()) await yieldToLoop();
    await this.run();
    if (this.now() - this.lastPurge >= DAY) {
      this.lastPurge = this.now();
      await this.purgeFinished();
    }
  }

  private onEvent(event: DocEvent, worker: string, dueAt: (doc: Record<string, unknown>) => number | null): void {
    const due = dueAt(event.doc);
    if (due === null) return;
    this.deps.registry.get(event.domain).then(
      (instance) => instance && this.mark(instance, worker, due),
      (err: unknown) => this.deps.logger.error({ err, domain: event.domain }, 'housekeeping: an instance could not be marked'),
    );
  }

  start(): void {
    const retentionMs = this.deps.trashRetentionDays * DAY;
    this.hooks.push(this.deps.bus.subscribe('*', CLIENTS_DOCTYPE, (event) => this.onEvent(event, 'clean-clients', (doc) => {
      if (event.verb === 'DELETED' || doc.pending !== true) return null;
      return (timeOf(doc.created_at) ?? this.now()) + HOUR;
    })));
    if (retentionMs > 0) {
      this.hooks.push(this.deps.bus.subscribe('*', 'io.cozy.files', (event) => this.onEvent(event, 'clean-old-trashed', (doc) => {
        if (event.verb === 'DELETED' || doc.dir_id !== TRASH_DIR_ID) return null;
        return (timeOf((doc.cozyMetadata as { trashedAt?: unknown } | undefined)?.trashedAt) ?? this.now()) + retentionMs;
      })));
    }
    this.timer = setInterval(() => {
      this.running ??= this.round()
        .catch((err: unknown) => this.deps.logger.error({ err }, 'housekeeping: a round failed'))
        .finally(() => { this.running = null; });
    }, this.deps.tickMs ?? 10_000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.hooks.forEach((unsubscribe) => unsubscribe());
    await this.running;
    while (this.pending.length) this.flush();
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
  }
}

function timeOf(value: unknown): number | null {
  const t = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(t) ? null : t;
}
