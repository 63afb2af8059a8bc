/**
 * The one rights check of the file system's routes (/files and WebDAV), as cozy-stack's AllowVFS: a
 * whole-type rule on io.cozy.files covers everything; a rule whose `values` hold a directory id covers
 * that directory's whole subtree (the document is allowed when any id of its lineage, from the root
 * down to itself, is in the values); a rule with a selector reads the document's own fields (mime,
 * class, tags…). Creating needs POST on the directory it goes in (or one above it). Lineages are
 * looked up once per request.
 */
import { Forbidden } from '../common/errors.js';
import type { Doc } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import { Permissions, docFetcher, type PermissionSet, type Verb } from '../permissions/rules.js';
import type { Vfs } from './vfs.js';
import { FILES_DOCTYPE, isDir, type FileDoc } from './types.js';

export class FileRights {
  private readonly lineages = new Map<string, Promise<string[]>>();

  constructor(private readonly vfs: Vfs, private readonly instance: Instance, private readonly set: PermissionSet) {}

  private lineage(doc: FileDoc): Promise<string[]> {
    let ids = this.lineages.get(doc._id);
    if (!ids) {
      ids = this.vfs.fs.lineage(this.instance, doc);
      this.lineages.set(doc._id, ids);
    }
    return ids;
  }

  /** Whether the set decides alone: true (a whole-type rule), false (no rule could match), null (look at the document). */
  private quick(verb: Verb): boolean | null {
    if (Permissions.allowsWholeType(this.set, verb, FILES_DOCTYPE)) return true;
    const may = this.set.rules.some((r) => Permissions.allowsDoc({ ...this.set, rules: [{ ...r, values: undefined, selector: undefined }] }, verb, FILES_DOCTYPE, docFetcher({})));
    return may ? null : false;
  }

  private allows(verb: Verb, ids: string[], doc: Doc): boolean {
    const fetch = docFetcher(doc).fetch;
    return ids.some((id) => Permissions.allowsDoc(this.set, verb, FILES_DOCTYPE, { id, fetch }));
  }

  async can(verb: Verb, doc: FileDoc): Promise<boolean> {
    const quick = this.quick(verb);
    if (quick !== null) return quick;
    return this.allows(verb, [doc._id], doc) || this.allows(verb, await this.lineage(doc), doc);
  }

  async assert(verb: Verb, doc: FileDoc): Promise<void> {
    if (!(await this.can(verb, doc))) {
      throw new Forbidden(`this token has no ${verb} right on this ${isDir(doc) ? 'directory' : 'file'} (nor on a directory above it)`);
    }
  }

  /** Creating `draft` (type, name…) in `parent`: POST on it or above, or a selector rule matching the draft. */
  async assertCreate(parent: FileDoc, draft: Doc): Promise<void> {
    const quick = this.quick('POST');
    if (quick === true) return;
    if (quick === null && this.allows('POST', await this.lineage(parent), { ...draft, dir_id: parent._id })) return;
    throw new Forbidden('this token has no POST right on the directory where this would be created (nor on a directory above it)');
  }
}
