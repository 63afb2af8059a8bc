/**
 * The job mirror (jobs/mirror.ts) across restarts and failures: a real jobs.sqlite and real instance DocStores, the
 * job system built as compose.ts builds it.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus } from '../common/bus.js';
import type { Doc, DocStore } from '../data/store.js';
import { SqliteDocStoreFactory } from '../data/sqlite/factory.js';
import type { InstanceRegistry } from '../instances/types.js';
import { createJobSystem, type JobSystem } from '../server/jobs.js';
import { fakeInstance, until } from '../../test/helpers/jobs.js';
import type { WorkerDef } from './types.js';

const instance = { ...fakeInstance('alice.mirror.example'), id: 'a1ce0000000000000000000000000001' };
const registry = { get: async (d: string) => (d === instance.domain ? instance : null) } as unknown as InstanceRegistry;
const noop: WorkerDef = { name: 'noop', concurrency: 2, async run() {} };

let dir: string;
let stores: SqliteDocStoreFactory;
let jobs: JobSystem | null = null;
afterEach(async () => {
  await jobs?.close();
  jobs = null;
  await stores.close();
  rmSync(dir, { recursive: true, force: true });
});

function setup(): DocStore {
  dir = mkdtempSync(join(tmpdir(), 'hearth-mirror-'));
  stores = new SqliteDocStoreFactory(dir, new InProcessBus(), { attachmentMaxBytes: 1 << 20, groupCommitMs: 0 });
  return stores.open(instance.domain, instance.id);
}

function system(storeFor: ((domain: string, id: string) => Promise<DocStore | null>) | null, pollMs = 20): JobSystem {
  return createJobSystem({
    dataDir: dir, bus: new InProcessBus(), logger: pino({ level: 'silent' }), registry, workers: [noop], housekeepingMs: 0,
    ...(storeFor ? { mirror: { storeFor, pollMs } } : {}),
  });
}

const docs = async (store: DocStore, doctype: string): Promise<Doc[]> =>
  (await store.allDocs(doctype, { include_docs: true }).catch(() => ({ rows: [] as Array<{ doc?: Doc | null }> }))).rows.flatMap((r) => (r.doc ? [r.doc] : []));
const outbox = () => {
  const db = new Database(join(dir, 'jobs.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM mirror_outbox').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('the job mirror', () => {
  it('mirrors the jobs and triggers of a file written before it existed, once started on it', async () => {
    const store = setup();
    jobs = system(null);
    const queued = await Promise.all([1, 2, 3].map((i) => jobs!.engine.push(instance.domain, { worker: 'noop', message: { i } })));
    const trigger = await jobs.scheduler.create(instance.domain, { type: '@cron', arguments: '0 0 4 * * *', worker: 'noop', message: null });
    await jobs.close();
    jobs = system(async (domain, id) => (domain === instance.domain && id === instance.id ? store : null));
    await jobs.start();
    await until(async () => (await docs(store, 'io.cozy.jobs')).filter((d) => d.state === 'done').length === 3 && (await docs(store, 'io.cozy.triggers')).length === 1);
    expect((await docs(store, 'io.cozy.jobs')).map((d) => d._id).sort()).toEqual(queued.map((j) => j._id).sort());
    expect((await docs(store, 'io.cozy.triggers')).map((d) => d._id)).toEqual([trigger._id]);
    await until(() => outbox() === 0);
  });

  it('mirrors on demand what was written so far (an export reads triggers made a moment before it)', async () => {
    const store = setup();
    // a poll that never comes in the test: a trigger's change waits for it, or for mirrored()
    jobs = system(async () => store, 600_000);
    await jobs.start();
    await jobs.mirrored();
    const trigger = await jobs.scheduler.create(instance.domain, { type: '@event', arguments: 'io.cozy.files:CREATED', worker: 'noop', message: null });
    expect(await docs(store, 'io.cozy.triggers')).toEqual([]);
    await jobs.mirrored();
    expect((await docs(store, 'io.cozy.triggers')).map((d) => d._id)).toEqual([trigger._id]);
    expect(outbox()).toBe(0);
  });

  it('keeps what it could not write and writes it at a later round; an unchanged row makes no new revision', async () => {
    const store = setup();
    let down = true;
    jobs = system(async () => {
      if (down) throw new Error('the instance database is unavailable');
      return store;
    });
    await jobs.start();
    const job = await jobs.engine.push(instance.domain, { worker: 'noop', message: 'later' });
    await until(async () => (await jobs!.engine.broker.get(instance.domain, job._id))?.state === 'done');
    await new Promise((r) => setTimeout(r, 100));
    expect(await docs(store, 'io.cozy.jobs')).toEqual([]);
    expect(outbox()).toBeGreaterThan(0);
    down = false;
    await until(async () => (await docs(store, 'io.cozy.jobs')).some((d) => d._id === job._id && d.state === 'done'));
    const rev = (await store.get('io.cozy.jobs', job._id))._rev;
    // a crash after the DocStore write and before the outbox delete: the keys are there again at the next start
    await jobs.close();
    const db = new Database(join(dir, 'jobs.sqlite'));
    db.prepare("INSERT OR REPLACE INTO mirror_outbox (kind, id, instance_id, domain) VALUES ('job', ?, ?, ?)").run(job._id, instance.id, instance.domain);
    db.close();
    jobs = system(async () => store);
    await jobs.start();
    await until(() => outbox() === 0);
    expect((await store.get('io.cozy.jobs', job._id))._rev).toBe(rev);
  });

  it('deletes what the broker deletes (purged jobs, deleted triggers), and mirrors nothing for an instance that is gone', async () => {
    const store = setup();
    let present = true;
    jobs = system(async () => (present ? store : null));
    await jobs.start();
    const job = await jobs.engine.push(instance.domain, { worker: 'noop', message: 'old' });
    const trigger = await jobs.scheduler.create(instance.domain, { type: '@cron', arguments: '0 0 4 * * *', worker: 'noop', message: null });
    await until(async () => (await docs(store, 'io.cozy.jobs')).some((d) => d.state === 'done') && (await docs(store, 'io.cozy.triggers')).length === 1);
    await jobs.engine.broker.purge(instance.domain, Date.now() + 1000, null);
    await jobs.scheduler.delete(instance.domain, trigger._id);
    await until(async () => (await docs(store, 'io.cozy.jobs')).length === 0 && (await docs(store, 'io.cozy.triggers')).length === 0);
    await expect(store.get('io.cozy.jobs', job._id)).rejects.toThrow();
    present = false;
    await jobs.engine.push(instance.domain, { worker: 'noop', message: 'orphan' });
    await until(() => outbox() === 0);
    expect(await docs(store, 'io.cozy.jobs')).toEqual([]);
  });
});
