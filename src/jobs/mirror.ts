/**
 * Jobs and triggers readable through /data (cozy-stack keeps them as CouchDB documents, which apps such as cozy-home
 * query with `_find` and `_changes`): the job system mirrors each job and trigger of the broker's SQLite file into its
 * instance's DocStore, as the read-only doctypes io.cozy.jobs and io.cozy.triggers, in cozy-stack's document shapes.
 *
 * Every write to the `jobs` and `triggers` tables (whoever makes it: the broker, the scheduler, the housekeeping, a
 * migration) records the row's key in `mirror_outbox` through SQLite triggers, in the same transaction. The mirror
 * drains the outbox in rounds: it reads the rows as they are now, writes what differs into the instance's DocStore
 * (a deletion for a row that is gone), and only then deletes the keys it mirrored, unless they were written again
 * meanwhile (their write count `v` moved). A crash at any point leaves the keys in the outbox, and the next round (at start-up) mirrors the rows
 * again: the mirror converges, and an unchanged row makes no new revision. Under load a round takes every change
 * since the last one, so a job's queued, running and done writes often reach the DocStore as one.
 */
import type Database from 'better-sqlite3';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { NotFound } from '../common/errors.js';
import type { Doc, DocStore } from '../data/store.js';
import { JOBS_DOCTYPE, TRIGGERS_DOCTYPE, type JobDoc, type TriggerDoc } from './types.js';

const KINDS = { job: { table: 'jobs', doctype: JOBS_DOCTYPE }, trigger: { table: 'triggers', doctype: TRIGGERS_DOCTYPE } } as const;
export type Kind = keyof typeof KINDS;

/** Go's zero time, which cozy-stack writes for a job's start and end until they happen. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Creates the outbox and the SQLite triggers that feed it; on a file that had none, every existing row is queued (the first mirroring). */
export function installMirrorOutbox(db: Database.Database): void {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'mirror_outbox'").get() !== undefined;
  const hooks = (Object.keys(KINDS) as Kind[]).flatMap((kind) => (['INSERT', 'UPDATE', 'DELETE'] as const).map((op) => {
    const row = op === 'DELETE' ? 'OLD' : 'NEW';
    return `CREATE TRIGGER IF NOT EXISTS ${KINDS[kind].table}_mirror_${op.toLowerCase()} AFTER ${op} ON ${KINDS[kind].table} BEGIN
      INSERT INTO mirror_outbox (kind, id, instance_id, domain) VALUES ('${kind}', ${row}.id, ${row}.instance_id, ${row}.domain)
      ON CONFLICT (kind, id) DO UPDATE SET v = v + 1, instance_id = excluded.instance_id, domain = excluded.domain; END;`;
  }));
  db.transaction(() => {
    // one row per key, rewritten in place (`v` counts the writes) rather than replaced: the cheapest write on the broker's path
    db.exec(`CREATE TABLE IF NOT EXISTS mirror_outbox (
      kind TEXT NOT NULL, id TEXT NOT NULL, instance_id TEXT, domain TEXT NOT NULL, v INTEGER NOT NULL DEFAULT 0, UNIQUE (kind, id));
      ${hooks.join('\n')}`);
    if (!exists) {
      for (const kind of Object.keys(KINDS) as Kind[]) {
        db.prepare(`INSERT OR IGNORE INTO mirror_outbox (kind, id, instance_id, domain) SELECT ?, id, instance_id, domain FROM ${KINDS[kind].table} ORDER BY rowid`).run(kind);
      }
    }
  })();
}

/** A job as cozy-stack stores it in CouchDB (model/job.Job): what the API never serves (rights, instance id, tries) left out. */
export function jobMirrorDoc(job: JobDoc): Doc {
  const doc: Record<string, unknown> = {
    _id: job._id, domain: job.domain, worker: job.worker,
    ...(job.trigger_id ? { trigger_id: job.trigger_id } : {}),
    message: job.message ?? null,
    ...(job.event ? { event: job.event } : {}),
    ...(job.payload !== undefined ? { payload: job.payload } : {}),
    ...(job.manual_execution ? { manual_execution: true } : {}),
    options: job.options ?? null,
    state: job.state, queued_at: job.queued_at, started_at: job.started_at ?? ZERO_TIME, finished_at: job.finished_at ?? ZERO_TIME,
    ...(job.error ? { error: job.error } : {}),
  };
  return doc as Doc;
}

/**
 * A trigger as cozy-stack stores it (model/job.TriggerInfos). Not its `current_state`: cozy-stack computes it for the
 * /jobs answers and never stores it (`omitempty`), and keeping it here would make every run of a trigger a change of
 * io.cozy.triggers, which an `@event io.cozy.triggers` trigger would answer with a run, and so on without end.
 */
export function triggerMirrorDoc(trigger: TriggerDoc): Doc {
  const doc: Record<string, unknown> = {
    _id: trigger._id, domain: trigger.domain, type: trigger.type, worker: trigger.worker, arguments: trigger.arguments,
    debounce: trigger.debounce ?? '', options: trigger.options ?? null, message: trigger.message ?? null,
    ...(trigger.cozyMetadata ? { cozyMetadata: trigger.cozyMetadata } : {}),
  };
  return doc as Doc;
}

export interface OutboxRow { v: number; kind: Kind; id: string; instance_id: string | null; domain: string }

/** Where the mirror reads what changed and what the rows are now: jobs.sqlite here, PostgreSQL in mirror-pg.ts. */
export interface MirrorSource {
  /** The oldest keys of the outbox. */
  next(batch: number): Promise<OutboxRow[]>;
  /** The documents these rows should have in /data now (a row that is gone has none). */
  wanted(kind: Kind, ids: string[]): Promise<Map<string, Doc>>;
  /** Drops the keys mirrored, unless they were written again since they were read (their `v` moved). */
  done(rows: OutboxRow[]): Promise<void>;
  forget(instanceId: string): Promise<void>;
  /** The newest key of the outbox now (its position; 0 when it is empty). */
  mark(): Promise<number>;
  /** Whether a key at or before `mark` is still waiting (not mirrored yet, or written again since and not mirrored). */
  pending(mark: number): Promise<boolean>;
  /** Runs a round if no other process runs one now (else skips it): one process writes a change into /data. */
  exclusive(round: () => Promise<void>): Promise<void>;
}

/** The outbox of jobs.sqlite (installMirrorOutbox): one process has the file, every round is its own. */
export class SqliteMirrorSource implements MirrorSource {
  private readonly st;

  constructor(private readonly db: Database.Database) {
    this.st = {
      next: db.prepare('SELECT v, kind, id, instance_id, domain FROM mirror_outbox ORDER BY rowid LIMIT ?'),
      // not if the row was written again since it was read: that write is mirrored at the next round
      done: db.prepare('DELETE FROM mirror_outbox WHERE kind = ? AND id = ? AND v = ?'),
      forget: db.prepare('DELETE FROM mirror_outbox WHERE instance_id = ?'),
      // an upsert keeps a key's rowid: a key written again keeps its place, and the rowid orders the outbox
      mark: db.prepare('SELECT COALESCE(max(rowid), 0) AS m FROM mirror_outbox'),
      pending: db.prepare('SELECT 1 FROM mirror_outbox WHERE rowid <= ? LIMIT 1'),
      job: db.prepare('SELECT state, tries, doc FROM jobs WHERE id = ?'),
      trigger: db.prepare('SELECT doc FROM triggers WHERE id = ?'),
    };
  }

  async next(batch: number): Promise<OutboxRow[]> {
    return this.st.next.all(batch) as OutboxRow[];
  }

  async wanted(kind: Kind, ids: string[]): Promise<Map<string, Doc>> {
    const found = new Map<string, Doc>();
    for (const id of ids) {
      if (kind === 'job') {
        const row = this.st.job.get(id) as { state: JobDoc['state']; doc: string } | undefined;
        if (row) found.set(id, jobMirrorDoc({ ...(JSON.parse(row.doc) as JobDoc), state: row.state }));
      } else {
        const row = this.st.trigger.get(id) as { doc: string } | undefined;
        if (row) found.set(id, triggerMirrorDoc(JSON.parse(row.doc) as TriggerDoc));
      }
    }
    return found;
  }

  async done(rows: OutboxRow[]): Promise<void> {
    this.db.transaction(() => rows.forEach((row) => this.st.done.run(row.kind, row.id, row.v)))();
  }

  async forget(instanceId: string): Promise<void> {
    this.st.forget.run(instanceId);
  }

  async mark(): Promise<number> {
    return (this.st.mark.get() as { m: number }).m;
  }

  async pending(mark: number): Promise<boolean> {
    return this.st.pending.get(mark) !== undefined;
  }

  exclusive(round: () => Promise<void>): Promise<void> {
    return round();
  }
}

export interface JobMirrorDeps {
  source: MirrorSource;
  /** The DocStore of the instance that has this id and this domain now, or null (destroyed, or its domain reused). */
  storeFor(domain: string, instanceId: string): Promise<DocStore | null>;
  logger: Logger;
  /** How often the outbox is looked at when no job event says it changed (default 250 ms). */
  pollMs?: number;
  /**
   * A change is mirrored this long after it is signalled (default 50 ms): under load a round then takes many jobs, each
   * job's queued, running and done states often as one write, and the instance's DocStore syncs once per round.
   */
  delayMs?: number;
  /** Keys mirrored per round at most (default 500). */
  batch?: number;
  /** How long `flush` waits at most for the keys to be mirrored (default 10 s): a key whose write keeps failing does not hold it forever. */
  flushMs?: number;
}

export class JobMirror {
  private round: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private pending: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly deps: JobMirrorDeps) {}

  /** Mirrors what is waiting now, then keeps looking every `pollMs`. */
  start(): void {
    this.kick();
    this.timer = setInterval(() => this.kick(), this.deps.pollMs ?? 250);
    this.timer.unref();
  }

  /** Something changed: a round runs `delayMs` from now, or after the one under way. */
  kick(): void {
    if (this.closed || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      if (this.round) {
        this.again = true;
        return;
      }
      this.startRound();
    }, this.deps.delayMs ?? 50);
  }

  /**
   * Resolves once every key the outbox holds now is mirrored: by a round of this process, or, with PostgreSQL, by the
   * round of the process that holds the mirror's lock (this one then looks again every 50 ms). After `flushMs` it
   * resolves anyway, with a warning (a key whose write keeps failing waits for the next rounds).
   */
  async flush(): Promise<void> {
    const mark = await this.deps.source.mark();
    if (!mark) return;
    const deadline = Date.now() + (this.deps.flushMs ?? 10_000);
    for (;;) {
      await this.idle();
      if (this.closed) return;
      if (this.pending) {
        clearTimeout(this.pending);
        this.pending = null;
      }
      if (!this.round) this.startRound();
      await this.idle();
      if (!(await this.deps.source.pending(mark))) return;
      if (Date.now() >= deadline) {
        this.deps.logger.warn({ mark }, 'jobs and triggers are not all mirrored into /data yet: going on without them');
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private startRound(): void {
    this.round = this.deps.source.exclusive(() => this.drain()).catch((err: unknown) => {
      this.deps.logger.error({ err }, 'jobs and triggers could not be mirrored into /data: retrying at the next round');
    }).finally(() => {
      this.round = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  /** Resolves once the outbox is empty (or a round failed: its keys wait for the next one). For tests and shutdown. */
  async idle(): Promise<void> {
    while (this.round) await this.round;
  }

  /** A destroyed instance: its keys are dropped and the round under way (which may write to its store) is waited for. */
  async forget(instanceId: string): Promise<void> {
    await this.deps.source.forget(instanceId);
    await this.idle();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    await this.idle();
  }

  private async drain(): Promise<void> {
    try {
      const batch = this.deps.batch ?? 500;
      for (;;) {
        const rows = await this.deps.source.next(batch);
        if (!rows.length || this.closed) return;
        // some keys could not be written: they wait for the next poll rather than spin
        if ((await this.mirror(rows)) < rows.length) return;
        // a backlog is drained at once; what arrived since this round began waits for the next kick, with what follows it
        if (rows.length < batch) return;
      }
    } catch (err) {
      this.deps.logger.error({ err }, 'jobs and triggers could not be mirrored into /data: retrying at the next round');
    }
  }

  /** One batch: the rows grouped by instance and kind, each group written in one bulk. Returns how many were mirrored. */
  private async mirror(rows: OutboxRow[]): Promise<number> {
    const groups = new Map<string, OutboxRow[]>();
    for (const row of rows) {
      const key = `${row.instance_id ?? ''}\n${row.domain}\n${row.kind}`;
      const group = groups.get(key);
      if (group) group.push(row);
      else groups.set(key, [row]);
    }
    const done: OutboxRow[] = [];
    for (const group of groups.values()) {
      const { instance_id: instanceId, domain, kind } = group[0]!;
      const store = instanceId ? await this.deps.storeFor(domain, instanceId) : null;
      // an instance that is gone (or never had its id recorded) has nothing to mirror to
      const mirrored = store ? await this.write(store, kind, group) : group;
      done.push(...mirrored);
    }
    await this.deps.source.done(done);
    return done.length;
  }

  /** Writes what differs; returns the rows mirrored (a conflicting write waits for the next round). */
  private async write(store: DocStore, kind: Kind, rows: OutboxRow[]): Promise<OutboxRow[]> {
    const doctype = KINDS[kind].doctype;
    const ids = rows.map((r) => r.id);
    const current = await store.allDocs(doctype, { keys: ids, include_docs: true }).catch((e: unknown) => {
      if (e instanceof NotFound) return { rows: [] };
      throw e;
    });
    const have = new Map(current.rows.flatMap((r) => (r.id && r.value && !r.value.deleted && r.doc ? [[r.id, r.doc] as const] : [])));
    const wanted = await this.deps.source.wanted(kind, ids);
    const writes: Doc[] = [];
    for (const id of ids) {
      const want = wanted.get(id);
      const old = have.get(id);
      if (!want) {
        if (old) writes.push({ _id: id, _rev: old._rev!, _deleted: true });
      } else if (!old) writes.push(want);
      else {
        const { _rev, ...oldBody } = old;
        if (!isDeepStrictEqual(oldBody, want)) writes.push({ ...want, _rev: _rev! });
      }
    }
    if (!writes.length) return rows;
    const results = await store.bulkDocs(doctype, writes, true);
    const failed = new Set(results.filter((r) => r.error).map((r) => r.id));
    if (failed.size) this.deps.logger.warn({ doctype, ids: [...failed].slice(0, 10) }, 'mirroring into /data conflicted: retrying at the next round');
    return rows.filter((r) => !failed.has(r.id));
  }
}
