/**
 * The size of a directory, as cozy-stack's DirSize: the bytes of the files in it and in its
 * subdirectories, at any depth (old versions not counted). The root's size counts every file, the trash's too.
 */
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import { FILES_DOCTYPE, ROOT_DIR_ID, type FileDoc } from './types.js';

const PAGE = 1000;

async function eachPage(fs: FileSystem, instance: Instance, selector: Record<string, unknown>, fields: string[], fn: (docs: FileDoc[]) => void): Promise<void> {
  let bookmark: string | undefined;
  for (;;) {
    const page = await fs.store(instance).find(FILES_DOCTYPE, { selector, fields, limit: PAGE, skip: 0, ...(bookmark ? { bookmark } : {}) });
    fn(page.docs as FileDoc[]);
    if (page.docs.length < PAGE) return;
    bookmark = page.bookmark;
  }
}

/** The files below `dir` at any depth (old versions not counted): how many, and their bytes. */
export async function subtreeTotals(fs: FileSystem, instance: Instance, dir: FileDoc): Promise<{ files: number; bytes: number }> {
  const ids = [dir._id];
  const prefix = dir._id === ROOT_DIR_ID ? '/' : `${String(dir.path)}/`;
  await eachPage(fs, instance, { type: 'directory', path: { $beginsWith: prefix } }, ['_id'], (docs) => ids.push(...docs.map((d) => d._id).filter((id) => id !== dir._id)));
  let bytes = 0;
  let files = 0;
  for (let i = 0; i < ids.length; i += PAGE) {
    await eachPage(fs, instance, { type: 'file', dir_id: { $in: ids.slice(i, i + PAGE) } }, ['size'], (docs) => {
      files += docs.length;
      for (const d of docs) bytes += Number(d.size ?? 0);
    });
  }
  return { files, bytes };
}

export async function dirSize(fs: FileSystem, instance: Instance, dir: FileDoc): Promise<number> {
  return (await subtreeTotals(fs, instance, dir)).bytes;
}
