/**
 * The stack's own periodic work, for a farm: `clean-clients` (OAuth clients left pending an hour),
 * `clean-old-trashed` (the trash empties itself after `files.trashRetentionDays`) and the purge of
 * finished jobs older than 30 days.
 *
 * Only the instances that have something to clean get a job. Which ones is kept in a small table,
 * `housekeeping` (instance, worker, when it is due: ./housekeeping-hints.ts, in jobs.sqlite or, with docs.engine
 * postgres, in PostgreSQL where every process shares it), filled from the event bus: a pending
 * OAuth client is due an hour after its creation, an item put in the trash `trashRetentionDays` after
 * it went there. Due times are rounded up to the hour, so a burst of events makes one row. No
 * instance database is opened to find the work. When the table is first created, every instance
 * already registered gets both jobs once, spread over the hour after the next (`seed`), since what
 * it held before the table existed is unknown.
 *
 * Every `tickMs` a round takes at most `batch` due rows and queues their jobs one at a time, yielding
 * to the event loop between each (a push is one durable commit), so no round blocks requests
 * for more than one commit, and memory stays that of one batch. The jobs themselves run under their
 * workers' concurrency, and their stores come from the bounded pool (data/sqlite/factory.ts).
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { PACE_BUDGET_MS } from '../common/pace.js';
import type { Logger } from 'pino';
import type { DocEvent, EventBus, Unsubscribe } from '../common/bus.js';
import type { Instance, InstanceRegistry } from '../instances/types.js';
import type { JobEngine } from '../jobs/engine.js';
import { CLIENTS_DOCTYPE } from '../oauth/clients.js';
import { TRASH_DIR_ID } from '../files/types.js';
import type { DueRow, HousekeepingHints, Mark } from './housekeeping-hints.js';
import { FINISHED_JOBS_KEPT_MS } from '../jobs/broker.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface HousekeepingDeps {
  /** Where the marks are kept (and, in jobs.sqlite, the finished jobs purged). */
  hints: HousekeepingHints;
  engine: Pick<JobEngine, 'push' | 'worker'>;
  registry: Pick<InstanceRegistry, 'get' | 'page'>;
  bus: EventBus;
  logger: Logger;
  /** 0: the trash is never emptied (no row is kept for it). */
  trashRetentionDays: number;
  now?: () => number;
  /** Deletes at most `limit` finished jobs queued before `before`, where the broker keeps them (default: the hints' `purge`). */
  purge?: (before: number, limit: number) => Promise<number>;
  /** How often a round runs (default 10 s) and how many due rows it takes at most (default 100). */
  tickMs?: number;
  batch?: number;
}

/** Marks per commit: at most this many, fewer when a commit took more than PACE_BUDGET_MS of wall time (see `flush`). */
const MARKS_PER_COMMIT = 1000;
const MIN_MARKS_PER_COMMIT = 50;

export class Housekeeping {
  private readonly now: () => number;
  private readonly hooks: Unsubscribe[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private lastPurge = 0;
  /** Rows written lately (a burst of events on one instance writes once); bounded. */
  private readonly recent = new Set<string>();
  /** Marks waiting for their commit (`flush`). */
  private readonly pending: Mark[] = [];
  /** How many pending marks the next commit takes (`flush`). */
  private marksPerCommit = MARKS_PER_COMMIT;
  private flushing: NodeJS.Immediate | null = null;
  /** The commits of marks, one after the other. */
  private written: Promise<void> = Promise.resolve();

  constructor(private readonly deps: HousekeepingDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Records that `instance` will have work for `worker` at `dueAt` (rounded up to the hour). Marks are written
   * together, in one commit after the current turn of the event loop, at most MARKS_PER_COMMIT a turn (20,000 in one
   * commit held the event loop 100-130 ms: bench/farm.bench.ts), fewer when a commit took more than PACE_BUDGET_MS of
   * wall time (a loaded machine: the next commit's size is scaled to the time the last one took).
   */
  mark(instance: Pick<Instance, 'id' | 'domain'>, worker: string, dueAt: number): void {
    const due = Math.ceil(dueAt / HOUR) * HOUR;
    const key = `${instance.id}\n${worker}\n${due}`;
    if (this.recent.has(key)) return;
    if (this.recent.size >= 10_000) this.recent.clear();
    this.recent.add(key);
    this.pending.push([instance.id, instance.domain, worker, due]);
    this.flushing ??= setImmediate(() => void this.flush());
  }

  /** Commits the next `marksPerCommit` pending marks (the others at the next turn); resolves once they are written. */
  private flush(): Promise<void> {
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    const marks = this.pending.splice(0, this.marksPerCommit);
    if (marks.length) {
      this.written = this.written.then(async () => {
        const start = performance.now();
        await this.deps.hints.mark(marks);
        const ms = performance.now() - start;
        // a full commit that was quick, or a long one of more than a few marks (a commit's own cost is not theirs)
        if ((marks.length === this.marksPerCommit && ms < PACE_BUDGET_MS) || (ms > PACE_BUDGET_MS && marks.length > MIN_MARKS_PER_COMMIT)) {
          const scaled = Math.round((marks.length * PACE_BUDGET_MS) / Math.max(ms, 0.1));
          this.marksPerCommit = Math.max(MIN_MARKS_PER_COMMIT, Math.min(MARKS_PER_COMMIT, scaled));
        }
      }).catch((err: unknown) => {
        this.deps.logger.error({ err, marks: marks.length }, 'housekeeping: marks could not be written');
      });
    }
    if (this.pending.length) this.flushing = setImmediate(() => void this.flush());
    return this.written;
  }

  /** Queues the jobs due by `now`, at most `limit`, one commit at a time; returns how many were queued. */
  async run(now = this.now(), limit = this.deps.batch ?? 100): Promise<number> {
    await this.flush();
    let pushed = 0;
    const done: DueRow[] = [];
    try {
      for (const row of await this.deps.hints.due(now, limit)) {
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
      await this.deps.hints.done(done, now);
    }
    return pushed;
  }

  /** Deletes the jobs finished more than 30 days before `now`, 500 at a time; returns how many. */
  async purgeFinished(now = this.now()): Promise<number> {
    let purged = 0;
    for (let n = -1; n !== 0; purged += n) {
      const purge = this.deps.purge ?? this.deps.hints.purge?.bind(this.deps.hints);
      n = purge ? await purge(now - FINISHED_JOBS_KEPT_MS, 500) : 0;
      await yieldToLoop();
    }
    return purged;
  }

  /** One page of the instances registered before the table existed; false once they all are. */
  async seed(page = 200): Promise<boolean> {
    const after = await this.deps.hints.seedAfter();
    if (after === undefined) return false;
    const instances = await this.deps.registry.page({ after, limit: page });
    const start = this.now() + HOUR;
    // spread over the hour after the next one, by the instance's id
    await this.deps.hints.seedPage(instances, (instance) => start + (parseInt(instance.id.slice(0, 8), 16) % HOUR), instances.length < page);
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
    while (this.pending.length) await this.flush();
    if (this.flushing) clearImmediate(this.flushing);
    this.flushing = null;
    await this.written;
  }
}

function timeOf(value: unknown): number | null {
  const t = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isNaN(t) ? null : t;
}
