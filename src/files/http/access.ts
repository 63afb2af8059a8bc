/**
 * The one check of every /files route, as cozy-stack's AllowVFS: a whole-type rule on io.cozy.files
 * covers everything; a rule whose `values` hold a directory id covers that directory's whole
 * subtree (the document is allowed when any id of its lineage, from the root down to itself, is in
 * the values); a rule with a selector reads the document's own fields (mime, class, tags…).
 * Creating something needs POST on the directory it goes in (or one above it). App, konnector,
 * OAuth, CLI and share tokens all go through here.
 */
import type { FastifyRequest } from 'fastify';
import { Forbidden } from '../../common/errors.js';
import type { Doc } from '../../data/store.js';
import { instanceOf } from '../../data/http/context.js';
import type { Instance } from '../../instances/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import { Permissions, docFetcher, type Fetcher, type PermissionSet, type Verb } from '../../permissions/rules.js';
import type { Vfs } from '../vfs.js';
import { FILES_DOCTYPE, isDir, type FileDoc } from '../types.js';

export interface Caller {
  instance: Instance;
  set: PermissionSet;
}

export async function callerOf(perms: PermissionResolver, req: FastifyRequest): Promise<Caller> {
  const instance = instanceOf(req);
  return { instance, set: await perms.forRequest(instance, req) };
}

/** The slug of the app or konnector behind a token (cozyMetadata.createdByApp), if any. */
export function appSlugOf(set: PermissionSet): string | undefined {
  if ((set.type !== 'app' && set.type !== 'konnector') || !set.sourceId) return undefined;
  return set.sourceId.slice(set.sourceId.indexOf('/') + 1) || undefined;
}

/** Does some rule allow `verb` on a document with these lineage `ids` and these fields? */
function allowsLineage(set: PermissionSet, verb: Verb, ids: string[], fields: Fetcher['fetch']): boolean {
  return ids.some((id) => Permissions.allowsDoc(set, verb, FILES_DOCTYPE, { id, fetch: fields }));
}

/** Answers without the lineage when the set decides alone (owner, whole-type rule, or no rule at all). */
function quick(set: PermissionSet, verb: Verb): boolean | null {
  if (Permissions.allowsWholeType(set, verb, FILES_DOCTYPE)) return true;
  const mayMatch = set.rules.some((r) => Permissions.allowsDoc({ ...set, rules: [{ ...r, values: undefined, selector: undefined }] }, verb, FILES_DOCTYPE, docFetcher({})));
  return mayMatch ? null : false;
}

const what = (doc: FileDoc) => (isDir(doc) ? 'this directory' : 'this file');

/** Throws 403 unless the caller may `verb` the document `doc` (or a directory above it). */
export async function allowVfs(vfs: Vfs, c: Caller, verb: Verb, doc: FileDoc): Promise<void> {
  const decided = quick(c.set, verb);
  if (decided === true) return;
  if (decided === null) {
    const fields = docFetcher(doc).fetch;
    if (allowsLineage(c.set, verb, [doc._id], fields)) return;
    if (allowsLineage(c.set, verb, await vfs.fs.lineage(c.instance, doc), fields)) return;
  }
  throw new Forbidden(`this token has no ${verb} right on ${what(doc)} (nor on a directory above it)`);
}

/**
 * Throws 403 unless the caller may create `draft` (its would-be fields: type, name, mime, class…) in
 * the directory `parent`: POST on that directory or one above it, or a selector rule matching the draft.
 */
export async function allowCreate(vfs: Vfs, c: Caller, parent: FileDoc, draft: Doc): Promise<void> {
  const decided = quick(c.set, 'POST');
  if (decided === true) return;
  if (decided === null && allowsLineage(c.set, 'POST', await vfs.fs.lineage(c.instance, parent), docFetcher({ ...draft, dir_id: parent._id }).fetch)) return;
  throw new Forbidden('this token has no POST right on the directory where this would be created (nor on a directory above it)');
}
