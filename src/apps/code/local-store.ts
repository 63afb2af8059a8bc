/**
 * The local-disk engine of the app code store. Layout under `dir` (`<dataDir>/apps-code`):
 *
 *   .tmp/<sha256>-<uuid>/          a version being written, or being removed by gc (removed at start)
 *   .tmp/<name>                     a download being checked (scratchDir; removed at start)
 *   <sha[0:2]>/<sha256>/raw/<path>  the files as the package holds them (what `materialize` gives)
 *                      /br/<path>   brotli copies of the compressible files (when smaller)
 *                      /gz/<path>   gzip copies of the same
 *                      /index.json  every file with its size, sha256 and compressed sizes: written last
 *
 * A version is written in .tmp, every file and folder fsynced, then renamed into place: a crash leaves either
 * the whole version or nothing visible (the references recorded for a version never completed are dropped at the
 * next start). References live in a SQLite file (`apps-code.sqlite`: one small row per instance and version, WAL),
 * each durable when its call returns. An install adds its reference together with its intent (table `installs`, the
 * install journal of installs, updates and uninstalls: store.ts InstallIntent) in one commit, WITHOUT its fsync when
 * the machine's boot id is known (`begin`): the install's one fsync is then that of its app doc's commit in the
 * instance's docs.sqlite. A killed process loses no commit (the kernel holds what it wrote), so a kill leaves exactly
 * the installs then in flight to finish or undo; a machine crash may lose the tail of this file's WAL while the
 * instance's commit stays. The store tells the two apart by the boot id it records, durably, while open (`meta`
 * RUNNING, dropped at a clean close): found left open by another boot, it is `intentsLost` and `refsStale` (both
 * kept durably until cleared), and the start aligns every app of every instance with its doc (install/reconcile.ts)
 * and gives back the references the docs name (restoreCodeRefs) before gc removes anything. Updates and uninstalls
 * keep their intents' fsync. The intent is dropped without a wait once the install is durable.
 * A data directory of the versions that wrote references without their fsync (user_version 0), not closed cleanly
 * (no `apps-code.sqlite.clean`), is `refsStale` once: gc removes nothing until `restoreRefs` gave back the references
 * the app docs name (compose.ts). A removal is acknowledged once fsynced. Writing a
 * version, and gc removing it, hold the lock of its sha256 (common/locks.ts), so gc never takes away code that
 * a reference was just added for. Several processes on one data directory would need the scale-out Locks.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { InsufficientStorage, NotFound, isDiskFull } from '../../common/errors.js';
import { InProcessLocks, type Locks } from '../../common/locks.js';
import { closeDurableWal, durableWal, type WalSync } from '../../data/sqlite/wal-sync.js';
import type { AppKind } from '../types.js';
import {
  SHA256_RE, checkRef, toIntent, type AddFile, type AppCodeStore, type CodeIndex, type CodeRef, type Encoding, type InstallIntent, type IntentRow, type StoredFile,
} from './store.js';
import { INDEX, SUB, VersionWriter, fsyncAll } from './version-writer.js';

const TMP = '.tmp';
/** Indexes kept in memory (one per version served recently). */
const INDEX_CACHE = 64;

export interface LocalAppCodeStoreOptions {
  /** The code folder (`<dataDir>/apps-code`). */
  dir: string;
  /** The references' database (`<dataDir>/apps-code.sqlite`). */
  dbFile: string;
  locks?: Locks;
  /**
   * This boot of the machine (Linux's /proc/sys/kernel/random/boot_id, the default): an install's intent and reference are
   * then committed without their fsync (see `begin`). Null (unknown): every intent waits for its fsync, as before.
   */
  bootId?: string | null;
}

/** The machine's boot id (changes at each boot), or null where the system gives none. */
export function machineBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

interface RefRow {
  instance_id: string;
  kind: AppKind;
  slug: string;
  sha256: string;
}

/** meta keys: the boot of the process that has the store open (none once it closed), and that a machine crash lost intents. */
const RUNNING = 'running_boot_id';
const LOST = 'intents_lost';

/** user_version of a references database whose references are all durable (older ones wrote them without their fsync). */
const DURABLE_REFS = 1;

/** The store of a data directory: `<dataDir>/apps-code` and `<dataDir>/apps-code.sqlite` (what compose.ts constructs). */
export function openAppCodeStore(dataDir: string, locks?: Locks): LocalAppCodeStore {
  return new LocalAppCodeStore({ dir: join(dataDir, 'apps-code'), dbFile: join(dataDir, 'apps-code.sqlite'), locks });
}

const toRef = (r: RefRow): CodeRef => ({ instanceId: r.instance_id, kind: r.kind, slug: r.slug, sha256: r.sha256 });

export class LocalAppCodeStore implements AppCodeStore {
  /** How many leftovers of interrupted writes (or removals) were cleaned at start. */
  readonly cleaned: number;
  /** How many versions' references were dropped at start because their code was never completely written. */
  readonly dropped: number;
  readonly scratchDir: string;
  private readonly dir: string;
  private readonly db: Database.Database;
  private readonly wal: WalSync;
  private readonly locks: Locks;
  private readonly indexes = new Map<string, CodeIndex>();
  private readonly stmts;
  private stale: boolean;
  /**
   * The intents this process began or took (store.ts claimIntents): one process per data directory, so any other was
   * left by a stopped one. The lease, trivially: held while this process lives, over for every earlier process.
   */
  private readonly held = new Set<string>();
  /** Only intents whose resolution failed in this process come back (releaseIntents): looked for now and then. */
  readonly intentSweepMs = 60_000;
  private lost: boolean;
  private readonly bootId: string | null;
  private readonly setMeta: Database.Statement<[string, string]>;
  private readonly dropMeta: Database.Statement<[string]>;

  constructor(opts: LocalAppCodeStoreOptions) {
    this.dir = opts.dir;
    this.locks = opts.locks ?? new InProcessLocks();
    const tmp = join(this.dir, TMP);
    this.scratchDir = tmp;
    mkdirSync(tmp, { recursive: true, mode: 0o700 });
    const leftovers = readdirSync(tmp);
    for (const name of leftovers) rmSync(join(tmp, name), { recursive: true, force: true });
    this.cleaned = leftovers.length;
    const cleanFile = `${opts.dbFile}.clean`;
    const existed = existsSync(opts.dbFile);
    this.db = new Database(opts.dbFile);
    this.db.pragma('journal_mode = WAL');
    this.wal = durableWal(this.db);
    this.db.exec('CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
    const meta = this.db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck();
    this.bootId = opts.bootId === undefined ? machineBootId() : opts.bootId;
    // a process that committed intents without their fsync (RUNNING: its boot) and did not stop cleanly, on another
    // boot than this one: the machine stopped under it, and the tail of this file's WAL may be lost (a killed process
    // loses nothing: its commits were written, the kernel keeps them). Said durably until the app docs were read again
    const running = meta.get(RUNNING);
    if (running !== undefined && running !== this.bootId) {
      this.durably(() => {
        this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')").run(LOST);
        this.db.pragma('user_version = 0');
      });
    }
    this.lost = meta.get(LOST) === '1';
    this.stale = existed && this.db.pragma('user_version', { simple: true }) !== DURABLE_REFS && !existsSync(cleanFile);
    this.db.exec(`CREATE TABLE IF NOT EXISTS refs (
      instance_id TEXT NOT NULL, kind TEXT NOT NULL, slug TEXT NOT NULL, sha256 TEXT NOT NULL, created_at TEXT NOT NULL,
      PRIMARY KEY (instance_id, kind, slug, sha256)) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS refs_sha256 ON refs (sha256);
      CREATE TABLE IF NOT EXISTS installs (id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, domain TEXT NOT NULL, kind TEXT NOT NULL,
        slug TEXT NOT NULL, sha256 TEXT NOT NULL, created_at TEXT NOT NULL);`);
    // the columns of updates and uninstalls in the journal (a file of the versions that journaled installs only)
    const intentCols = this.db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('installs') as string[];
    if (!intentCols.includes('op')) this.db.exec("ALTER TABLE installs ADD COLUMN op TEXT NOT NULL DEFAULT 'install'; ALTER TABLE installs ADD COLUMN undo TEXT");
    if (!this.stale) this.db.pragma(`user_version = ${DURABLE_REFS}`);
    if (existsSync(cleanFile)) unlinkSync(cleanFile); // the marker of the older versions: user_version says it now
    this.setMeta = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.dropMeta = this.db.prepare('DELETE FROM meta WHERE key = ?');
    // this process's boot, durable before its first intent without an fsync
    this.durably(() => (this.bootId === null ? this.dropMeta.run(RUNNING) : this.setMeta.run(RUNNING, this.bootId)));
    const cols = 'instance_id, kind, slug, sha256';
    this.stmts = {
      add: this.db.prepare(`INSERT OR IGNORE INTO refs (${cols}, created_at) VALUES (?, ?, ?, ?, ?)`),
      drop: this.db.prepare('DELETE FROM refs WHERE instance_id = ? AND kind = ? AND slug = ? AND sha256 = ?'),
      dropInstance: this.db.prepare('DELETE FROM refs WHERE instance_id = ?'),
      byInstance: this.db.prepare<[string], RefRow>(`SELECT ${cols} FROM refs WHERE instance_id = ? ORDER BY kind, slug, sha256`),
      bySha: this.db.prepare<[string], RefRow>(`SELECT ${cols} FROM refs WHERE sha256 = ? ORDER BY instance_id, kind, slug`),
      all: this.db.prepare<[], RefRow>(`SELECT ${cols} FROM refs ORDER BY instance_id, kind, slug, sha256`),
      count: this.db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM refs WHERE sha256 = ?'),
      used: this.db.prepare<[], { sha256: string }>('SELECT DISTINCT sha256 FROM refs'),
      begin: this.db.prepare(`INSERT INTO installs (id, instance_id, domain, kind, slug, sha256, created_at, op, undo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      end: this.db.prepare('DELETE FROM installs WHERE id = ?'),
      inFlight: this.db.prepare<[], RefRow & IntentRow>(`SELECT id, domain, op, undo, ${cols} FROM installs ORDER BY created_at, id`),
    };
    // references whose code was never completed (the process died while writing it): the install failed
    const dropSha = this.db.prepare('DELETE FROM refs WHERE sha256 = ?');
    const dangling = this.stmts.used.all().filter((r) => !existsSync(join(this.codeDir(r.sha256), INDEX)));
    this.db.transaction(() => dangling.forEach((r) => dropSha.run(r.sha256)))();
    this.dropped = dangling.length;
  }

  /** Runs `fn` in one commit that waits for its fsync (synchronous = FULL: SQLite syncs the WAL in the COMMIT). */
  private durably(fn: () => unknown): void {
    this.db.pragma('synchronous = FULL');
    try {
      this.db.transaction(fn)();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  private codeDir(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  private lockKey(sha256: string): string {
    return `apps-code:${sha256}`;
  }

  async acquire(ref: CodeRef, fill: (add: AddFile) => Promise<void>): Promise<{ written: boolean }> {
    checkRef(ref);
    // the reference first, outside the lock: from now on gc, which counts references under the lock, leaves this
    // version alone. Durable before the caller names the version anywhere (an install's intent made it so already)
    const added = this.stmts.add.run(ref.instanceId, ref.kind, ref.slug, ref.sha256, new Date().toISOString()).changes === 1;
    if (added) await this.wal.sync();
    return this.locks.withLock(this.lockKey(ref.sha256), async () => {
      if (await this.has(ref.sha256)) return { written: false };
      try {
        await this.write(ref.sha256, fill);
        return { written: true };
      } catch (err) {
        if (added) {
          this.stmts.drop.run(ref.instanceId, ref.kind, ref.slug, ref.sha256);
          await this.wal.sync();
        }
        throw isDiskFull(err) ? new InsufficientStorage() : err;
      }
    });
  }

  /** Writes a version in a temporary folder, makes it durable, then renames it into place. */
  private async write(sha256: string, fill: (add: AddFile) => Promise<void>): Promise<void> {
    const writer = new VersionWriter(join(this.dir, TMP, `${sha256}-${randomUUID()}`));
    try {
      await writer.start();
      await fill(writer.add);
      await writer.finish();
      const final = this.codeDir(sha256);
      const shard = dirname(final);
      await mkdir(shard, { recursive: true });
      try {
        await rename(writer.dir, final);
      } catch (err) {
        // another process stored the same version meanwhile: its copy is as good as this one
        if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        await rm(writer.dir, { recursive: true, force: true });
      }
      await fsyncAll([shard, this.dir]);
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }

  async begin(intent: InstallIntent): Promise<void> {
    checkRef({ ...intent, sha256: intent.op === 'install' ? intent.sha256 : intent.sha256 || '0'.repeat(64) });
    const at = new Date().toISOString();
    this.db.transaction(() => {
      if (intent.op === 'install') this.stmts.add.run(intent.instanceId, intent.kind, intent.slug, intent.sha256, at);
      this.stmts.begin.run(intent.id, intent.instanceId, intent.domain, intent.kind, intent.slug, intent.sha256, at, intent.op, intent.undo);
    })();
    this.held.add(intent.id);
    // an install's is committed without its fsync when the boot is known: its one durable write is then the commit
    // of its app doc in the instance's database (installer.ts). A killed process loses no commit; a machine that stops
    // may lose this one while the instance's commit after it stays, and the next start then reads every instance's
    // app docs again (`intentsLost`, `refsStale`: journal.ts reconcile, restoreCodeRefs)
    if (intent.op !== 'install' || this.bootId === null) await this.wal.sync();
  }

  get intentsLost(): boolean {
    return this.lost;
  }

  async intentsRecovered(): Promise<void> {
    await this.wal.sync();
    this.durably(() => this.dropMeta.run(LOST));
    this.lost = false;
  }

  async end(ids: readonly string[]): Promise<void> {
    this.db.transaction(() => ids.forEach((id) => this.stmts.end.run(id)))();
    for (const id of ids) this.held.delete(id);
  }

  async claimIntents(limit = 20): Promise<InstallIntent[]> {
    const taken = (await this.inFlight()).filter((i) => !this.held.has(i.id)).slice(0, limit);
    for (const i of taken) this.held.add(i.id);
    return taken;
  }

  async releaseIntents(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.held.delete(id);
  }

  async inFlight(): Promise<InstallIntent[]> {
    return this.stmts.inFlight.all().map((r) => ({ ...toIntent(r), ...toRef(r) }));
  }

  async has(sha256: string): Promise<boolean> {
    if (!SHA256_RE.test(sha256)) return false;
    if (this.indexes.has(sha256)) return true;
    try {
      await stat(join(this.codeDir(sha256), INDEX));
      return true;
    } catch {
      return false;
    }
  }

  async release(ref: CodeRef): Promise<boolean> {
    const n = this.stmts.drop.run(ref.instanceId, ref.kind, ref.slug, ref.sha256).changes;
    await this.wal.sync();
    return n > 0;
  }

  async releaseInstance(instanceId: string): Promise<number> {
    const n = this.stmts.dropInstance.run(instanceId).changes;
    await this.wal.sync();
    return n;
  }

  async refs(filter: { instanceId?: string; sha256?: string }): Promise<CodeRef[]> {
    let rows: RefRow[];
    if (filter.instanceId !== undefined) rows = this.stmts.byInstance.all(filter.instanceId);
    else if (filter.sha256 !== undefined) rows = this.stmts.bySha.all(filter.sha256);
    else rows = this.stmts.all.all();
    if (filter.sha256 !== undefined) rows = rows.filter((r) => r.sha256 === filter.sha256);
    return rows.map(toRef);
  }

  get refsStale(): boolean {
    return this.stale;
  }

  async restoreRefs(refs: AsyncIterable<CodeRef[]>): Promise<number> {
    let added = 0;
    const at = new Date().toISOString();
    const insert = this.db.transaction((batch: CodeRef[]) => {
      for (const r of batch) added += this.stmts.add.run(r.instanceId, r.kind, r.slug, r.sha256, at).changes;
    });
    for await (const batch of refs) {
      batch.forEach(checkRef);
      insert(batch);
    }
    this.db.pragma(`user_version = ${DURABLE_REFS}`);
    await this.wal.sync();
    this.stale = false;
    return added;
  }

  async gc(): Promise<string[]> {
    if (this.stale) return [];
    const used = new Set(this.stmts.used.all().map((r) => r.sha256));
    const removed: string[] = [];
    for (const shard of await readdir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const sha256 of await readdir(join(this.dir, shard))) {
        if (!SHA256_RE.test(sha256) || used.has(sha256)) continue;
        await this.locks.withLock(this.lockKey(sha256), async () => {
          if ((this.stmts.count.get(sha256)?.n ?? 0) > 0) return;
          // out of sight at once (a rename), then deleted: a crash in between leaves only a .tmp leftover
          const trash = join(this.dir, TMP, `${sha256}-gc-${randomUUID()}`);
          this.indexes.delete(sha256);
          try {
            await rename(this.codeDir(sha256), trash);
          } catch (e) {
            // a concurrent collection (another instance's update released the same version) took it first
            if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
            throw e;
          }
          await rm(trash, { recursive: true, force: true });
          removed.push(sha256);
        });
      }
    }
    return removed;
  }

  async index(sha256: string): Promise<CodeIndex | null> {
    if (!SHA256_RE.test(sha256)) return null;
    const cached = this.indexes.get(sha256);
    if (cached) return cached;
    let text: string;
    try {
      text = await readFile(join(this.codeDir(sha256), INDEX), 'utf8');
    } catch {
      return null;
    }
    const index: CodeIndex = new Map((JSON.parse(text) as { files: Array<[string, StoredFile]> }).files);
    if (this.indexes.size >= INDEX_CACHE) this.indexes.delete(this.indexes.keys().next().value as string);
    this.indexes.set(sha256, index);
    return index;
  }

  async read(sha256: string, path: string, encoding: Encoding): Promise<Readable | null> {
    const file = (await this.index(sha256))?.get(path);
    if (!file || (encoding !== null && file[encoding] === null)) return null;
    return createReadStream(join(this.codeDir(sha256), SUB[encoding ?? 'raw'], path));
  }

  async materialize(sha256: string): Promise<string> {
    if (!(await this.has(sha256))) throw new NotFound(`the app code ${String(sha256).slice(0, 64)} is not stored`);
    return join(this.codeDir(sha256), SUB.raw);
  }

  async close(): Promise<void> {
    if (this.db.open && this.wal.failure === null) {
      // all it wrote is durable: a machine crash from now on loses nothing
      await this.wal.sync().then(() => this.durably(() => this.dropMeta.run(RUNNING)), () => undefined);
    }
    await closeDurableWal(this.db);
  }
}
