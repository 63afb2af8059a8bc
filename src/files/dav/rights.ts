/**
 * Who may do what over WebDAV: the token (Basic password or Bearer) read by the permission layer,
 * then the rules on io.cozy.files as /files applies them (cozy-stack's AllowVFS): a rule without
 * values covers everything, a rule whose values hold a directory id covers that directory's subtree
 * (any id of the document's lineage), a selector rule reads the document's own fields. Creating
 * needs POST on the directory it goes in (or one above). Verbs: PROPFIND/GET/HEAD read (GET), PUT
 * over a file (PUT), new files and collections (POST), DELETE, PROPPATCH and MOVE (PATCH), LOCK
 * and UNLOCK (PUT).
 */
import type { FastifyRequest } from 'fastify';
import { Forbidden, NotFound, Unauthorized } from '../../common/errors.js';
import type { Doc } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import { extractToken, type PermissionResolver } from '../../permissions/resolve.js';
import { Permissions, docFetcher, type PermissionSet, type Verb } from '../../permissions/rules.js';
import type { Vfs } from '../vfs.js';
import { FILES_DOCTYPE, isDir, type FileDoc } from '../types.js';

/** Instance and rights of a request; 401 without a token, 403 without any right on io.cozy.files. */
export async function authenticate(perms: PermissionResolver, req: FastifyRequest): Promise<{ instance: Instance; set: PermissionSet }> {
  const instance = req.instance;
  if (!instance) throw new NotFound('no instance is served at this address');
  if (!extractToken(req)) throw new Unauthorized();
  const set = await perms.forRequest(instance, req);
  // some rule names io.cozy.files (or a wildcard above it), whatever its verbs and values
  const any = set.type === 'owner' || set.rules.some((r) => Permissions.allowsDoc({ ...set, rules: [{ type: r.type }] }, 'GET', FILES_DOCTYPE, docFetcher({})));
  if (!any) throw new Forbidden('this token has no right on io.cozy.files (the files), which WebDAV needs');
  return { instance, set };
}

export class Rights {
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
      throw new Forbidden(`this token has no ${verb} right on this ${isDir(doc) ? 'collection' : 'file'} (nor on a directory above it)`);
    }
  }

  /** Creating `draft` (type, name…) in `parent`: POST on it or above, or a selector rule matching the draft. */
  async assertCreate(parent: FileDoc, draft: Doc): Promise<void> {
    const quick = this.quick('POST');
    if (quick === true) return;
    if (quick === null && this.allows('POST', await this.lineage(parent), { ...draft, dir_id: parent._id })) return;
    throw new Forbidden('this token has no POST right on the collection where this would be created (nor on a directory above it)');
  }
}
