/**
 * Copies (cozy-stack's POST /files/:id/copy, WebDAV COPY): a file's bytes are streamed from its
 * blob into a new one, as an upload, with the same checks (quota, names) and write order.
 * Without a name, cozy-stack names the copy "name (copy).ext" (then "(copy 2)"…, if taken).
 * cozy-stack copies files only; Hearth also copies a directory with its whole subtree (copyDir).
 */
import { Conflict, UnprocessableEntity } from '../common/errors.js';
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import type { FileTree } from './tree.js';
import { ROOT_DIR_ID, TRASH_DIR_ID, isDir, validateName, type FileDoc } from './types.js';

const PAGE = 200;

function copyName(name: string, n: number, file: boolean): string {
  const dot = file ? name.lastIndexOf('.') : -1;
  const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${base} (copy${n === 1 ? '' : ` ${n}`})${ext}`;
}

/** The name given (validated), or the first free "name (copy)" in `dirId`. */
async function nameOfCopy(fs: FileSystem, instance: Instance, src: FileDoc, dirId: string, name: string | undefined): Promise<string> {
  if (name !== undefined) return validateName(name);
  for (let n = 1; ; n++) {
    const candidate = copyName(src.name, n, !isDir(src));
    if (!(await fs.child(instance, dirId, candidate))) return candidate;
  }
}

export async function copyFile(fs: FileSystem, instance: Instance, id: string, to: { dirId?: string; name?: string; app?: string } = {}): Promise<FileDoc> {
  const src = await fs.stat(instance, id);
  if (isDir(src)) throw new UnprocessableEntity('only files are copied this way: create the directory, then copy its files', 'not_a_file');
  const dirId = to.dirId ?? src.dir_id;
  const name = await nameOfCopy(fs, instance, src, dirId, to.name);
  const body = await fs.open(instance, src);
  try {
    return await fs.upload(instance, {
      dirId, name, body, size: Number(src.size), md5: String(src.md5sum), mime: String(src.mime), tags: [...src.tags],
      executable: src.executable === true, ...(to.app ? { app: to.app } : {}),
    });
  } catch (err) {
    body.destroy();
    if (err instanceof Conflict) throw new Conflict(`a file named "${name}" already exists there`);
    throw err;
  }
}

/** Re-creates the children of `from` in `into`, depth first: files streamed by copyFile, directories made then filled. */
async function copyChildren(fs: FileSystem, instance: Instance, from: FileDoc, into: FileDoc, app: string | undefined): Promise<void> {
  for (let cursor: string | undefined; ;) {
    const page = await fs.children(instance, from._id, { limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    for (const child of page.docs) {
      if (!isDir(child)) {
        await copyFile(fs, instance, child._id, { dirId: into._id, name: child.name, ...(app ? { app } : {}) });
        continue;
      }
      const dir = await fs.createDir(instance, { dirId: into._id, name: child.name, tags: [...child.tags], ...(app ? { app } : {}) });
      await copyChildren(fs, instance, child, dir, app);
    }
    if (page.next === null) return;
    cursor = page.next;
  }
}

/**
 * Copies a directory and its whole subtree into `to.dirId` (default: beside it, as "name (copy)"). Never the root
 * nor the trash, never into itself or one of its subdirectories. All or nothing: when a member fails (the quota, a
 * lost content…), what was already copied is deleted for good and the error is thrown.
 */
export async function copyDir(tree: FileTree, fs: FileSystem, instance: Instance, id: string, to: { dirId?: string; name?: string; app?: string } = {}): Promise<FileDoc> {
  const src = await fs.stat(instance, id);
  if (!isDir(src)) throw new UnprocessableEntity('not a directory', 'not_a_directory');
  if (src._id === ROOT_DIR_ID || src._id === TRASH_DIR_ID) throw new UnprocessableEntity('the root and the trash cannot be copied', 'invalid_copy');
  const parent = await fs.target(instance, to.dirId ?? src.dir_id);
  if (parent._id === src._id || String(parent.path).startsWith(`${String(src.path)}/`)) {
    throw new UnprocessableEntity('a directory cannot be copied into itself or one of its subdirectories', 'invalid_copy');
  }
  const name = await nameOfCopy(fs, instance, src, parent._id, to.name);
  const top = await fs.createDir(instance, { dirId: parent._id, name, tags: [...src.tags], ...(to.app ? { app: to.app } : {}) });
  try {
    await copyChildren(fs, instance, src, top, to.app);
  } catch (err) {
    await tree.destroy(instance, top._id, undefined, { anywhere: true });
    throw err;
  }
  return top;
}
