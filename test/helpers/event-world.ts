/**
 * One instance's DocStore and a job system on the same storage, as a `hearth` process has them, for the tests of the
 * @event sweep (src/jobs/event-sweep.ts): SQLite and jobs.sqlite in `dir`, or, with a database URL, the PostgreSQL
 * engines (documents in the instance's schema, jobs and triggers in `hearth`). The test process and its children
 * (test/fixtures/event-sweep-main.ts) open the same storage in turn.
 */
import { join } from 'node:path';
import { pino } from 'pino';
import { InProcessBus, type EventBus } from '../../src/common/bus.js';
import { PgDocStoreFactory } from '../../src/data/postgres/factory.js';
import { SqliteDocStoreFactory } from '../../src/data/sqlite/factory.js';
import type { DocStore, DocStoreFactory } from '../../src/data/store.js';
import { createPgPool } from '../../src/engines/postgres.js';
import type { InstanceRegistry } from '../../src/instances/types.js';
import type { WorkerDef } from '../../src/jobs/types.js';
import { createJobSystem, type JobSystem } from '../../src/server/jobs.js';
import { fakeInstance } from './jobs.js';

export const WATCHED = 'io.cozy.watched';
export const instance = { ...fakeInstance('sweep.jobs.example'), id: '5eed0000000000000000000000000000' };

export interface EventWorld {
  store: DocStore;
  /** The same instance's store through a bus nobody listens to: its writes are those of a process that died before publishing. */
  unheard: DocStore;
  jobs: JobSystem;
  close(): Promise<void>;
}

export function eventWorld(dir: string, pgUrl: string | null, bus: EventBus, workers: WorkerDef[], sweepMs: number, opts: { visitsPerRound?: number; onOpen?: () => void } = {}): EventWorld {
  const pool = pgUrl ? createPgPool({ url: pgUrl, max: 4, name: 'event-sweep' }) : null;
  const factory = (on: EventBus): DocStoreFactory => (pool
    ? new PgDocStoreFactory(pool, on, { attachmentMaxBytes: 1 << 20 })
    : new SqliteDocStoreFactory(join(dir, 'docs'), on, { attachmentMaxBytes: 1 << 20, groupCommitMs: 0 }));
  const stores = factory(bus);
  const silent = factory(new InProcessBus());
  const store = stores.open(instance.domain, instance.id);
  const registry = { get: async (d: string) => (d === instance.domain ? instance : null) } as unknown as InstanceRegistry;
  const jobs = createJobSystem({
    dataDir: dir, bus, logger: pino({ level: 'silent' }), registry, workers, pg: pool, retryDelayMs: () => 0, housekeepingMs: 0,
    eventSweep: {
      storeFor: async (domain, id) => {
        opts.onOpen?.();
        return domain === instance.domain && id === instance.id ? store : null;
      },
      periodMs: sweepMs,
      ...(opts.visitsPerRound !== undefined ? { visitsPerRound: opts.visitsPerRound } : {}),
    },
  });
  return {
    store, jobs, unheard: silent.open(instance.domain, instance.id),
    async close() {
      await jobs.close();
      await stores.close();
      await silent.close();
      await pool?.end();
    },
  };
}
