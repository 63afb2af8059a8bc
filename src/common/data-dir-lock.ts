/**
 * One holder at a time of a data directory whose state a process keeps alone (the embedded engines): `hearth serve`
 * and `hearth restore` take `<dataDir>/hearth.lock`, a small SQLite database held with `locking_mode=EXCLUSIVE`. SQLite
 * holds it with an fcntl lock on the open file, which the kernel drops when the process ends in any way: a holder
 * killed with SIGKILL never blocks the next start, and a reused pid never looks like a holder. Beside it,
 * `hearth.lock.owner` names the holder (pid, command, since) for the message of the one refused; it is only read once
 * the lock said the directory is taken.
 *
 * A process must not open and close hearth.lock by other means while it holds it (closing any descriptor of a file
 * drops that process's fcntl locks on it): backups skip both files (backup/walk.ts).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { HearthConfig } from '../config/types.js';

export const LOCK_FILE = 'hearth.lock';
export const OWNER_FILE = 'hearth.lock.owner';

/** Who holds a data directory, as it wrote it in hearth.lock.owner. */
export interface DataDirHolder { pid: number; command: string; since: string }

/** The data directory is held by another process (or another holder in this one). */
export class DataDirInUse extends Error {
  constructor(readonly dir: string, readonly holder: DataDirHolder | null, message = `${dir} is in use by ${describeHolder(holder)}`) {
    super(message);
    this.name = 'DataDirInUse';
  }
}

/** "hearth serve (pid 1234, since …)", or what can be said without the owner file. */
export function describeHolder(holder: DataDirHolder | null): string {
  if (!holder) return 'another process (it has not written its pid yet)';
  return `${holder.command} (pid ${holder.pid}${holder.pid === process.pid ? ', this process' : ''}, since ${holder.since})`;
}

/**
 * What a process with this configuration keeps alone in its data directory, that no other process may open beside it:
 * SQLite databases (documents, registry, jobs, sessions, the app code store: not fenced across processes) and, in its
 * memory, the locks, bus and scheduler that guard them. Empty with PostgreSQL and Redis: blobs on the local disk are
 * then shared by processes on one data directory (a shared disk), as the object stores are (a blob is written under a
 * fresh key and never rewritten, and removed only after the fenced commit that stopped naming it: README, Scale-out).
 */
export function keptAlone(config: Pick<HearthConfig, 'docs' | 'coordination'>): string[] {
  const alone: string[] = [];
  if (config.docs.engine !== 'postgres') alone.push("documents and the server's state (docs.engine sqlite)");
  if (config.coordination.engine !== 'redis' || !config.coordination.url) alone.push('the bus, locks and limits (coordination.engine memory)');
  return alone;
}

const readHolder = (dir: string): DataDirHolder | null => {
  try {
    const v = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as Partial<DataDirHolder>;
    return typeof v.pid === 'number' && typeof v.command === 'string' && typeof v.since === 'string' ? { pid: v.pid, command: v.command, since: v.since } : null;
  } catch {
    return null; // not written yet, or by a holder that is writing it now
  }
};

/**
 * Who holds `dir` now, or null when nothing does (a killed holder's owner file is not trusted). `trusting`: asked only
 * when the owner file names a live process that it says is `trusting` (hearth.lock is not opened otherwise: a probe
 * might refuse a server starting at that very moment). Never asked by a process about a directory it holds itself.
 */
export function holderOf(dir: string, trusting?: string): DataDirHolder | null {
  const named = readHolder(dir);
  if (trusting !== undefined && (named?.command !== trusting || !pidRuns(named.pid))) return null;
  let db: Database.Database;
  try {
    db = new Database(join(dir, LOCK_FILE), { fileMustExist: true, timeout: 0, readonly: true });
  } catch {
    return null; // no hearth.lock: never held
  }
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get(); // a shared lock, refused beside the holder's exclusive one
    return null;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY') return named ?? { pid: 0, command: 'another process', since: 'now' };
    throw e;
  } finally {
    db.close();
  }
}

/** Whether process `pid` runs (one of another user counts). */
export const pidRuns = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes `dir` (created if missing) for this process, or throws DataDirInUse naming the holder. Returns the release
 * (idempotent), which the process's end makes too.
 */
export function lockDataDir(dir: string, command: string): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const failed = (e: unknown) => new Error(`could not take ${join(dir, LOCK_FILE)}, the lock of one server per data directory: ${(e as Error).message}`, { cause: e });
  let db: Database.Database;
  try {
    db = new Database(join(dir, LOCK_FILE), { timeout: 0 });
  } catch (e) {
    throw failed(e);
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY'); // no hearth.lock-journal beside it
    db.exec('BEGIN EXCLUSIVE; COMMIT'); // the exclusive lock, kept until the connection closes (locking_mode)
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === 'SQLITE_BUSY') throw new DataDirInUse(dir, readHolder(dir));
    throw failed(e);
  }
  const owner: DataDirHolder = { pid: process.pid, command, since: new Date().toISOString() };
  const tmp = join(dir, `${OWNER_FILE}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
    renameSync(tmp, join(dir, OWNER_FILE));
  } catch (e) {
    db.close();
    throw e;
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    // ours unless the folder was renamed away meanwhile (hearth restore's swap) and another took the new one
    if (readHolder(dir)?.pid === process.pid) rmSync(join(dir, OWNER_FILE), { force: true });
    db.close();
  };
}
