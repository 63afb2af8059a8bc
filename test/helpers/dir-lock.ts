/**
 * A lock between the test processes of one machine: a folder made with mkdir, holding its holder's pid. A lock whose
 * holder is gone is taken over. Used for what is built once and kept in the temporary folder (the built-in apps'
 * build, PostgreSQL's initialised data folder).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pidRuns as alive } from '../../src/common/data-dir-lock.js';

/** Takes the lock folder `lockDir` (waiting for its holder, or taking it from a holder that is gone). */
export async function lock(lockDir: string): Promise<void> {
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try {
      holder = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    } catch {
      // the holder has made the folder and not yet written its pid, or has just let go
    }
    if (holder && !alive(holder)) rmSync(lockDir, { recursive: true, force: true });
    else await sleep(200);
  }
}

/** Lets go of `lockDir`. */
export function unlock(lockDir: string): void {
  rmSync(lockDir, { recursive: true, force: true });
}
