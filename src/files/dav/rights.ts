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
import type { Instance } from '../../instances/types.js';
import { extractToken, type PermissionResolver } from '../../permissions/resolve.js';
import { Permissions, docFetcher, type PermissionSet } from '../../permissions/rules.js';
import { FILES_DOCTYPE } from '../types.js';

/**
 * Who holds a WebDAV lock: the credential behind the token, stable across its renewals — an app password (its
 * id), an OAuth client (its id: a refreshed access token is the same principal), an app or konnector (its slug),
 * a share (its permission document), a CLI token (its subject; the resolver has already verified it).
 */
export function principalOf(set: PermissionSet, token: string): string {
  if (set.type === 'share' || set.type === 'share-preview') return `${set.type}:${set.docId ?? ''}`;
  if (set.sourceId) return `${set.type}:${set.sourceId}`;
  let sub = '';
  try {
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { sub?: unknown };
    sub = typeof claims.sub === 'string' ? claims.sub : '';
  } catch {
    sub = '';
  }
  return `${set.type}:${sub}`;
}

/** Instance, rights and principal of a request; 401 without a token, 403 without any right on io.cozy.files. */
export async function authenticate(perms: PermissionResolver, req: FastifyRequest): Promise<{ instance: Instance; set: PermissionSet; principal: string }> {
  const instance = req.instance;
  if (!instance) throw new NotFound('no instance is served at this address');
  const token = extractToken(req);
  if (!token) throw new Unauthorized();
  const set = await perms.forRequest(instance, req);
  // some rule names io.cozy.files (or a wildcard above it), whatever its verbs and values
  const any = set.type === 'owner' || set.rules.some((r) => Permissions.allowsDoc({ ...set, rules: [{ type: r.type }] }, 'GET', FILES_DOCTYPE, docFetcher({})));
  if (!any) throw new Forbidden('this token has no right on io.cozy.files (the files), which WebDAV needs');
  return { instance, set, principal: principalOf(set, token) };
}

/** The rights of one WebDAV request (the same check as /files). */
export { FileRights as Rights } from '../rights.js';
