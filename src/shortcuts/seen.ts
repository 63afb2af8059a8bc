/**
 * A shortcut received through a sharing carries `metadata.sharing.status`; cozy-stack marks it
 * `seen` the first time it is opened (GET /shortcuts/:id), in one write of the file under the lock.
 */
import type { Doc } from '../data/store.js';
import type { FileSystem } from '../files/fs.js';
import { FILES_DOCTYPE, type FileDoc } from '../files/types.js';
import type { Instance } from '../instances/types.js';

const sharingOf = (doc: Doc): Doc | null => {
  const meta = doc.metadata;
  const sharing = meta && typeof meta === 'object' && !Array.isArray(meta) ? meta.sharing : undefined;
  return sharing && typeof sharing === 'object' && !Array.isArray(sharing) ? sharing : null;
};

/** The file as it is now: marked seen if it was a shared shortcut not seen yet. */
export async function markShortcutSeen(fs: FileSystem, instance: Instance, fileId: string): Promise<FileDoc> {
  return fs.lock(instance, async () => {
    const file = await fs.stat(instance, fileId);
    const sharing = sharingOf(file);
    if (!sharing || sharing.status === 'seen') return file;
    const doc: Doc = { ...file, metadata: { ...(file.metadata as Doc), sharing: { ...sharing, status: 'seen' } } };
    return (await fs.store(instance).put(FILES_DOCTYPE, doc)).doc as FileDoc;
  });
}
