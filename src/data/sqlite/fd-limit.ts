/**
 * How many instance databases may stay open at once, from the process's open-file limit: each
 * open store holds about four descriptors (the database, its -wal and -shm files, and the -wal
 * again for the fsync off the event loop, wal-sync.ts). A quarter of the limit (at least 64) is
 * left to sockets, blobs, the registry and the other global databases.
 */
import { readFileSync } from 'node:fs';

export const FDS_PER_STORE = 4;
/** Above this, memory rather than descriptors is the limit: an open store costs about 0.2 MB (its page cache and statements; bench/farm.bench.ts). */
const MAX_STORES = 512;

/** The soft limit on open files (Linux's /proc/self/limits), or null where it cannot be read. */
export function openFileLimit(limits = '/proc/self/limits'): number | null {
  try {
    const line = readFileSync(limits, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
    const n = Number(soft);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** The pool's size for a limit on open files (1,024 when it is unknown, the usual default). */
export function storesFor(fdLimit: number | null): number {
  const limit = fdLimit ?? 1024;
  const reserve = Math.max(64, Math.floor(limit / 4));
  // one more per store: a closing database briefly holds its own and the closing thread's (closer.ts)
  return Math.min(MAX_STORES, Math.max(4, Math.floor((limit - reserve) / (FDS_PER_STORE + 1))));
}
