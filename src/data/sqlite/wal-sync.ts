/**
 * The fsync of an instance database's write-ahead log, off the event loop. SQLite runs with
 * `synchronous = NORMAL` (its commits write the WAL but do not fsync it; its checkpoints still sync);
 * after each COMMIT the write queue asks for `sync()`, an fdatasync of the -wal file in libuv's thread
 * pool, and acknowledges the batch only once it returned: as durable as `synchronous = FULL` (where
 * SQLite fsyncs the WAL inside COMMIT), without blocking every request behind the disk for the
 * length of each flush (a fifth of the main thread under many small uploads, measured in
 * bench/files.bench.ts).
 *
 * Syncs are coalesced: a caller waits for the first fdatasync that starts after its call, and
 * callers that come while one runs share the next.
 *
 * A failed fdatasync is final for this process (`failure`): Linux may have dropped the pages it could
 * not write and would report success on the next call, so the WAL can no longer be trusted to be on
 * disk. The store then refuses every write until it is opened again (a restart), when SQLite reads
 * back what the disk really holds; PostgreSQL stops on such an error for the same reason.
 */
import type Database from 'better-sqlite3';
import { close, closeSync, fdatasync, open, openSync, readSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { ServiceUnavailable, isDiskFull } from '../../common/errors.js';

/**
 * The database files this process fsynced, by path, inode and birth time (a file made again at the same path, even on a
 * reused inode, is another one): reopened (the store pool closes and opens databases), such a file needs no fsync of its
 * own again, since what changes it afterwards are checkpoints, which SQLite fsyncs itself.
 */
const syncedDbFiles = new Set<string>();

/** The identity of a database file, or null when the file system gives no birth time (then it is fsynced at each open). */
function dbFileKey(file: string): string | null {
  try {
    const s = statSync(file);
    return s.birthtimeMs > 0 ? `${file}\0${s.ino}\0${s.birthtimeMs}` : null;
  } catch {
    return null;
  }
}

export class WalSync {
  private fd: number | null = null;
  private running = false;
  /** Waiting for an fdatasync that has not started yet. */
  private next: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  /** fdatasync calls made so far (of the WAL; of the database file). */
  syncs = 0;
  dbSyncs = 0;
  /** Set once an fdatasync failed: what every later write gets. */
  failure: ServiceUnavailable | null = null;
  /** Called after each successful sync (checkpointOffThread). */
  afterSync: (() => void) | null = null;

  private readonly dbKey: string | null = null;

  /**
   * `dbFile`: the database file, fsynced once before the first WAL sync (a new one switched to WAL without fsyncs, db.ts),
   * unless this process fsynced that very file already.
   */
  constructor(private readonly walFile: string, private dbFile: string | null = null) {
    if (dbFile === null) return;
    this.dbKey = dbFileKey(dbFile);
    if (this.dbKey !== null && syncedDbFiles.has(this.dbKey)) this.dbFile = null;
  }

  sync(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.next.push({ resolve, reject });
      if (!this.running) this.start();
    });
  }

  private start(): void {
    const batch = this.next;
    this.next = [];
    if (batch.length === 0) return;
    if (this.dbFile !== null) return this.syncDbFile(this.dbFile, batch);
    if (this.fd === null) {
      try {
        this.fd = openSync(this.walFile, 'r');
      } catch (err) {
        // no WAL yet: nothing was written, so nothing is waiting to be durable
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          batch.forEach((w) => w.resolve());
          return this.start();
        }
        batch.forEach((w) => w.reject(err));
        return this.start();
      }
    }
    this.running = true;
    this.syncs++;
    fdatasync(this.fd, (err) => {
      this.running = false;
      if (err && !this.failure) {
        this.failure = new ServiceUnavailable(
          `this instance's database could not be written to disk (${err.code ?? err.message}): it takes no more changes until hearth is restarted; check the disk first`,
        );
      }
      // a full disk stays itself (507 for the writes it failed); anything else is told as the failure it now is
      const error = err && (isDiskFull(err) ? err : this.failure);
      for (const w of batch) {
        if (error) w.reject(error);
        else w.resolve();
      }
      if (!error) this.afterSync?.();
      this.start();
    });
  }

  /** The database file's own fsync, once, off the event loop; then the batch goes on to the WAL's. */
  private syncDbFile(file: string, batch: typeof this.next): void {
    this.running = true;
    const done = (err: NodeJS.ErrnoException | null) => {
      this.running = false;
      if (err) {
        // out of descriptors (the open) is for a retry; a failed fsync is final, as the WAL's (above)
        const final = err.code !== 'EMFILE' && err.code !== 'ENFILE' && !isDiskFull(err);
        if (final) this.failure ??= new ServiceUnavailable(`this instance's database could not be written to disk (${err.code ?? err.message}): check the disk first`);
        batch.forEach((w) => w.reject(final ? this.failure : err));
      } else {
        if (this.dbKey !== null) syncedDbFiles.add(this.dbKey);
        this.dbFile = null;
        this.next.unshift(...batch);
      }
      this.start();
    };
    open(file, 'r', (err, fd) => {
      if (err) return done(err.code === 'ENOENT' ? null : err);
      this.dbSyncs++;
      fdatasync(fd, (syncErr) => close(fd, () => done(syncErr)));
    });
  }

  /** After the last sync (the queue is drained first); the descriptor is closed. */
  close(): void {
    if (this.fd !== null) close(this.fd, () => undefined);
    this.fd = null;
  }
}

const shared = new WeakMap<Database.Database, WalSync>();

/**
 * The same terms for a WAL database written outside a write queue (the instance registry, the job broker):
 * `synchronous = NORMAL`, and the writer awaits `sync()` after its COMMIT before it acknowledges the write.
 * One WalSync per connection, shared by every writer of it (so their syncs coalesce); `closeDurableWal` closes both.
 */
export function durableWal(db: Database.Database): WalSync {
  let wal = shared.get(db);
  if (!wal) {
    db.pragma('synchronous = NORMAL');
    wal = new WalSync(`${db.name}-wal`);
    shared.set(db, wal);
  }
  return wal;
}

/** Runs the checkpoint of a WAL database on another thread (closer.ts). */
export interface Checkpointer {
  checkpoint(file: string): Promise<void>;
}

/**
 * The frames of `dbFile`'s WAL that no checkpoint copied yet: mxFrame − nBackfill, read from the wal-index header at
 * the start of the -shm file (https://www.sqlite.org/walformat.html: native byte order, mxFrame at byte 16, the
 * checkpoint's nBackfill at byte 96); null when it cannot be read.
 */
export function walBacklog(dbFile: string): number | null {
  let fd: number | null = null;
  try {
    fd = openSync(`${dbFile}-shm`, 'r');
    const header = Buffer.alloc(100);
    if (readSync(fd, header, 0, 100, 0) < 100) return null;
    const u32 = (at: number) => (endianness() === 'LE' ? header.readUInt32LE(at) : header.readUInt32BE(at));
    return Math.max(0, u32(16) - u32(96));
  } catch {
    return null;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/**
 * Takes a durable-WAL database's checkpoints off the event loop: SQLite's automatic checkpoint (inside the COMMIT that
 * crosses 1,000 WAL pages: the copy of those pages and two fsyncs, 10-100 ms on a busy disk) is turned off, and after a
 * sync, once `everyMs` passed since the last look and the WAL holds at least `minFrames` frames not yet checkpointed, a
 * PASSIVE checkpoint runs on the checkpointer's thread while writers go on. A few frames wait for more: the thread (an
 * isolate of its own, ~15 MB of RSS) is not started for the handful of writes of a start or of an idle server.
 * If one fails (out of descriptors, say), the automatic checkpoint comes back, so the WAL stays bounded.
 */
export function checkpointOffThread(db: Database.Database, thread: Checkpointer, everyMs = 1000, minFrames = 256): void {
  const wal = durableWal(db);
  db.pragma('wal_autocheckpoint = 0');
  let last = 0;
  let running = false;
  wal.afterSync = () => {
    if (running || Date.now() - last < everyMs) return;
    last = Date.now();
    const backlog = minFrames > 0 ? walBacklog(db.name) : null;
    if (backlog !== null && backlog < minFrames) return;
    running = true;
    thread.checkpoint(db.name).then(
      () => { running = false; },
      () => {
        wal.afterSync = null;
        if (db.open) db.pragma('wal_autocheckpoint = 1000');
      },
    );
  };
}

/** Closes the database once the syncs in flight returned (their descriptor must stay open until then). */
export async function closeDurableWal(db: Database.Database): Promise<void> {
  const wal = shared.get(db);
  shared.delete(db);
  await wal?.sync().catch(() => undefined);
  if (db.open) db.close();
  wal?.close();
}
