/**
 * Operations on whole subtrees, each under the instance's lock and written in one transaction:
 * rename and move (a directory's descendants get their new `path`), move to the trash, restore,
 * destroy (with the files' old versions) and empty the trash. The blobs (and thumbnails) of destroyed files are removed after the commit.
 */
import { BadRequest, Forbidden, NotFound, PreconditionFailed, UnprocessableEntity } from '../common/errors.js';
import type { Doc } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import type { FileChange, FileSystem } from './fs.js';
import { thumbKeysOf } from './thumbnails/state.js';
import { VERSIONS_DOCTYPE, versionsOf } from './versions.js';
import { FILES_DOCTYPE, ROOT_DIR_ID, TRASH_DIR_ID, TRASH_PATH, isDir, joinPath, parentPath, validateName, type FileDoc } from './types.js';

const PAGE = 1000;

/** Every document matching `selector`, page after page. */
async function findAll(fs: FileSystem, instance: Instance, selector: Record<string, unknown>): Promise<FileDoc[]> {
  const out: FileDoc[] = [];
  let bookmark: string | undefined;
  for (;;) {
    const page = await fs.store(instance).find(FILES_DOCTYPE, { selector, limit: PAGE, skip: 0, ...(bookmark ? { bookmark } : {}) });
    out.push(...(page.docs as FileDoc[]));
    if (page.docs.length < PAGE) return out;
    bookmark = page.bookmark;
  }
}

/** The directories strictly below `path`, and the files in `path` or below. */
async function subtree(fs: FileSystem, instance: Instance, dir: FileDoc): Promise<{ dirs: FileDoc[]; files: FileDoc[] }> {
  const path = String(dir.path);
  const dirs = await findAll(fs, instance, { path: { $beginsWith: `${path}/` } });
  const ids = [dir._id, ...dirs.map((d) => d._id)];
  const files: FileDoc[] = [];
  for (let i = 0; i < ids.length; i += PAGE) files.push(...(await findAll(fs, instance, { dir_id: { $in: ids.slice(i, i + PAGE) }, type: 'file' })));
  return { dirs, files };
}

const special = (doc: FileDoc) => doc._id === ROOT_DIR_ID || doc._id === TRASH_DIR_ID;
const inTrash = (path: string) => path === TRASH_PATH || path.startsWith(`${TRASH_PATH}/`);

/** "name", then "name (2)", "name (3)"…, keeping the extension of a file: the first free name in `dirId`. */
async function freeName(fs: FileSystem, instance: Instance, dirId: string, name: string, file: boolean, self: string): Promise<string> {
  const dot = file ? name.lastIndexOf('.') : -1;
  const [base, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? name : `${base} (${n})${ext}`;
    const taken = await fs.child(instance, dirId, candidate);
    if (!taken || taken._id === self) return candidate;
  }
}

/** `doc` and its subtree moved to `dirId`/`name` (path prefixes rewritten), plus `extra` fields on each. */
async function moved(fs: FileSystem, instance: Instance, doc: FileDoc, parentPathNew: string, fields: Doc, fileFields: Doc = {}): Promise<Doc[]> {
  const at = fs.clock().toISOString();
  const self: Doc = { ...doc, ...fields, updated_at: at, cozyMetadata: { ...(doc.cozyMetadata as Doc), ...(fields.cozyMetadata as Doc | undefined), updatedAt: at } };
  if (!isDir(doc)) return [{ ...self, ...fileFields }];
  const oldPath = String(doc.path);
  const newPath = joinPath(parentPathNew, String(self.name));
  self.path = newPath;
  const { dirs, files } = await subtree(fs, instance, doc);
  const rewritten = dirs.map((d): Doc => ({ ...d, path: newPath + String(d.path).slice(oldPath.length) }));
  const touched = Object.keys(fileFields).length ? files.map((f): Doc => ({ ...f, ...fileFields })) : [];
  return [self, ...rewritten, ...touched];
}

export class FileTree {
  constructor(private readonly fs: FileSystem) {}

  /** Rename, move (`dirId`), tags, executable; a directory moves with its whole subtree. */
  async patch(instance: Instance, id: string, change: FileChange): Promise<FileDoc> {
    const fs = this.fs;
    const name = change.name === undefined ? undefined : validateName(change.name);
    return fs.lock(instance, async () => {
      const doc = await fs.stat(instance, id);
      if (change.ifMatch !== undefined && change.ifMatch !== doc._rev) throw new PreconditionFailed('the document changed since this revision (If-Match)');
      if (special(doc)) throw new Forbidden('the root and the trash cannot be renamed or moved');
      const parent = change.dirId === undefined || change.dirId === doc.dir_id ? await fs.dir(instance, doc.dir_id) : await fs.target(instance, change.dirId);
      if (isDir(doc) && (parent._id === doc._id || String(parent.path).startsWith(`${String(doc.path)}/`))) {
        throw new UnprocessableEntity('a directory cannot be moved into itself or one of its subdirectories', 'invalid_move');
      }
      const newName = name ?? doc.name;
      await fs.assertFreeName(instance, parent._id, newName, doc._id);
      const fields: Doc = { name: newName, dir_id: parent._id };
      if (change.tags !== undefined) fields.tags = change.tags;
      if (change.executable !== undefined && !isDir(doc)) fields.executable = change.executable;
      const docs = await moved(fs, instance, doc, String(parent.path), fields);
      return (await fs.store(instance).putAll(FILES_DOCTYPE, docs))[0]!.doc as FileDoc;
    });
  }

  /** Moves to the trash (renamed there on conflict), remembering where it was. */
  async trash(instance: Instance, id: string, ifMatch?: string): Promise<FileDoc> {
    const fs = this.fs;
    return fs.lock(instance, async () => {
      const doc = await fs.stat(instance, id);
      if (ifMatch !== undefined && ifMatch !== doc._rev) throw new PreconditionFailed('the document changed since this revision (If-Match)');
      if (special(doc)) throw new Forbidden('the root and the trash cannot be trashed');
      const parent = await fs.stat(instance, doc.dir_id);
      if (inTrash(String(parent.path)) || doc.trashed === true) throw new BadRequest('it is already in the trash', 'already_trashed');
      const name = await freeName(fs, instance, TRASH_DIR_ID, doc.name, !isDir(doc), doc._id);
      const at = fs.clock().toISOString();
      const fields: Doc = { name, dir_id: TRASH_DIR_ID, restore_path: String(parent.path), cozyMetadata: { ...(doc.cozyMetadata as Doc), trashedAt: at } };
      if (!isDir(doc)) fields.trashed = true;
      const docs = await moved(fs, instance, doc, TRASH_PATH, fields, { trashed: true });
      return (await fs.store(instance).putAll(FILES_DOCTYPE, docs))[0]!.doc as FileDoc;
    });
  }

  /** Back to where it was (to the root if that directory is gone or trashed), renamed on conflict. */
  async restore(instance: Instance, id: string): Promise<FileDoc> {
    const fs = this.fs;
    return fs.lock(instance, async () => {
      const doc = await fs.stat(instance, id);
      if (doc.dir_id !== TRASH_DIR_ID) throw new BadRequest('only what is directly in the trash can be restored', 'not_in_trash');
      let parent = await fs.stat(instance, ROOT_DIR_ID);
      try {
        const there = await fs.statByPath(instance, String(doc.restore_path ?? '/'));
        if (isDir(there) && !inTrash(String(there.path))) parent = there;
      } catch (err) {
        if (!(err instanceof NotFound) && !(err instanceof UnprocessableEntity)) throw err;
      }
      const name = await freeName(fs, instance, parent._id, doc.name, !isDir(doc), doc._id);
      const fields: Doc = { name, dir_id: parent._id };
      if (!isDir(doc)) fields.trashed = false;
      const docs = await moved(fs, instance, doc, String(parent.path), fields, { trashed: false });
      delete docs[0]!.restore_path;
      const cm = { ...(docs[0]!.cozyMetadata as Doc) };
      delete cm.trashedAt;
      docs[0]!.cozyMetadata = cm;
      return (await fs.store(instance).putAll(FILES_DOCTYPE, docs))[0]!.doc as FileDoc;
    });
  }

  /**
   * Deletes for good what is in the trash (and its subtree); frees its bytes. `anywhere`: also what is not in the
   * trash (PATCH with `permanent_delete`, as cozy-stack), never the root nor the trash itself.
   */
  async destroy(instance: Instance, id: string, ifMatch?: string, opts: { anywhere?: boolean } = {}): Promise<void> {
    const fs = this.fs;
    const { blobs, thumbs } = await fs.lock(instance, async () => {
      const doc = await fs.stat(instance, id);
      if (ifMatch !== undefined && ifMatch !== doc._rev) throw new PreconditionFailed('the document changed since this revision (If-Match)');
      if (special(doc)) throw new Forbidden('the root and the trash cannot be destroyed');
      const path = isDir(doc) ? String(doc.path) : parentPath(await fs.pathOf(instance, doc));
      if (!opts.anywhere && !inTrash(path)) throw new BadRequest('only what is in the trash can be destroyed: trash it first', 'not_in_trash');
      const { dirs, files } = isDir(doc) ? await subtree(fs, instance, doc) : { dirs: [], files: [doc] };
      const all = isDir(doc) ? [doc, ...dirs, ...files] : files;
      const versions = (await Promise.all(files.map((f) => versionsOf(fs, instance, f._id)))).flat();
      await fs.store(instance).putAll(FILES_DOCTYPE, all.map((d) => ({ _id: d._id, _rev: d._rev, _deleted: true })));
      // a crash here leaves versions of a destroyed file: fsck reports them (orphan tree), their blobs stay named
      if (versions.length) await fs.store(instance).putAll(VERSIONS_DOCTYPE, versions.map((v) => ({ _id: v._id, _rev: v._rev, _deleted: true })));
      fs.addUsage(instance, -[...files, ...versions].reduce((n, f) => n + Number(f.size), 0));
      return { blobs: [...files.map((f) => String(f.internal_vfs_id)), ...versions.map((v) => v.internal_vfs_id)], thumbs: files.flatMap(thumbKeysOf) };
    });
    for (const key of blobs) await fs.blobs.remove(instance.id, key);
    await fs.dropThumbs(instance, thumbs);
  }

  async emptyTrash(instance: Instance): Promise<number> {
    let n = 0;
    for (;;) {
      const { docs } = await this.fs.children(instance, TRASH_DIR_ID, { limit: PAGE });
      if (docs.length === 0) return n;
      for (const d of docs) await this.destroy(instance, d._id);
      n += docs.length;
    }
  }
}
