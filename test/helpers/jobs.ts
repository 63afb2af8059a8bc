/**
 * A job system on a real jobs.sqlite in a fresh directory, with test workers and a clock the test
 * moves (`clock.t`). `reopen()` builds a new engine and scheduler on the same file, as a restarted
 * process would. Under the vitest project `postgres-jobs` (TEST_PG_URL set), the broker and the triggers are in a
 * fresh database of that server instead (broker-pg.ts), so that the same tests run on both engines.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { InProcessBus, type DocEvent } from '../../src/common/bus.js';
import type { Instance, InstanceRegistry } from '../../src/instances/types.js';
import type { WorkerDef } from '../../src/jobs/types.js';
import { createJobSystem, type JobSystem } from '../../src/server/jobs.js';
import { createPgPool, type PgPool } from '../../src/engines/postgres.js';
import { createTestDatabase } from './engines.js';

export interface TestJobs {
  jobs: JobSystem;
  bus: InProcessBus;
  clock: { t: number; now(): number };
  dir: string;
  events: DocEvent[];
  instance: Instance;
  reopen(workers?: WorkerDef[]): Promise<JobSystem>;
  close(): Promise<void>;
}

export function fakeInstance(domain: string): Instance {
  return {
    id: domain.replace(/[^a-z0-9]/g, '').padEnd(32, '0').slice(0, 32), domain, aliases: [], locale: 'en', email: 'owner@example.org', publicName: null, tz: null, diskQuota: null,
    passphraseHash: null, onboarded: true, kdfIterations: 1000, createdAt: '', updatedAt: '',
  };
}

export async function openTestJobs(workers: WorkerDef[], opts: { start?: boolean } = {}): Promise<TestJobs> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-jobs-'));
  const bus = new InProcessBus();
  const events: DocEvent[] = [];
  bus.subscribe('*', 'io.cozy.jobs', (e) => events.push(e));
  const instance = fakeInstance('alice.jobs.example');
  const registry = { get: async (domain: string) => (domain === instance.domain ? instance : null) } as unknown as InstanceRegistry;
  const clock = { t: Date.parse('2026-06-01T10:00:00Z'), now: () => clock.t };
  const pg = testPgPool();
  const make = (w: WorkerDef[]) => createJobSystem({ dataDir: dir, bus, logger: pino({ level: 'silent' }), registry, workers: w, clock, retryDelayMs: () => 0, pg });
  const t: TestJobs = {
    jobs: make(workers), bus, clock, dir, events, instance,
    async reopen(w = workers) {
      await t.jobs.close();
      t.jobs = make(w);
      await t.jobs.start();
      return t.jobs;
    },
    async close() {
      await t.jobs.close();
      await pg?.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (opts.start !== false) await t.jobs.start();
  return t;
}

/** A pool on a fresh database of the PostgreSQL server under test (TEST_PG_URL), or null on the embedded engine. */
export function testPgPool(): PgPool | null {
  const server = process.env.TEST_PG_URL;
  if (!server) return null;
  const url = createTestDatabase(server, `jobs_${randomBytes(6).toString('hex')}`);
  return createPgPool({ url, max: 5, name: 'test' });
}

/** Resolves when `check` is true, polling every 5 ms; fails after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
