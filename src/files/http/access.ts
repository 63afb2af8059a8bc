/**
 * The caller of a /files route and its rights, checked by the file system's one rights module
 * (files/rights.ts, shared with WebDAV). App, konnector, OAuth, CLI and share tokens all go through here.
 */
import type { FastifyRequest } from 'fastify';
import type { Doc } from '../../data/store.js';
import { instanceOf } from '../../data/http/context.js';
import type { Instance } from '../../instances/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import type { PermissionSet, Verb } from '../../permissions/rules.js';
import { FileRights } from '../rights.js';
import type { Vfs } from '../vfs.js';
import type { FileDoc } from '../types.js';

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

/** Throws 403 unless the caller may `verb` the document `doc` (or a directory above it). */
export function allowVfs(vfs: Vfs, c: Caller, verb: Verb, doc: FileDoc): Promise<void> {
  return new FileRights(vfs, c.instance, c.set).assert(verb, doc);
}

/**
 * Throws 403 unless the caller may create `draft` (its would-be fields: type, name, mime, class…) in
 * the directory `parent`: POST on that directory or one above it, or a selector rule matching the draft.
 */
export function allowCreate(vfs: Vfs, c: Caller, parent: FileDoc, draft: Doc): Promise<void> {
  return new FileRights(vfs, c.instance, c.set).assertCreate(parent, draft);
}
