/**
 * The shared app code store (PostgreSQL + the object store, or PostgreSQL alone) on real servers: the conformance
 * suite, and two stores on one database as two processes. The PostgreSQL is the project's (TEST_PG_URL: postgres-state)
 * or one started here; the bytes go to the project's object store (TEST_BLOBS: object-storage-swift and -s3) or to
 * PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_FILES, describeAppCodeStore, fillWith, sha } from '../../../test/helpers/app-code-store-suite.js';
import { createTestDatabase } from '../../../test/helpers/engines.js';
import { startPgState, type PgStateServer } from '../../../test/helpers/pg-state.js';
import { startRedis } from '../../../test/helpers/servers/redis.js';
import { InProcessInvalidation } from '../../common/invalidation.js';
import { fencedLock, StaleLock } from '../../common/locks.js';
import { RedisChannels } from '../../coordination/channels.js';
import { RedisLocks } from '../../coordination/redis-locks.js';
import type { HearthConfig } from '../../config/types.js';
import { createPgPool, type PgPool } from '../../engines/postgres.js';
import { createRedisConnections } from '../../engines/redis.js';
import { blobStoreArea } from '../../files/blobs/engine.js';
import { ObjectCodeBlobs, PgCodeBlobs, type CodeBlobs } from './code-blobs.js';
import { SharedAppCodeStore } from './shared-store.js';

let own: PgStateServer | null = null;
let base: string;
const pools: PgPool[] = [];
let n = 0;
const tag = `${process.pid}_${Date.now().toString(36)}`;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'hearth-shared-code-'));
  if (!process.env.TEST_PG_URL) own = await startPgState();
}, 120_000);
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await own?.close();
  rmSync(base, { recursive: true, force: true });
});

/** A pool on `url` (a process's), closed at the end. */
function poolOn(url: string): PgPool {
  const pool = createPgPool({ url, max: 4, name: 'test' });
  pools.push(pool);
  return pool;
}

/** A fresh database's URL. */
const newDatabase = async (): Promise<string> => own ? await own.database() : createTestDatabase(process.env.TEST_PG_URL!, `appcode_${tag}_${n++}`);

/** A fresh database, with a pool on it. */
async function database(): Promise<PgPool> {
  return poolOn(await newDatabase());
}

const where = process.env.TEST_BLOBS ? (JSON.parse(process.env.TEST_BLOBS) as HearthConfig['blobs']) : null;
/** S3 has no container prefix: a bucket of its own per prefix, so that the orphan sweep sees this test's blobs only. */
const bucketOf = (prefix: string) => `t-${prefix}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 60).replace(/-+$/, '');
const blobsOn = (pool: PgPool, prefix: string): CodeBlobs => where
  ? new ObjectCodeBlobs(blobStoreArea({ ...where, swift: { ...where.swift, containerPrefix: prefix }, s3: { ...where.s3, bucket: bucketOf(prefix) } }, base, 'apps-code'))
  : new PgCodeBlobs(pool);
const storeOn = (pool: PgPool, prefix: string, invalidation = new InProcessInvalidation()) =>
  new SharedAppCodeStore({ pool, blobs: blobsOn(pool, prefix), localDir: mkdtempSync(join(base, 'local-')), invalidation });

const engine = where ? `PostgreSQL + ${where.engine}` : 'PostgreSQL';
describeAppCodeStore(engine, async () => storeOn(await database(), `t_code_${tag}_${n}_`), (store) => store.close());

describe(`SharedAppCodeStore (${engine}): two processes`, () => {
  it('a version written by one is served and materialized by the other; gc in one is heard by the other', async () => {
    const pool = await database();
    const bus = new InProcessInvalidation();
    const prefix = `t_code2_${tag}_`;
    const [a, b] = [storeOn(pool, prefix, bus), storeOn(pool, prefix, bus)];
    const key = sha('two-processes');
    expect(await a.acquire({ instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: key }, fillWith(APP_FILES))).toEqual({ written: true });
    expect(await b.acquire({ instanceId: 'i2', kind: 'webapp', slug: 'drive', sha256: key }, fillWith({}))).toEqual({ written: false });
    // b reads it twice: from the store, then from its memory
    for (let i = 0; i < 2; i++) expect((await buffer((await b.read(key, 'index.html', null))!)).toString()).toBe(APP_FILES['index.html']);
    expect(readFileSync(join(await b.materialize(key), 'js/app.0123456789ab.js'), 'utf8')).toBe(APP_FILES['js/app.0123456789ab.js']);
    await a.releaseInstance('i1');
    await b.releaseInstance('i2');
    expect(await a.gc()).toEqual([key]);
    // b had it in memory: the invalidation made it forget
    expect(await b.has(key)).toBe(false);
    expect(await b.read(key, 'index.html', null)).toBeNull();
    await Promise.all([a.close(), b.close()]);
  });

  it('without a shared invalidation (no Redis), a version another process collected is forgotten once its copy is old', async () => {
    const pool = await database();
    const prefix = `t_code6_${tag}_`;
    // each process its own in-process invalidation: the message of a gc in one never reaches the other
    const a = storeOn(pool, prefix);
    const b = new SharedAppCodeStore({ pool, blobs: blobsOn(pool, prefix), localDir: mkdtempSync(join(base, 'local-')), trustMs: 50 });
    const key = sha('no-redis');
    await a.acquire({ instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: key }, fillWith(APP_FILES));
    expect((await buffer((await b.read(key, 'index.html', null))!)).toString()).toBe(APP_FILES['index.html']);
    await a.releaseInstance('i1');
    expect(await a.gc()).toEqual([key]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await b.has(key)).toBe(false);
    expect(await b.read(key, 'index.html', null)).toBeNull();
    expect(await b.index(key)).toBeNull();
    await Promise.all([a.close(), b.close()]);
  });

  it('two processes writing one version at once store it once, and both references stay', async () => {
    const pool = await database();
    const prefix = `t_code3_${tag}_`;
    const [a, b] = [storeOn(pool, prefix), storeOn(pool, prefix)];
    const key = sha('race');
    const results = await Promise.all([
      a.acquire({ instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: key }, fillWith(APP_FILES)),
      b.acquire({ instanceId: 'i2', kind: 'webapp', slug: 'drive', sha256: key }, fillWith(APP_FILES)),
    ]);
    expect(results.filter((r) => r.written)).toHaveLength(1);
    expect((await a.refs({ sha256: key })).map((r) => r.instanceId)).toEqual(['i1', 'i2']);
    for (const store of [a, b]) expect((await buffer((await store.read(key, 'index.html', 'gzip'))!)).length).toBeGreaterThan(0);
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM hearth.app_code_versions');
    expect(Number(rows[0]!.n)).toBe(1);
    await Promise.all([a.close(), b.close()]);
  });
});

describe(`SharedAppCodeStore (${engine}): the install lock's fence`, () => {
  it('an install paused past its lease, whose lock the next install took, neither drops the reference the other took nor adds one', async () => {
    const LEASE_MS = 300;
    const redis = await startRedis();
    const lockPrefix = `c${randomUUID().slice(0, 8)}:`;
    // two processes: each its store, its Redis connection and its locks
    const conns = [createRedisConnections(redis.url, lockPrefix, 'a'), createRedisConnections(redis.url, lockPrefix, 'b')];
    try {
      await Promise.all(conns.map((r) => once(r.commands, 'ready')));
      const [lockA, lockB] = conns.map((r) => new RedisLocks(new RedisChannels(r), { leaseMs: LEASE_MS })) as [RedisLocks, RedisLocks];
      const pool = await database();
      const prefix = `t_code7_${tag}_`;
      const [a, b] = [storeOn(pool, prefix), storeOn(pool, prefix)];
      const key = sha('fenced');
      const ref = { instanceId: 'i1', kind: 'webapp' as const, slug: 'drive', sha256: key };
      // the version is stored (another instance installed it, then removed it): nothing names it yet
      await a.acquire({ ...ref, instanceId: 'i0' }, fillWith(APP_FILES));
      await a.releaseInstance('i0');
      const LOCK = 'apps:i1:webapp:drive';
      let paused!: () => void;
      const isPaused = new Promise<void>((resolve) => (paused = resolve));
      let resume!: () => void;
      const gate = new Promise<void>((resolve) => (resume = resolve));
      const stale = fencedLock(lockA, LOCK, async () => {
        await a.begin({ id: 'install-a', domain: 'i1.test', op: 'install', undo: null, ...ref });
        // the process stands still past its lease (its event loop blocked: no renewal), as a paused one
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, LEASE_MS * 2);
        paused();
        await gate;
        // its install failed meanwhile: its undo drops the reference, then it would begin another version
        const outcomes = await Promise.allSettled([a.release(ref), a.begin({ id: 'install-a2', domain: 'i1.test', op: 'install', undo: null, ...ref, sha256: sha('other') })]);
        return outcomes.map((o) => (o.status === 'rejected' ? o.reason : o.value) as unknown);
      });
      await isPaused;
      // the next install takes the lock once the lease ended, and begins on the same version (its reference is there)
      await fencedLock(lockB, LOCK, () => b.begin({ id: 'install-b', domain: 'i1.test', op: 'install', undo: null, ...ref }));
      resume();
      const [released, begun] = await stale;
      expect(released).toBeInstanceOf(StaleLock);
      expect(begun).toBeInstanceOf(StaleLock);
      expect(await b.refs({ instanceId: 'i1' })).toEqual([ref]);
      expect((await b.inFlight()).map((i) => i.id).sort()).toEqual(['install-a', 'install-b']);
      // so gc keeps the version the next install runs
      expect(await b.gc()).toEqual([]);
      expect(readFileSync(join(await b.materialize(key), 'index.html'), 'utf8')).toBe(APP_FILES['index.html']);
      // and the next holder's writes go on
      expect(await fencedLock(lockB, LOCK, () => b.release(ref))).toBe(true);
      for (const l of [lockA, lockB]) l.close();
      await Promise.all([a.close(), b.close()]);
    } finally {
      await Promise.all(conns.map((r) => r.close()));
      await redis.stop();
    }
  });
});

describe(`SharedAppCodeStore (${engine}): blobs a crash left behind`, () => {
  /** Every key the blobs hold. */
  async function keysOf(blobs: CodeBlobs): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of blobs.keys()) keys.push(key);
    return keys;
  }

  it('gc sweeps blobs no version names, never while a write holds its lease, and keeps every stored version whole', async () => {
    const pool = await database();
    const blobs = blobsOn(pool, `t_code4_${tag}_`);
    const store = new SharedAppCodeStore({ pool, blobs, localDir: mkdtempSync(join(base, 'local-')) });
    const key = sha('orphans');
    await store.acquire({ instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: key }, fillWith(APP_FILES));
    const stored = await keysOf(blobs);
    // what a process killed between its uploads and its row leaves: blobs no version names
    const file = join(base, `orphan-${n}`);
    writeFileSync(file, 'left by a crash');
    const orphans = [await blobs.put(file), await blobs.put(file)];
    // another process's write is under way: its lease keeps the sweep away
    await pool.query("INSERT INTO hearth.app_code_writes (id, expires_at) VALUES ('other', now() + interval '1 hour')");
    expect(await store.gc()).toEqual([]);
    expect(await keysOf(blobs)).toEqual(expect.arrayContaining(orphans));
    // that process was killed: its lease expires, and the next sweep removes the orphans only
    await pool.query("UPDATE hearth.app_code_writes SET expires_at = now() - interval '1 second'");
    expect(await store.sweepOrphans()).toBe(2);
    expect((await keysOf(blobs)).sort()).toEqual([...stored].sort());
    const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM hearth.app_code_writes');
    expect(Number(rows[0]!.n)).toBe(0);
    // the version is whole, read by a process that has nothing of it in memory
    const other = new SharedAppCodeStore({ pool, blobs: blobsOn(pool, `t_code4_${tag}_`), localDir: mkdtempSync(join(base, 'local-')) });
    expect(readFileSync(join(await other.materialize(key), 'js/app.0123456789ab.js'), 'utf8')).toBe(APP_FILES['js/app.0123456789ab.js']);
    await Promise.all([store.close(), other.close()]);
  });

  it('the sweeps of processes starting together never fail (one sweeps, the others skip: no deadlock, no wait)', async () => {
    // three processes on one database: a pool each
    const url = await newDatabase();
    const prefix = `t_code6_${tag}_`;
    const stores = [0, 1, 2].map(() => storeOn(poolOn(url), prefix));
    await stores[0]!.sweepOrphans(); // the schema made once
    for (let round = 0; round < 20; round++) {
      const results = await Promise.allSettled(stores.map((s) => s.sweepOrphans()));
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    }
    await Promise.all(stores.map((s) => s.close()));
  });

  it('a sweep during a write leaves the write whole', async () => {
    const pool = await database();
    const store = storeOn(pool, `t_code5_${tag}_`);
    const key = sha('write-under-way');
    let filled!: () => void;
    let started!: () => void;
    const isStarted = new Promise<void>((resolve) => (started = resolve));
    const gate = new Promise<void>((resolve) => (filled = resolve));
    const writing = store.acquire({ instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: key }, async (add) => {
      started();
      await gate;
      await fillWith(APP_FILES)(add);
    });
    await isStarted;
    expect(await store.sweepOrphans()).toBe(0);
    filled();
    expect(await writing).toEqual({ written: true });
    expect(await store.sweepOrphans()).toBe(0);
    expect((await buffer((await store.read(key, 'index.html', 'gzip'))!)).length).toBeGreaterThan(0);
    await store.close();
  });
});

describe(`SharedAppCodeStore (${engine}): the owners of install intents`, () => {
  const LEASE_MS = 300;
  const intentOf = (i: number) => ({ id: `lease-${i}`, domain: `d${i}.example`, instanceId: `i${i}`, kind: 'webapp' as const, slug: 'app', sha256: sha(`lease-${i}`), op: 'uninstall' as const, undo: null });

  it('a live owner\'s intents are never taken; once its renewals stop, each is taken by one process only, however many claim at once', async () => {
    const url = await newDatabase();
    const pool = poolOn(url);
    const prefix = `t_lease_${tag}_`;
    const owner = new SharedAppCodeStore({ pool, blobs: blobsOn(pool, prefix), localDir: mkdtempSync(join(base, 'local-')), intentLeaseMs: LEASE_MS });
    const others = [0, 1, 2].map(() => new SharedAppCodeStore({ pool: poolOn(url), blobs: blobsOn(pool, prefix), localDir: mkdtempSync(join(base, 'local-')), intentLeaseMs: LEASE_MS }));
    const ids = Array.from({ length: 30 }, (_, i) => intentOf(i).id);
    for (let i = 0; i < ids.length; i++) await owner.begin(intentOf(i));
    // three leases: the owner renews meanwhile
    for (let round = 0; round < 6; round++) {
      expect((await Promise.all(others.map((s) => s.claimIntents()))).flat()).toEqual([]);
      await new Promise((r) => setTimeout(r, LEASE_MS / 2));
    }
    await owner.close(); // no more renewals: as a killed process
    await new Promise((r) => setTimeout(r, LEASE_MS + 100));
    const taken = await Promise.all(others.map(async (s) => {
      const mine: string[] = [];
      for (let batch = await s.claimIntents(4); batch.length > 0; batch = await s.claimIntents(4)) mine.push(...batch.map((x) => x.id));
      return mine;
    }));
    expect(taken.flat().sort()).toEqual([...ids].sort());
    expect(new Set(taken.flat()).size).toBe(ids.length);
    // the takers renew them in turn: nobody takes them again
    await new Promise((r) => setTimeout(r, LEASE_MS * 2));
    expect((await Promise.all(others.map((s) => s.claimIntents()))).flat()).toEqual([]);
    await Promise.all(others.map((s, i) => s.end(taken[i]!)));
    expect(await others[0]!.inFlight()).toEqual([]);
    await Promise.all(others.map((s) => s.close()));
  });

  it('on a database of the previous version, its intents are taken at once, and those its processes still write get ten minutes', async () => {
    const pool = await database();
    // the table as the previous version made it, with an intent a stop left
    await pool.query(`CREATE SCHEMA IF NOT EXISTS hearth;
      CREATE TABLE hearth.app_installs (id text PRIMARY KEY, instance_id text NOT NULL, domain text NOT NULL, kind text NOT NULL,
        slug text NOT NULL, sha256 text NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp(), op text NOT NULL DEFAULT 'install', undo text)`);
    const insertOld = (i: number) => pool.query(`INSERT INTO hearth.app_installs (id, instance_id, domain, kind, slug, sha256, op) VALUES ($1, $2, $3, 'webapp', 'app', $4, 'uninstall')`,
      [intentOf(i).id, intentOf(i).instanceId, intentOf(i).domain, intentOf(i).sha256]);
    await insertOld(100);
    const store = storeOn(pool, `t_lease_old_${tag}_`);
    expect(await store.claimIntents()).toEqual([intentOf(100)]);
    // a process of the previous version, still running during a rolling upgrade, names no owner nor lease
    await insertOld(101);
    expect(await store.claimIntents()).toEqual([]);
    expect((await store.inFlight()).map((x) => x.id)).toEqual([intentOf(100).id, intentOf(101).id]);
    await store.end([intentOf(100).id, intentOf(101).id]);
    await store.close();
  });
});
