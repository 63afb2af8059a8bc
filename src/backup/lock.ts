/**
 * Who else uses a folder: one `hearth backup` at a time per target (a `.lock` file naming its pid; one left by a killed
 * run is taken over), no restore over a data directory a running server holds (its SQLite databases are open), and no
 * backup of a data directory a `hearth restore` holds (common/data-dir-lock.ts): its content is about to be replaced.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describeHolder, holderOf, pidRuns as alive } from '../common/data-dir-lock.js';
import { BackupError } from './manifest.js';

/** Takes `<target>/.lock` for this process; resolves with its release. */
export async function takeTargetLock(target: string): Promise<() => Promise<void>> {
  const file = join(target, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rm(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(await readFile(file, 'utf8').catch(() => ''));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new BackupError(`another hearth backup (pid ${pid}) is writing into ${target}: wait for it to end`);
      }
      await rm(file, { force: true }); // left by a run that was killed
    }
  }
  throw new BackupError(`could not take ${file}: another hearth backup is starting in ${target}`);
}

/**
 * The first of `databases` that another process holds open, or null. A server keeps its databases open while it runs;
 * asking SQLite for an exclusive lock (without waiting) is refused while any other connection has the file open.
 */
export function openElsewhere(databases: string[]): string | null {
  for (const file of databases) {
    let db: Database.Database;
    try {
      db = new Database(file, { fileMustExist: true, timeout: 0 });
    } catch {
      continue; // absent or unreadable: nothing holds it
    }
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE; COMMIT');
    } catch (e) {
      if ((e as { code?: string }).code === 'SQLITE_BUSY') return file;
      throw e;
    } finally {
      db.close();
    }
  }
  return null;
}

/** Refuses a backup of `dataDir` while a `hearth restore` holds it: the snapshot would straddle the restore's swap. */
export function refuseDuringRestore(dataDir: string): void {
  const holder = holderOf(dataDir, 'hearth restore');
  if (holder) {
    throw new BackupError(`${dataDir} is being restored by ${describeHolder(holder)}: its content is about to be replaced, so a backup now could copy a half-restored folder; wait for the restore to end (or stop it), then run hearth backup again`);
  }
}
