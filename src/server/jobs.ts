/**
 * The composition of the job system: the broker (the embedded one in jobs.sqlite, or PostgreSQL's when the process
 * has a pool: docs.engine postgres), the workers with their dependencies, the engine and the scheduler, and the
 * stack's own event hooks (thumbnails on image uploads). Called by compose.ts only.
 *
 * With several processes on one PostgreSQL, each job runs once (claims and leases, broker-pg.ts), each time
 * trigger's slot fires once (the compare-and-set of `advance`), and each @event trigger and hook fires in the process
 * whose write published the event: they listen to `localEvents`, which must carry only this process's writes (a bus
 * shared by the processes would fire them once per process).
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DocEvent, EventBus, Unsubscribe } from '../common/bus.js';
import type { Checkpointer } from '../data/sqlite/wal-sync.js';
import { migrateInstanceIds, openJobsDb, SqliteBroker, SqliteTriggerStore } from '../jobs/broker-sqlite.js';
import { ensureJobsSchema, PgBroker } from '../jobs/broker-pg.js';
import { PgTriggerStore } from '../jobs/triggers-pg.js';
import type { PgPool } from '../engines/postgres.js';
import { JobEngine, type Clock } from '../jobs/engine.js';
import { Scheduler } from '../jobs/scheduler.js';
import type { WorkerDef } from '../jobs/types.js';
import type { InstanceRegistry } from '../instances/types.js';
import { Housekeeping } from './housekeeping.js';
import { SqliteHousekeepingHints } from './housekeeping-hints.js';
import { PgHousekeepingHints } from './housekeeping-hints-pg.js';
import type { DocStore } from '../data/store.js';
import type { EventSweepOptions } from '../jobs/event-sweep.js';
import { installMirrorOutbox, JobMirror, SqliteMirrorSource } from '../jobs/mirror.js';
import { PgMirrorSource } from '../jobs/mirror-pg.js';
import { JOBS_DOCTYPE } from '../jobs/types.js';

export interface JobSystem {
  engine: JobEngine;
  scheduler: Scheduler;
  /** The stack's own cleaning jobs, for the instances that need them. */
  housekeeping: Housekeeping;
  start(): Promise<void>;
  /** Drops every job and trigger of a destroyed instance (by its id: its domain may be reused). */
  dropInstance(instanceId: string): Promise<void>;
  /** Resolves once the jobs and triggers written so far are mirrored into /data (jobs/mirror.ts `flush`). */
  mirrored(): Promise<void>;
  close(): Promise<void>;
}

export interface JobSystemDeps {
  dataDir: string;
  bus: EventBus;
  logger: Logger;
  registry: InstanceRegistry;
  workers: WorkerDef[];
  clock?: Clock;
  retryDelayMs?: (tries: number) => number;
  /** The stack's own reactions to changes (thumbnails for new images): a job to queue for an event, or null. */
  eventHooks?: Array<{ doctype: string; jobFor(event: DocEvent): { worker: string; message: unknown } | null }>;
  /** How often a housekeeping round runs (default 10 s; 0 never): see housekeeping.ts. */
  housekeepingMs?: number;
  /** files.trashRetentionDays (default 30; 0: the trash is never emptied). */
  trashRetentionDays?: number;
  /** Jobs and triggers mirrored into the instances' DocStores, readable through /data (jobs/mirror.ts); none when absent. */
  mirror?: { storeFor(domain: string, instanceId: string): Promise<DocStore | null>; pollMs?: number };
  /** Runs the checkpoints of jobs.sqlite off the event loop (data/sqlite/wal-sync.ts). */
  checkpoints?: Checkpointer;
  /** The process's PostgreSQL pool: jobs and triggers live there, shared with the other processes (broker-pg.ts). */
  pg?: PgPool | null;
  /** The events of this process's own writes, for @event triggers and the hooks (default `bus`). */
  localEvents?: EventBus;
  /** How long a running job stays leased without a renewal (engine.ts LEASE_MS). */
  leaseMs?: number;
  /**
   * The sweep of the instances' changes feeds that fires the @event runs the bus lost (jobs/event-sweep.ts), every
   * `periodMs` (default 30 s); none when absent (the runs are then only those heard on `localEvents`).
   */
  eventSweep?: EventSweepOptions;
}

export function createJobSystem(deps: JobSystemDeps): JobSystem {
  const idOf = async (domain: string) => (await deps.registry.get(domain))?.id ?? null;
  const pool = deps.pg ?? null;
  // with PostgreSQL, everything is there, the housekeeping's hints included (housekeeping-hints-pg.ts): no jobs.sqlite
  const db = pool ? null : openJobsDb(join(deps.dataDir, 'jobs.sqlite'), deps.checkpoints);
  const broker = pool ? new PgBroker(pool, idOf) : new SqliteBroker(db!, idOf);
  const triggers = pool ? new PgTriggerStore(pool, idOf) : new SqliteTriggerStore(db!, idOf);
  const logger = deps.logger.child({ component: 'jobs' });
  const local = deps.localEvents ?? deps.bus;
  const engine = new JobEngine({
    broker, triggers, workers: deps.workers, bus: deps.bus, logger,
    instanceOf: (domain) => deps.registry.get(domain),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.retryDelayMs ? { retryDelayMs: deps.retryDelayMs } : {}),
    ...(deps.leaseMs ? { leaseMs: deps.leaseMs } : {}),
  });
  const scheduler = new Scheduler({
    triggers, engine, bus: local, logger, ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.eventSweep ? { eventSweep: deps.eventSweep } : {}),
  });
  const every = deps.housekeepingMs ?? 10_000;
  const housekeeping = new Housekeeping({
    hints: pool ? new PgHousekeepingHints(pool) : new SqliteHousekeepingHints(db!), engine, registry: deps.registry, bus: local, logger, trashRetentionDays: deps.trashRetentionDays ?? 30, tickMs: every,
    ...(deps.clock ? { now: () => deps.clock!.now() } : {}),
    ...(broker instanceof PgBroker ? { purge: (before: number, limit: number) => broker.purgeFinished(before, limit) } : {}),
  });
  const hooks: Unsubscribe[] = [];
  let mirror: JobMirror | null = null;
  const pgMirror = deps.mirror && pool ? new PgMirrorSource(pool) : null;
  if (deps.mirror) {
    if (!pool) installMirrorOutbox(db!);
    const source = pgMirror ?? new SqliteMirrorSource(db!);
    mirror = new JobMirror({ source, logger, storeFor: deps.mirror.storeFor, ...(deps.mirror.pollMs !== undefined ? { pollMs: deps.mirror.pollMs } : {}) });
  }
  return {
    engine,
    scheduler,
    housekeeping,
    async start() {
      if (pool) await ensureJobsSchema(pool);
      await pgMirror?.install();
      const orphans = db ? await migrateInstanceIds(db, idOf) : 0;
      if (orphans) logger.warn({ deleted: orphans }, 'jobs and triggers of destroyed instances were deleted');
      await engine.start();
      await scheduler.start();
      if (mirror) {
        const m = mirror;
        m.start();
        // a job's every change is published: the mirror follows at once (trigger changes wait for its poll)
        hooks.push(deps.bus.subscribe('*', JOBS_DOCTYPE, () => m.kick()));
      }
      for (const hook of deps.eventHooks ?? []) {
        hooks.push(local.subscribe('*', hook.doctype, (event) => {
          const job = hook.jobFor(event);
          if (job) engine.push(event.domain, job).catch((err: unknown) => logger.error({ err, worker: job.worker }, 'a job of the stack could not be queued'));
        }));
      }
      if (every > 0) housekeeping.start();
    },
    async mirrored() {
      await mirror?.flush();
    },
    async dropInstance(instanceId) {
      await scheduler.dropInstance(instanceId);
      await broker.dropInstance(instanceId);
      await mirror?.forget(instanceId);
    },
    async close() {
      await housekeeping.close();
      hooks.forEach((unsubscribe) => unsubscribe());
      await scheduler.close();
      await engine.close();
      await mirror?.close();
      await broker.close();
    },
  };
}
