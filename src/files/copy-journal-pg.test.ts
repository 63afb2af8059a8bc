/**
 * The journal of folder copies on PostgreSQL (copy-journal-pg.ts): the conformance suite of every journal store, then
 * two hearth processes on one PostgreSQL and one Redis (coordination.engine redis: the bus, and the file-system locks,
 * leased) — one in a child process, killed (SIGKILL) in the middle of a folder copy; the other, never restarted, undoes
 * the cut copy once the dead one's leases ended. Their blobs are in the project's object store (object-storage-swift:
 * TEST_BLOBS, Swift's native API) or, in the default project, in one directory they share (blobs.engine local on a
 * shared disk: the object stores take half a minute to start, so they run in their own project).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childScript } from '../../test/helpers/child-script.js';
import { describeCopyJournal } from '../../test/helpers/copy-journal-suite.js';
import { copyUntil } from '../../test/helpers/crash.js';
import { rawRequest, testConfig } from '../../test/helpers/hearth.js';
import { until } from '../../test/helpers/jobs.js';
import { startPgState, type PgStateServer } from '../../test/helpers/pg-state.js';
import { startRedis, type RedisServer } from '../../test/helpers/servers/redis.js';
import type { HearthConfig } from '../config/types.js';
import { createHearth } from '../server/compose.js';
import { PgCopyJournalStore } from './copy-journal-pg.js';
import { fsck } from './fsck.js';
import { ROOT_DIR_ID } from './types.js';

let pg: PgStateServer;
let redis: RedisServer;
const children: ChildProcess[] = [];
beforeAll(async () => {
  [pg, redis] = await Promise.all([startPgState(), startRedis()]);
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await Promise.all([pg.close(), redis?.stop()]);
});

describeCopyJournal('PostgreSQL', {
  storage: () => pg.database(),
  open: (url) => new PgCopyJournalStore(pg.pool(url)),
});

describe('the sweep of ended leases on PostgreSQL', () => {
  it('reads the lease index, not the table, when 5,000 copies run and none is cut', async () => {
    const url = await pg.database();
    const store = new PgCopyJournalStore(pg.pool(url));
    expect(await store.claimExpired('p', Date.now(), Date.now() + 1000, 20)).toEqual([]); // creates the table
    const db = pg.pool(url);
    await db.query(`INSERT INTO hearth.copies SELECT 'c' || i, '{}'::jsonb, 'owner', $1::bigint + i FROM generate_series(1, 5000) i`, [Date.now() + 60_000]);
    await db.query('ANALYZE hearth.copies');
    const plan = JSON.stringify((await db.query(`EXPLAIN (FORMAT JSON) SELECT id FROM hearth.copies WHERE lease_until < $1 ORDER BY lease_until LIMIT 20 FOR UPDATE SKIP LOCKED`, [Date.now()])).rows);
    expect(plan).toContain('"Index Name":"copies_lease"');
    expect(plan).not.toContain('Seq Scan');
  });
});

const MiB = 1024 * 1024;
const FILES = 12;
const LEASE_MS = 1500;

/** The object store of the project (object-storage-swift), else none: the blobs on a local disk both processes share. */
const where = process.env.TEST_BLOBS ? (JSON.parse(process.env.TEST_BLOBS) as HearthConfig['blobs']) : null;
/** What both processes' configurations share besides PostgreSQL: Redis, and the object store (a container prefix of this test's). */
function shared(): Partial<HearthConfig> {
  const tag = randomUUID().slice(0, 8);
  return {
    coordination: { engine: 'redis', url: redis.url, prefix: `copy${tag}:` },
    ...(where ? { blobs: { ...where, swift: { ...where.swift, containerPrefix: `t_copy_${tag}_` } } } : {}),
  };
}

/** A hearth process in a child (test/fixtures/copy-pg-main.ts) on `url`, its blobs in `dataDir` or where `overrides` say; resolves once it listens. */
function startChild(dataDir: string, url: string, overrides: Partial<HearthConfig>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [childScript('test/fixtures/copy-pg-main.ts'), dataDir, url, String(LEASE_MS), JSON.stringify(overrides)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => resolve({ child, port: (JSON.parse(line) as { port: number }).port }));
    child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
  });
}

describe(`folder copies of two hearth processes on PostgreSQL, Redis and ${where ? where.engine : 'a shared local disk'}`, () => {
  it('one killed (SIGKILL) in the middle of a copy: the other undoes the cut copy once its lease ended, without a restart of the dead one', async () => {
    const url = await pg.database();
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-copy-pg-'));
    const overrides = shared();
    const hearth = await createHearth(testConfig(dataDir, { docs: { engine: 'postgres', url, poolSize: 4 }, ...overrides }), pino({ level: 'silent' }), { copyLeaseMs: LEASE_MS, locks: { leaseMs: LEASE_MS } });
    try {
      const dead = startChild(dataDir, url, overrides);
      await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
      const port = (hearth.publicApp.server.address() as AddressInfo).port;
      const domain = 'copies.example.net';
      const instance = await hearth.registry.create({ domain });
      const token = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.files' });
      const api = (method: string, path: string, raw?: Buffer) =>
        rawRequest(port, method, path, { host: domain, token, ...(raw ? { raw, headers: { 'content-type': 'application/octet-stream' } } : {}) });
      const id = String((await api('POST', `/files/${ROOT_DIR_ID}?Type=directory&Name=big`)).body.data.id);
      const chunk = Buffer.alloc(8 * MiB, 3);
      for (let i = 0; i < FILES; i += 4) {
        const sent = await Promise.all([0, 1, 2, 3].map((j) => api('POST', `/files/${id}?Type=file&Name=f${i + j}.bin`, chunk)));
        expect(sent.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      }

      // the copy through the other process, killed once it copied a file
      const other = await dead;
      // two processes on one data directory: on PostgreSQL and Redis, neither holds it (common/data-dir-lock.ts)
      expect(existsSync(join(dataDir, 'hearth.lock'))).toBe(false);
      const progress = await copyUntil({ port: other.port, domain, token }, id, (line) => (line.files ?? 0) > 0);
      other.child.kill('SIGKILL');
      await new Promise((r) => other.child.once('exit', r));
      expect(progress.files).toBeLessThan(FILES);
      const names = async () => ((await api('GET', `/files/${ROOT_DIR_ID}`)).body.included as Array<{ attributes: { name: string } }>).map((d) => d.attributes.name).sort();
      const db = pg.pool(url);
      const rows = async () => Number((await db.query('SELECT count(*) AS n FROM hearth.copies')).rows[0].n);
      // as the dead process left it (its lease runs a while yet: nobody takes the entry before it ends)
      expect(await Promise.all([names(), rows()])).toEqual([['big', 'big (copy) (incomplete copy)'], 1]);

      // the surviving process's sweep takes the entry once the lease ended, and removes the working folder
      await until(async () => (await rows()) === 0 && (await names()).length === 1, 30_000);
      expect(await names()).toEqual(['big']);
      const source = await api('GET', `/files/${id}?page[limit]=100`);
      expect(source.body.data.relationships.contents.data).toHaveLength(FILES);
      expect(await fsck(hearth.vfs.fs, instance)).toEqual([]);
    } finally {
      await hearth.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
