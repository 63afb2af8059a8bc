/**
 * The stamp of an instance database's writes (DocStoreFactory.writeStamps), read without opening it: the latest
 * modification time of its file and of its WAL while the WAL holds frames. A commit appends to the WAL, which sets its
 * time; a checkpoint copies the frames into the file (setting the file's time) before it empties or removes the WAL:
 * a write committed after a stamp was read gives a later time. An empty WAL is left out: opening a database (a read,
 * a visit of the sweep) makes one, which must not look like a write. Times are the kernel's, whose clock ticks by a
 * few ms: a time close to now could still be that of a write to come, so such a stamp is one never seen again (the
 * instance is visited, and stamped at a later sweep). The processes of one machine share the clock.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';

/** How old a file's time must be for its stamp to stand (far above the kernel clock's tick). */
export const STAMP_MARGIN_MS = 2_000;

/** The file's time, null when it is missing (or, `nonEmpty`, empty). */
const mtimeOf = async (path: string, nonEmpty = false): Promise<number | null> => {
  try {
    const s = await stat(path);
    return nonEmpty && s.size === 0 ? null : s.mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
};

export async function writeStamp(dbPath: string, marginMs = STAMP_MARGIN_MS): Promise<string> {
  const now = Date.now();
  const [db, wal] = await Promise.all([mtimeOf(dbPath), mtimeOf(`${dbPath}-wal`, true)]);
  if (db === null && wal === null) return 'none';
  const latest = Math.max(db ?? 0, wal ?? 0);
  return latest < now - marginMs ? `t${latest}` : `fresh-${randomUUID()}`;
}
