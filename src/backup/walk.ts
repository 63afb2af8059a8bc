/**
 * What a data directory holds, as a backup sees it (the layout of README, Storage layout):
 * - `sqlite`: every `*.sqlite` database (registry, sessions, jobs, apps-code, apps-builtin, dav-locks, each instance's
 *   docs.sqlite): copied through SQLite's online backup API, never as files (their -wal and -shm are not copied);
 * - `blob`: files that are never rewritten in place (written to a temporary name, then renamed): file contents and
 *   thumbnails (instances/<id>/files|thumbs/<k0k1>/<key>), avatars (instances/<id>/avatar/avatar) and Home's wallpapers
 *   (instances/<id>/wallpaper/wallpaper), installed apps' code
 *   (apps-code/<k0k1>/<sha256>/…): a snapshot may share them by hard link;
 * - `file`: anything else (dev-instance.json, the outbox's mails…): small, always copied.
 * Skipped: what is being written (.tmp folders, .part files, the avatar's .tmp), SQLite's -wal, -shm and -journal files,
 * /status's probes, the server's hold on the directory (hearth.lock and hearth.lock.owner: common/data-dir-lock.ts; a
 * process that read hearth.lock while holding it would drop its lock), and anything that is not a regular file or a folder.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

export type EntryKind = 'sqlite' | 'blob' | 'file';
export interface Entry { path: string; kind: EntryKind }

const SKIP_FILE = /(?:-wal|-shm|-journal|\.part|\.tmp)$|^\.status-\d+$|^hearth\.lock(?:\.owner)?$/;
const BLOB_PATH = /^(?:instances\/[0-9a-f]{32}\/(?:(?:files|thumbs)\/[0-9a-f]{2}\/[0-9a-f]{32}|(?:avatar\/avatar|wallpaper\/wallpaper))|apps-code\/(?:[0-9a-f]{2}\/)?[0-9a-f]{64}\/.+)$/;

export function kindOf(path: string): EntryKind {
  if (path.endsWith('.sqlite')) return 'sqlite';
  return BLOB_PATH.test(path) ? 'blob' : 'file';
}

/** Every entry under `root`, as relative paths with `/`, sorted. */
export async function walk(root: string): Promise<Entry[]> {
  const found: Entry[] = [];
  const visit = async (rel: string): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return []; // removed meanwhile (an instance being destroyed)
      throw e;
    });
    for (const d of entries) {
      const path = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) {
        if (d.name !== '.tmp' && !d.name.startsWith('.partial-')) await visit(path);
      } else if (d.isFile() && !SKIP_FILE.test(d.name)) {
        found.push({ path, kind: kindOf(path) });
      }
    }
  };
  await visit('');
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
