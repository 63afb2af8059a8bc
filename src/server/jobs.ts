/**
 * The composition of the job system: the embedded broker, the workers with their dependencies,
 * the engine and the scheduler, and the stack's own event hooks (thumbnails on image uploads).
 * Called by compose.ts only.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DocEvent, EventBus, Unsubscribe } from '../common/bus.js';
import { migrateInstanceIds, openJobsDb, SqliteBroker, SqliteTriggerStore } from '../jobs/broker-sqlite.js';
import { JobEngine, type Clock } from '../jobs/engine.js';
import { Scheduler } from '../jobs/scheduler.js';
import type { WorkerDef } from '../jobs/types.js';
import type { InstanceRegistry } from '../instances/types.js';

export interface JobSystem {
  engine: JobEngine;
  scheduler: Scheduler;
  start(): Promise<void>;
  /** Drops every job and trigger of a destroyed instance (by its id: its domain may be reused). */
  dropInstance(instanceId: string): Promise<void>;
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
  /** Every this many ms (default 1 h; 0 never), each instance gets its housekeeping jobs (see `housekeeping`). */
  housekeepingMs?: number;
}

/**
 * The stack's own periodic jobs, per instance: `clean-clients` each round (OAuth clients left pending
 * an hour), `clean-old-trashed` once a day (the trash empties itself), and the purge of finished jobs
 * older than 30 days. Only the workers this server has are queued.
 */
export async function housekeeping(engine: JobEngine, registry: Pick<InstanceRegistry, 'list'>, round: number, roundsPerDay: number): Promise<number> {
  let pushed = 0;
  for (const instance of await registry.list()) {
    if (engine.worker('clean-clients')) pushed += Number(!!(await engine.push(instance.domain, { worker: 'clean-clients' })));
    if (round % roundsPerDay === 0) {
      if (engine.worker('clean-old-trashed')) pushed += Number(!!(await engine.push(instance.domain, { worker: 'clean-old-trashed' })));
      await engine.broker.purge(instance.domain, Date.now() - 30 * 86_400_000, null);
    }
  }
  return pushed;
}

export function createJobSystem(deps: JobSystemDeps): JobSystem {
  const db = openJobsDb(join(deps.dataDir, 'jobs.sqlite'));
  const idOf = async (domain: string) => (await deps.registry.get(domain))?.id ?? null;
  const broker = new SqliteBroker(db, idOf);
  const triggers = new SqliteTriggerStore(db, idOf);
  const logger = deps.logger.child({ component: 'jobs' });
  const engine = new JobEngine({
    broker, triggers, workers: deps.workers, bus: deps.bus, logger,
    instanceOf: (domain) => deps.registry.get(domain),
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.retryDelayMs ? { retryDelayMs: deps.retryDelayMs } : {}),
  });
  const scheduler = new Scheduler({ triggers, engine, bus: deps.bus, logger, ...(deps.clock ? { clock: deps.clock } : {}) });
  const every = deps.housekeepingMs ?? 3_600_000;
  let timer: NodeJS.Timeout | null = null;
  let round = 0;
  const hooks: Unsubscribe[] = [];
  const houseRound = () => {
    housekeeping(engine, deps.registry, round++, Math.max(1, Math.round(86_400_000 / every))).catch((err: unknown) => logger.error({ err }, 'housekeeping jobs could not be queued'));
  };
  return {
    engine,
    scheduler,
    async start() {
      const orphans = await migrateInstanceIds(db, idOf);
      if (orphans) logger.warn({ deleted: orphans }, 'jobs and triggers of destroyed instances were deleted');
      await engine.start();
      await scheduler.start();
      for (const hook of deps.eventHooks ?? []) {
        hooks.push(deps.bus.subscribe('*', hook.doctype, (event) => {
          const job = hook.jobFor(event);
          if (job) engine.push(event.domain, job).catch((err: unknown) => logger.error({ err, worker: job.worker }, 'a job of the stack could not be queued'));
        }));
      }
      if (every > 0) {
        timer = setInterval(houseRound, every);
        timer.unref();
      }
    },
    async dropInstance(instanceId) {
      await scheduler.dropInstance(instanceId);
      await broker.dropInstance(instanceId);
    },
    async close() {
      if (timer) clearInterval(timer);
      hooks.forEach((unsubscribe) => unsubscribe());
      scheduler.close();
      await engine.close();
      await broker.close();
    },
  };
}
