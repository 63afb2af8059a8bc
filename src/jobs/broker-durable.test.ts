/** jobs.sqlite's commits: acknowledged once the WAL is fsynced in the thread pool, never fsynced on the event loop. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openJobsDb, SqliteBroker, SqliteTriggerStore } from './broker-sqlite.js';
import type { JobOptions } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-broker-durable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options: Required<JobOptions> = { max_exec_count: 1, timeout: 60 };

describe('job broker commits', () => {
  it('run with synchronous = NORMAL, share one WAL sync between broker and triggers, and acknowledge a write only once it returned', async () => {
    const db = openJobsDb(join(dir, 'jobs.sqlite'));
    const idOf = async () => 'instance1';
    const broker = new SqliteBroker(db, idOf);
    const triggers = new SqliteTriggerStore(db, idOf);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    const wal = (broker as unknown as { wal: { syncs: number; fd: number | null } }).wal;
    expect((triggers as unknown as { wal: unknown }).wal).toBe(wal);
    const before = wal.syncs;
    const job = await broker.push({ domain: 'a.example', worker: 'log', message: null, options, runAt: 0 }, 0);
    expect(wal.syncs).toBeGreaterThan(before);
    expect((await broker.claim('log', 1, Date.now() + 60_000))?._id).toBe(job._id);
    // the WAL cannot be fsynced: the finished state is not acknowledged
    wal.fd = 1_000_000;
    await expect(broker.complete(job._id, 2)).rejects.toMatchObject({ status: 503 });
    wal.fd = null;
    await broker.close();
  });
});
