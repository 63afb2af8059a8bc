/**
 * The stamp of an instance database's writes (DocStoreFactory.writeStamps), read without opening it: the latest
 * modification time of its file and of its WAL. A commit writes the WAL (and a checkpoint then the file), which sets
 * its time: a write committed after a stamp was read gives a later time. Times are the kernel's, whose clock ticks by
 * a few ms: a time close to now could still be that of a write to come, so such a stamp is one never seen again
 * (the instance is visited, and stamped at a later sweep). The processes of one machine share the clock.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';

/** How old a file's time must be for its stamp to stand (far above the kernel clock's tick). */
export const STAMP_MARGIN_MS = 2_000;

const mtimeOf = async (path: string): Promise<number | null> => {
  try {
    return (await stat(path)).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
};

export async function writeStamp(dbPath: string, marginMs = STAMP_MARGIN_MS): Promise<string> {
  const now = Date.now();
  const [db, wal] = await Promise.all([mtimeOf(dbPath), mtimeOf(`${dbPath}-wal`)]);
  if (db === null && wal === null) return 'none';
  const latest = Math.max(db ?? 0, wal ?? 0);
  return latest < now - marginMs ? `t${latest}` : `fresh-${randomUUID()}`;
}
