/**
 * Where the housekeeping (./housekeeping.ts) keeps its hints: which instance has work for which cleaning worker,
 * and when (rows `instance, domain, worker, due_at`), and how far the first seeding went. In jobs.sqlite with the
 * embedded engines (here); in PostgreSQL's schema `hearth` with docs.engine postgres (./housekeeping-hints-pg.ts),
 * where every process marks and any one queues the due jobs.
 */
import type Database from 'better-sqlite3';
import type { Instance } from '../instances/types.js';

/** A mark: instance id, domain, worker, due time (ms, rounded to the hour). */
export type Mark = [string, string, string, number];
export interface DueRow { instance_id: string; domain: string; worker: string }

export interface HousekeepingHints {
  /** Writes marks (one commit; a mark already there is kept). */
  mark(marks: Mark[]): Promise<void>;
  /** At most `limit` (instance, worker) pairs with a mark due by `now`, the earliest first (fewer when a pair has several due marks among the first `limit`). */
  due(now: number, limit: number): Promise<DueRow[]>;
  /** Drops the marks due by `now` of these pairs (their jobs are queued). */
  done(rows: DueRow[], now: number): Promise<void>;
  /**
   * The domain after which the seeding goes on ('' at first), or undefined once it is over (or was never needed: the
   * hints were there before any instance).
   */
  seedAfter(): Promise<string | undefined>;
  /** Marks both cleaning jobs of a page of instances at `dueOf(instance)`, and records how far the seeding went. */
  seedPage(instances: Instance[], dueOf: (instance: Instance) => number, last: boolean): Promise<void>;
  /** Deletes at most `limit` finished jobs queued before `before` (jobs.sqlite's `jobs` table); how many. */
  purge?(before: number, limit: number): Promise<number>;
}

export const CLEANING_WORKERS = ['clean-clients', 'clean-old-trashed'];

const SCHEMA = `
CREATE TABLE IF NOT EXISTS housekeeping (
  instance_id TEXT NOT NULL, domain TEXT NOT NULL, worker TEXT NOT NULL, due_at INTEGER NOT NULL,
  PRIMARY KEY (instance_id, worker, due_at)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS housekeeping_due ON housekeeping (due_at);
CREATE TABLE IF NOT EXISTS housekeeping_seed (after TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (queued_at) WHERE state IN ('done', 'errored');
`;

/** One row per (instance, worker) pair, the first of each: a pair may have several due marks (`rows` earliest first). */
export function firstOfEachPair(rows: DueRow[]): DueRow[] {
  const pairs = new Map<string, DueRow>();
  for (const r of rows) {
    const key = `${r.instance_id}\n${r.worker}`;
    if (!pairs.has(key)) pairs.set(key, { instance_id: r.instance_id, domain: r.domain, worker: r.worker });
  }
  return [...pairs.values()];
}

/** The hints in jobs.sqlite (its `jobs` table is purged here too). */
export class SqliteHousekeepingHints implements HousekeepingHints {
  private readonly st;

  constructor(private readonly db: Database.Database) {
    const fresh = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'housekeeping'").get() === undefined;
    db.transaction(() => { // one commit
      db.exec(SCHEMA);
      if (fresh) db.prepare("INSERT INTO housekeeping_seed (after) VALUES ('')").run();
    })();
    this.st = {
      mark: db.prepare('INSERT OR IGNORE INTO housekeeping (instance_id, domain, worker, due_at) VALUES (?, ?, ?, ?)'),
      // by the due_at index, stopping at `limit` rows (grouping the pairs first read and sorted every due row: 4-5 ms
      // of the event loop a round with the 20,000 rows of a 10,000-instance farm, 0.1 ms this way)
      due: db.prepare('SELECT instance_id, domain, worker FROM housekeeping WHERE due_at <= ? ORDER BY due_at LIMIT ?'),
      done: db.prepare('DELETE FROM housekeeping WHERE instance_id = ? AND worker = ? AND due_at <= ?'),
      seedAfter: db.prepare('SELECT after FROM housekeeping_seed').pluck(),
      seedMove: db.prepare('UPDATE housekeeping_seed SET after = ?'),
      seedDone: db.prepare('DELETE FROM housekeeping_seed'),
      purge: db.prepare(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN ('done', 'errored') AND queued_at < ? LIMIT ?)`),
    };
  }

  async mark(marks: Mark[]): Promise<void> {
    this.db.transaction(() => marks.forEach((m) => this.st.mark.run(...m)))();
  }

  async due(now: number, limit: number): Promise<DueRow[]> {
    return firstOfEachPair(this.st.due.all(now, limit) as DueRow[]);
  }

  async done(rows: DueRow[], now: number): Promise<void> {
    this.db.transaction(() => rows.forEach((r) => this.st.done.run(r.instance_id, r.worker, now)))();
  }

  async seedAfter(): Promise<string | undefined> {
    return this.st.seedAfter.get() as string | undefined;
  }

  async seedPage(instances: Instance[], dueOf: (instance: Instance) => number, last: boolean): Promise<void> {
    this.db.transaction(() => {
      for (const instance of instances) for (const worker of CLEANING_WORKERS) this.st.mark.run(instance.id, instance.domain, worker, dueOf(instance));
      if (last) this.st.seedDone.run();
      else this.st.seedMove.run(instances[instances.length - 1]!.domain);
    })();
  }

  async purge(before: number, limit: number): Promise<number> {
    return this.st.purge.run(before, limit).changes;
  }
}
