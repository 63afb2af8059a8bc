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
import type { Instance, InstanceRegistry } from '../../src/instances/types.js';
import type { WorkerDef } from '../../src/jobs/types.js';
import { createJobSystem, type JobSystem } from '../../src/server/jobs.js';
import { fakeInstance } from './jobs.js';

export const WATCHED = 'io.cozy.watched';
export const instance = { ...fakeInstance('sweep.jobs.example'), id: '5eed0000000000000000000000000000' };
/** The other instances of a farm (`opts.others`): `n<i>.sweep.jobs.example`. */
export const other = (i: number): Instance => ({ ...fakeInstance(`n${i}.sweep.jobs.example`), id: `5eed${String(i).padStart(28, '0')}` });
/** The SQLite engine's margin on file times (write-stamp.ts), short for tests: a round this long after a write stamps it. */
export const STAMP_MARGIN_MS = 150;

export interface EventWorld {
  store: DocStore;
  /** The same instance's store through a bus nobody listens to: its writes are those of a process that died before publishing. */
  unheard: DocStore;
  /** The same for another instance of the farm. */
  unheardOf(instance: Instance): DocStore;
  jobs: JobSystem;
  close(): Promise<void>;
}

/**
 * `others`: that many more instances (other(i)); `stamps: false`: the sweep does without the engine's index of the
 * writes (DocStoreFactory.writeStamps), which a `hearth` process reads.
 */
export function eventWorld(dir: string, pgUrl: string | null, bus: EventBus, workers: WorkerDef[], sweepMs: number, opts: { visitsPerRound?: number; onOpen?: () => void; others?: number; stamps?: boolean } = {}): EventWorld {
  const pool = pgUrl ? createPgPool({ url: pgUrl, max: 4, name: 'event-sweep' }) : null;
  const factory = (on: EventBus): DocStoreFactory => (pool
    ? new PgDocStoreFactory(pool, on, { attachmentMaxBytes: 1 << 20 })
    : new SqliteDocStoreFactory(join(dir, 'docs'), on, { attachmentMaxBytes: 1 << 20, groupCommitMs: 0, stampMarginMs: STAMP_MARGIN_MS }));
  const stores = factory(bus);
  const silent = factory(new InProcessBus());
  const store = stores.open(instance.domain, instance.id);
  const all = new Map([instance, ...Array.from({ length: opts.others ?? 0 }, (_, i) => other(i))].map((i) => [i.domain, i]));
  const registry = { get: async (d: string) => all.get(d) ?? null } as unknown as InstanceRegistry;
  const jobs = createJobSystem({
    dataDir: dir, bus, logger: pino({ level: 'silent' }), registry, workers, pg: pool, retryDelayMs: () => 0, housekeepingMs: 0,
    eventSweep: {
      storeFor: async (domain, id) => {
        opts.onOpen?.();
        const found = all.get(domain);
        return found?.id !== id ? null : found === instance ? store : stores.open(domain, id);
      },
      ...(opts.stamps !== false ? { stamps: (asked: ReadonlyMap<string, readonly string[]>) => stores.writeStamps!(asked) } : {}),
      periodMs: sweepMs,
      ...(opts.visitsPerRound !== undefined ? { visitsPerRound: opts.visitsPerRound } : {}),
    },
  });
  return {
    store, jobs, unheard: silent.open(instance.domain, instance.id), unheardOf: (i) => silent.open(i.domain, i.id),
    async close() {
      await jobs.close();
      await stores.close();
      await silent.close();
      await pool?.end();
    },
  };
}
