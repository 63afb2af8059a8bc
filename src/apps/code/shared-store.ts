/**
 * The app code store shared by several `hearth` processes (docs.engine postgres): the references and the index of
 * each version (its files, sizes, hashes, compressed sizes and the keys of their bytes) in PostgreSQL's schema
 * `hearth`, the bytes in the object store (blobs.engine swift or s3) or in a PostgreSQL table (local blobs):
 * ./code-blobs.ts. A version is written as the local engine writes it (./version-writer.ts, in a folder of this
 * machine, compressed on the way), its files uploaded under fresh keys, then its index row inserted: nothing reads a
 * version before that row, so a crash in the middle leaves only unnamed blobs. Two processes writing one version at
 * once both upload, the first row wins and the other removes its blobs.
 *
 * An instance's reference is added, and gc removes a version no reference names, each in a transaction holding the
 * advisory lock of the version's sha256, so a version is never collected under a reference just added to it.
 * References are added and dropped under the installer's lock of the app (apps/install): on Redis that lock is leased
 * and fenced (common/locks.ts), and these writes check its fence in their transaction (table app_code_fences, as the
 * document stores' `fences`): an install paused past its lease, whose lock another install took and wrote under since,
 * neither drops the reference the other took (its undo would have let gc collect the code the other runs) nor adds one.
 * The end of an install's intent is not fenced: it removes the install's own row (its id), nobody else's.
 *
 * An intent (table app_installs) has an owner, a random id of the process that began it (one per store, so per start),
 * and a lease (`lease_until`, on the database's clock: the processes' clocks are never compared). While a process holds
 * intents it renews all their leases in one UPDATE every quarter of a lease, without a flush of its own (a renewal a
 * crash loses only makes the lease end sooner). `claimIntents` takes intents whose lease ran out (their owner was
 * killed, or stopped) in one UPDATE over a FOR UPDATE SKIP LOCKED pick: two processes never take the same one, and a
 * renewal that meets a claim waits for it and then finds the row another's. A process never takes its own intents (a
 * lease of a live process that ran out because its renewals came late, under load, is still its own operation's);
 * `releaseIntents` gives one back to anyone, itself included, by leaving it without an owner. The table holds only the operations under
 * way (a handful): no index, so the renewals stay HOT updates. Rows a previous version left have no owner and an ended
 * lease (the first claim takes them, as that version's next start would have); rows that a process of the previous
 * version writes during a rolling upgrade (it names no lease) get ten minutes before anyone takes them.
 *
 * Blobs no version names (a process killed between its uploads and its row, or between gc's row and its removals)
 * are swept by gc at most once an hour per process: a write holds a lease row (app_code_writes) from before its first
 * upload until after its row, and the sweep, holding the lease table against new writes, runs only when no lease is
 * alive (a lease outlives a killed writer by an hour at most).
 *
 * Each process keeps the indexes and the small files it served in memory (versions are immutable: only their removal
 * by gc, which any process may run, needs telling: through the coordination's Invalidation, and, should that message
 * be missed (no Redis, a reconnection), by looking at the version's row again when its copy is over 5 s old) and the
 * raw files it ran (`materialize`) in `<localDir>/run`, a cache emptied at start.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { InsufficientStorage, NotFound, isDiskFull } from '../../common/errors.js';
import type { Invalidation } from '../../common/invalidation.js';
import { currentFence, InProcessLocks, type Locks } from '../../common/locks.js';
import { checkFence } from '../../data/postgres/schema.js';
import { inTransaction, type PgClient, type PgPool } from '../../engines/postgres.js';
import { PgSchema } from '../../engines/pg-schema.js';
import type { AppKind } from '../types.js';
import { bytesOf, type CodeBlobs } from './code-blobs.js';
import {
  SHA256_RE, checkRef, toIntent, type AddFile, type AppCodeStore, type CodeIndex, type CodeRef, type Encoding, type InstallIntent, type IntentRow, type StoredFile,
} from './store.js';
import { INDEX, SUB, VersionWriter } from './version-writer.js';

/** The Invalidation topic of app code (key: the sha256 of a version removed by gc). */
export const APPS_CODE_TOPIC = 'apps-code';
const INDEX_CACHE = 64;
/** Files kept in memory: each at most FILE_CACHE_MAX bytes, all together at most BYTES_CACHE. */
const FILE_CACHE_MAX = 1024 * 1024;
const BYTES_CACHE = 64 * 1024 * 1024;
/** How long a version kept in memory is trusted without looking at its row (README: caches are never trusted more than 5 s without Redis). */
const TRUST_MS = 5000;
/** Uploads at once while a version is written. */
const PARALLEL = 4;

const DDL = `
CREATE TABLE IF NOT EXISTS hearth.app_code_refs (instance_id text NOT NULL, kind text NOT NULL, slug text NOT NULL, sha256 text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (instance_id, kind, slug, sha256));
CREATE INDEX IF NOT EXISTS app_code_refs_sha256 ON hearth.app_code_refs (sha256);
CREATE TABLE IF NOT EXISTS hearth.app_code_versions (sha256 text PRIMARY KEY, files jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS hearth.app_code_writes (id text PRIMARY KEY, expires_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS hearth.app_installs (id text PRIMARY KEY, instance_id text NOT NULL, domain text NOT NULL, kind text NOT NULL,
  slug text NOT NULL, sha256 text NOT NULL, created_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE IF NOT EXISTS hearth.app_code_fences (key text PRIMARY KEY, token bigint NOT NULL);
ALTER TABLE hearth.app_installs ADD COLUMN IF NOT EXISTS op text NOT NULL DEFAULT 'install';
ALTER TABLE hearth.app_installs ADD COLUMN IF NOT EXISTS undo text;
ALTER TABLE hearth.app_installs ADD COLUMN IF NOT EXISTS owner text;
ALTER TABLE hearth.app_installs ADD COLUMN IF NOT EXISTS lease_until timestamptz NOT NULL DEFAULT '-infinity';
ALTER TABLE hearth.app_installs ALTER COLUMN lease_until SET DEFAULT clock_timestamp() + interval '10 minutes';`;
/** How long a write's lease keeps the orphan sweep away (a write of a few MB takes seconds). */
const LEASE = '1 hour';
/** gc sweeps orphaned blobs at most this often in a process (they come only from crashes). */
const SWEEP_EVERY_MS = 60 * 60 * 1000;
/** Orphans removed per call of the blobs' remove. */
const SWEEP_BATCH = 100;
/** How long an intent stays its owner's without a renewal (config apps.intentLeaseSeconds). */
const INTENT_LEASE_MS = 20_000;
/** Intents taken per claim. */
const CLAIM_BATCH = 20;

type Variant = 'raw' | 'br' | 'gzip';
/** A file of a version's row: its index entry and the keys of its bytes. */
type FileRow = [string, StoredFile, Partial<Record<Variant, string>>];
/** `checkedAt`: when this process last saw the version's row (a gc in a process whose invalidation it missed). */
interface Version { index: CodeIndex; keys: Map<string, Partial<Record<Variant, string>>>; checkedAt: number }
interface RefRow { instance_id: string; kind: AppKind; slug: string; sha256: string }

const toRef = (r: RefRow): CodeRef => ({ instanceId: r.instance_id, kind: r.kind, slug: r.slug, sha256: r.sha256 });
const keysOf = (rows: FileRow[]): string[] => rows.flatMap(([, , keys]) => Object.values(keys));
const COLS = 'instance_id, kind, slug, sha256';

export interface SharedAppCodeStoreOptions {
  pool: PgPool;
  blobs: CodeBlobs;
  /** A folder of this machine for downloads, versions being written and materialized versions (emptied at start). */
  localDir: string;
  locks?: Locks;
  invalidation?: Invalidation;
  /** How long a version kept in memory is trusted before its row is looked at again (default 5 s): an invalidation can be missed (no Redis, a reconnection). */
  trustMs?: number;
  /** How long an intent stays this process's without a renewal (default 20 s); renewed every quarter of it. */
  intentLeaseMs?: number;
}

export class SharedAppCodeStore implements AppCodeStore {
  readonly scratchDir: string;
  private readonly runDir: string;
  private readonly schema: PgSchema;
  private readonly locks: Locks;
  /** Materializing is per machine: this process's lock is enough. */
  private readonly runLocks = new InProcessLocks();
  private readonly versions = new Map<string, Version>();
  private readonly files = new Map<string, Buffer>();
  private cachedBytes = 0;
  private lastSweep = 0;
  private readonly unlisten: () => void;
  /** This process as the owner of intents, and the intents it holds (begun or taken, not ended nor released). */
  private readonly owner = randomUUID();
  private readonly held = new Set<string>();
  private renewing: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly leaseMs: number;
  readonly intentSweepMs: number;

  constructor(private readonly opts: SharedAppCodeStoreOptions) {
    this.scratchDir = join(opts.localDir, 'tmp');
    this.runDir = join(opts.localDir, 'run');
    for (const dir of [this.scratchDir, this.runDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
    }
    this.schema = new PgSchema(opts.pool, DDL);
    this.leaseMs = opts.intentLeaseMs ?? INTENT_LEASE_MS;
    this.intentSweepMs = this.leaseMs / 2;
    this.locks = opts.locks ?? new InProcessLocks();
    this.unlisten = opts.invalidation?.listen(APPS_CODE_TOPIC, (sha256) => this.forget(sha256)) ?? (() => undefined);
  }

  private async query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    await this.schema.ready();
    return (await this.opts.pool.query<R>(sql, params)).rows;
  }

  async acquire(ref: CodeRef, fill: (add: AddFile) => Promise<void>): Promise<{ written: boolean }> {
    checkRef(ref);
    await this.schema.ready();
    // the reference, and whether the version is stored, under the lock gc takes to remove it
    const { added, stored } = await this.refsWrite(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`apps-code:${ref.sha256}`]);
      const ins = await c.query(`INSERT INTO hearth.app_code_refs (${COLS}) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [ref.instanceId, ref.kind, ref.slug, ref.sha256]);
      const found = await c.query('SELECT 1 FROM hearth.app_code_versions WHERE sha256 = $1', [ref.sha256]);
      return { added: ins.rowCount === 1, stored: found.rowCount === 1 };
    });
    if (stored) return { written: false };
    // one writer per version in this process (in the cluster with the Redis locks; without them the first row wins)
    return this.locks.withLock(`apps-code:${ref.sha256}`, async () => {
      if (await this.has(ref.sha256)) return { written: false };
      try {
        return { written: await this.write(ref.sha256, fill) };
      } catch (err) {
        if (added) await this.release(ref);
        throw isDiskFull(err) ? new InsufficientStorage() : err;
      }
    });
  }

  /** Writes the version locally, uploads its files, then inserts its row; false if another process's row came first. */
  private async write(sha256: string, fill: (add: AddFile) => Promise<void>): Promise<boolean> {
    const writer = new VersionWriter(join(this.scratchDir, `${sha256}-${randomUUID()}`));
    const rows: FileRow[] = [];
    const lease = randomUUID();
    await this.query(`INSERT INTO hearth.app_code_writes (id, expires_at) VALUES ($1, now() + interval '${LEASE}')`, [lease]);
    try {
      await writer.start();
      await fill(writer.add);
      await writer.finish();
      const files = (JSON.parse(await readFile(join(writer.dir, INDEX), 'utf8')) as { files: Array<[string, StoredFile]> }).files;
      const uploads = files.flatMap(([path, file]) => {
        const row: FileRow = [path, file, {}];
        rows.push(row);
        return (['raw', 'br', 'gzip'] as const).filter((v) => v === 'raw' || file[v] !== null).map((v) => async () => {
          row[2][v] = await this.opts.blobs.put(join(writer.dir, SUB[v], path));
        });
      });
      for (let i = 0; i < uploads.length; i += PARALLEL) await Promise.all(uploads.slice(i, i + PARALLEL).map((up) => up()));
      const inserted = await this.query<{ sha256: string }>(
        'INSERT INTO hearth.app_code_versions (sha256, files) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING sha256', [sha256, JSON.stringify(rows)]);
      if (inserted.length === 0) await this.opts.blobs.remove(keysOf(rows));
      return inserted.length === 1;
    } catch (err) {
      await this.opts.blobs.remove(keysOf(rows)).catch(() => undefined);
      throw err;
    } finally {
      await writer.abort();
      await this.query('DELETE FROM hearth.app_code_writes WHERE id = $1', [lease]).catch(() => undefined);
    }
  }

  async begin(intent: InstallIntent, opts: { ordered?: boolean } = {}): Promise<void> {
    checkRef({ ...intent, sha256: intent.op === 'install' ? intent.sha256 : intent.sha256 || '0'.repeat(64) });
    // the reference under the lock gc takes to remove its version (as acquire adds it); fenced like the other writes
    await this.refsWrite(async (c) => {
      // ordered: the operation's next commit in this database flushes this one with it (store.ts begin)
      if (opts.ordered) await c.query(`SELECT set_config('synchronous_commit', 'off', true)`);
      if (intent.op === 'install') {
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`apps-code:${intent.sha256}`]);
        await c.query(`INSERT INTO hearth.app_code_refs (${COLS}) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [intent.instanceId, intent.kind, intent.slug, intent.sha256]);
      }
      await c.query(`INSERT INTO hearth.app_installs (id, domain, op, undo, ${COLS}, owner, lease_until)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, clock_timestamp() + $10 * interval '1 millisecond')`,
        [intent.id, intent.domain, intent.op, intent.undo, intent.instanceId, intent.kind, intent.slug, intent.sha256, this.owner, this.leaseMs]);
    });
    this.hold([intent.id]);
  }

  async end(ids: readonly string[]): Promise<void> {
    // without its flush (synchronous_commit off for its own transaction), as the interface allows: an intent a crash
    // brings back is finished again, which changes nothing
    if (ids.length) await this.query(`DELETE FROM hearth.app_installs WHERE id = ANY($1::text[]) AND set_config('synchronous_commit', 'off', true) IS NOT NULL`, [ids]);
    this.unhold(ids);
  }

  async claimIntents(limit = CLAIM_BATCH): Promise<InstallIntent[]> {
    const rows = await this.query<RefRow & IntentRow & { created_at: Date }>(`UPDATE hearth.app_installs
      SET owner = $1, lease_until = clock_timestamp() + $2 * interval '1 millisecond'
      WHERE id IN (SELECT id FROM hearth.app_installs WHERE lease_until < clock_timestamp() AND owner IS DISTINCT FROM $1
        ORDER BY created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING id, domain, op, undo, created_at, ${COLS}`, [this.owner, this.leaseMs, limit]);
    rows.sort((a, b) => a.created_at.getTime() - b.created_at.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.hold(rows.map((r) => r.id));
    return rows.map((r) => ({ ...toIntent(r), ...toRef(r) }));
  }

  async releaseIntents(ids: readonly string[]): Promise<void> {
    this.unhold(ids);
    if (ids.length) await this.query(`UPDATE hearth.app_installs SET owner = NULL, lease_until = '-infinity' WHERE id = ANY($1::text[]) AND owner = $2`, [ids, this.owner]);
  }

  /** Renews the leases of every intent this process holds: one statement, without its own flush. */
  private async renew(): Promise<void> {
    await this.query(`UPDATE hearth.app_installs SET lease_until = clock_timestamp() + $2 * interval '1 millisecond'
      WHERE owner = $1 AND set_config('synchronous_commit', 'off', true) IS NOT NULL`, [this.owner, this.leaseMs]);
  }

  private hold(ids: readonly string[]): void {
    for (const id of ids) this.held.add(id);
    // a renewal that failed (the database away a moment) is tried again at the next tick, within the lease
    if (ids.length > 0 && !this.closed) this.renewing ??= setInterval(() => void this.renew().catch(() => undefined), this.leaseMs / 4).unref();
  }

  private unhold(ids: readonly string[]): void {
    for (const id of ids) this.held.delete(id);
    if (this.held.size === 0 && this.renewing) {
      clearInterval(this.renewing);
      this.renewing = null;
    }
  }

  async inFlight(): Promise<InstallIntent[]> {
    const rows = await this.query<RefRow & IntentRow>(`SELECT id, domain, op, undo, ${COLS} FROM hearth.app_installs ORDER BY created_at, id`);
    return rows.map((r) => ({ ...toIntent(r), ...toRef(r) }));
  }

  async has(sha256: string): Promise<boolean> {
    if (!SHA256_RE.test(sha256)) return false;
    if (this.fresh(this.versions.get(sha256))) return true;
    return (await this.query('SELECT 1 FROM hearth.app_code_versions WHERE sha256 = $1', [sha256])).length === 1;
  }

  async release(ref: CodeRef): Promise<boolean> {
    const gone = await this.refsWrite((c) => c.query('DELETE FROM hearth.app_code_refs WHERE instance_id = $1 AND kind = $2 AND slug = $3 AND sha256 = $4',
      [ref.instanceId, ref.kind, ref.slug, ref.sha256]));
    return (gone.rowCount ?? 0) > 0;
  }

  /**
   * A write of the references in a transaction: under a leased lock (the installer's), its fence is checked first, so
   * that the write is refused (StaleLock, 503) if a later holder of the lock wrote the references since.
   */
  private async refsWrite<T>(fn: (c: PgClient) => Promise<T>): Promise<T> {
    await this.schema.ready();
    const fence = currentFence();
    return inTransaction(this.opts.pool, async (c) => {
      if (fence) await checkFence(c, 'hearth', fence, 'app_code_fences');
      return fn(c);
    });
  }

  async releaseInstance(instanceId: string): Promise<number> {
    return (await this.query('DELETE FROM hearth.app_code_refs WHERE instance_id = $1 RETURNING 1', [instanceId])).length;
  }

  async refs(filter: { instanceId?: string; sha256?: string }): Promise<CodeRef[]> {
    const order = `ORDER BY instance_id COLLATE "C", kind COLLATE "C", slug COLLATE "C", sha256 COLLATE "C"`;
    const rows = await this.query<RefRow>(`SELECT ${COLS} FROM hearth.app_code_refs
      WHERE ($1::text IS NULL OR instance_id = $1) AND ($2::text IS NULL OR sha256 = $2) ${order}`, [filter.instanceId ?? null, filter.sha256 ?? null]);
    return rows.map(toRef);
  }

  async gc(): Promise<string[]> {
    const unused = await this.query<{ sha256: string }>(`SELECT sha256 FROM hearth.app_code_versions v
      WHERE NOT EXISTS (SELECT 1 FROM hearth.app_code_refs r WHERE r.sha256 = v.sha256)`);
    const removed: string[] = [];
    for (const { sha256 } of unused) {
      // under the lock acquire takes: a reference added before is seen, one added after finds no version and writes it
      const gone = await inTransaction(this.opts.pool, async (c) => {
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`apps-code:${sha256}`]);
        const { rows } = await c.query<{ files: FileRow[] }>(`DELETE FROM hearth.app_code_versions v WHERE sha256 = $1
          AND NOT EXISTS (SELECT 1 FROM hearth.app_code_refs r WHERE r.sha256 = v.sha256) RETURNING files`, [sha256]);
        return rows[0]?.files ?? null;
      });
      if (!gone) continue;
      this.forget(sha256);
      this.opts.invalidation?.invalidate(APPS_CODE_TOPIC, sha256);
      await this.opts.blobs.remove(keysOf(gone));
      removed.push(sha256);
    }
    if (Date.now() - this.lastSweep >= SWEEP_EVERY_MS) {
      this.lastSweep = Date.now();
      // skipped (another sweep, a write under way): tried again by the next gc
      if ((await this.sweep()) === null) this.lastSweep = 0;
    }
    return removed;
  }

  /** Removes the blobs no version names, unless a write or another sweep is under way; returns how many went. */
  async sweepOrphans(): Promise<number> {
    return (await this.sweep()) ?? 0;
  }

  /** null: not this time (the lease table was locked). */
  private async sweep(): Promise<number | null> {
    await this.schema.ready();
    return inTransaction(this.opts.pool, async (c) => {
      // no write starts (nor ends) until this commits; a write under way holds a live lease. SHARE ROW EXCLUSIVE, not
      // SHARE: it conflicts with itself (two SHARE holders each waited for the other's lock to DELETE below: "deadlock
      // detected"). NOWAIT: the lock held means another sweep runs or a write takes or drops its lease, and either way
      // this sweep has nothing to do now; it never waits (a start sweeps: it waited on the writes of the running
      // processes, up to lock_timeout, and failed then).
      try {
        await c.query('LOCK TABLE hearth.app_code_writes IN SHARE ROW EXCLUSIVE MODE NOWAIT');
      } catch (e) {
        if ((e as { code?: unknown }).code === '55P03') return null;
        throw e;
      }
      await c.query('DELETE FROM hearth.app_code_writes WHERE expires_at < now()');
      if ((await c.query('SELECT 1 FROM hearth.app_code_writes LIMIT 1')).rowCount) return 0;
      const { rows } = await c.query<{ key: string }>(`SELECT k.value AS key FROM hearth.app_code_versions v,
        jsonb_array_elements(v.files) f, jsonb_each_text(f->2) k`);
      const named = new Set(rows.map((r) => r.key));
      let orphans: string[] = [];
      let removed = 0;
      for await (const key of this.opts.blobs.keys()) {
        if (named.has(key)) continue;
        orphans.push(key);
        if (orphans.length === SWEEP_BATCH) {
          await this.opts.blobs.remove(orphans);
          removed += orphans.length;
          orphans = [];
        }
      }
      await this.opts.blobs.remove(orphans);
      return removed + orphans.length;
    });
  }

  private async version(sha256: string): Promise<Version | null> {
    if (!SHA256_RE.test(sha256)) return null;
    const cached = this.versions.get(sha256);
    if (cached && this.fresh(cached)) return cached;
    if (cached) {
      const seen = await this.query('SELECT 1 FROM hearth.app_code_versions WHERE sha256 = $1', [sha256]);
      if (seen.length === 1) {
        cached.checkedAt = Date.now();
        return cached;
      }
      this.forget(sha256);
      return null;
    }
    const [row] = await this.query<{ files: FileRow[] }>('SELECT files FROM hearth.app_code_versions WHERE sha256 = $1', [sha256]);
    if (!row) return null;
    const version: Version = { index: new Map(row.files.map(([p, f]) => [p, f])), keys: new Map(row.files.map(([p, , k]) => [p, k])), checkedAt: Date.now() };
    if (this.versions.size >= INDEX_CACHE) this.forget(this.versions.keys().next().value as string);
    this.versions.set(sha256, version);
    return version;
  }

  private fresh(version: Version | undefined): boolean {
    return version !== undefined && Date.now() - version.checkedAt < (this.opts.trustMs ?? TRUST_MS);
  }

  /** Drops what this process keeps of a version (gc removed it, here or in another process). */
  private forget(sha256: string): void {
    const version = this.versions.get(sha256);
    this.versions.delete(sha256);
    for (const keys of version?.keys.values() ?? []) {
      for (const key of Object.values(keys)) {
        const buf = this.files.get(key);
        if (buf) this.cachedBytes -= buf.length;
        this.files.delete(key);
      }
    }
  }

  async index(sha256: string): Promise<CodeIndex | null> {
    return (await this.version(sha256))?.index ?? null;
  }

  async read(sha256: string, path: string, encoding: Encoding): Promise<Readable | null> {
    const version = await this.version(sha256);
    const file = version?.index.get(path);
    const key = version?.keys.get(path)?.[encoding ?? 'raw'];
    if (!file || !key) return null;
    const cached = this.files.get(key);
    if (cached) return Readable.from([cached]);
    const body = await this.opts.blobs.get(key);
    if (body === null) return null;
    const size = encoding ? (file[encoding] ?? 0) : file.size;
    if (size > FILE_CACHE_MAX) return Buffer.isBuffer(body) ? Readable.from([body]) : body;
    const bytes = await bytesOf(body);
    this.keep(key, bytes);
    return Readable.from([bytes]);
  }

  private keep(key: string, bytes: Buffer): void {
    while (this.cachedBytes + bytes.length > BYTES_CACHE && this.files.size > 0) {
      const [oldest, buf] = this.files.entries().next().value as [string, Buffer];
      this.files.delete(oldest);
      this.cachedBytes -= buf.length;
    }
    this.files.set(key, bytes);
    this.cachedBytes += bytes.length;
  }

  async materialize(sha256: string): Promise<string> {
    const version = await this.version(sha256);
    if (!version) throw new NotFound(`the app code ${String(sha256).slice(0, 64)} is not stored`);
    const dir = join(this.runDir, sha256);
    if (await stat(dir).then(() => true, () => false)) return dir;
    return this.runLocks.withLock(sha256, async () => {
      if (await stat(dir).then(() => true, () => false)) return dir;
      const tmp = join(this.scratchDir, `run-${sha256}-${randomUUID()}`);
      try {
        for (const [path, keys] of version.keys) {
          const body = keys.raw ? await this.opts.blobs.get(keys.raw) : null;
          if (body === null) throw new NotFound(`the file ${path.slice(0, 200)} of the app code ${sha256} is missing`);
          await mkdir(dirname(join(tmp, path)), { recursive: true });
          await writeFile(join(tmp, path), await bytesOf(body));
        }
        await mkdir(tmp, { recursive: true });
        await rename(tmp, dir);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
      return dir;
    });
  }

  /** Stops renewing: the intents still held (a repair to try again) go to another process once their lease ends. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.renewing) clearInterval(this.renewing);
    this.renewing = null;
    this.unlisten();
    await this.opts.blobs.close();
  }
}
