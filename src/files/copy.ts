/**
 * Copies (cozy-stack's POST /files/:id/copy, WebDAV COPY): a file's bytes are streamed from its
 * blob into a new one, as an upload, with the same checks (quota, names) and write order.
 * Without a name, cozy-stack names the copy "name (copy).ext" (then "(copy 2)"…, if taken).
 */
import { Conflict, UnprocessableEntity } from '../common/errors.js';
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import { isDir, validateName, type FileDoc } from './types.js';

function copyName(name: string, n: number): string {
  const dot = name.lastIndexOf('.');
  const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  return `${base} (copy${n === 1 ? '' : ` ${n}`})${ext}`;
}

export async function copyFile(fs: FileSystem, instance: Instance, id: string, to: { dirId?: string; name?: string; app?: string } = {}): Promise<FileDoc> {
  const src = await fs.stat(instance, id);
  if (isDir(src)) throw new UnprocessableEntity('only files are copied this way: create the directory, then copy its files', 'not_a_file');
  const dirId = to.dirId ?? src.dir_id;
  let name = to.name === undefined ? undefined : validateName(to.name);
  if (name === undefined) {
    for (let n = 1; ; n++) {
      const candidate = copyName(src.name, n);
      if (!(await fs.child(instance, dirId, candidate))) {
        name = candidate;
        break;
      }
    }
  }
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
