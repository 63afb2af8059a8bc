/**
 * Who may list, read, install, update and uninstall apps (cozy-stack's `AllowInstallApp`, cozy-apps.md §4.1):
 * the owner's session (from the instance's own pages), a CLI token with the right on the doctype, the `store`
 * app for registry sources only, and other apps, konnectors and OAuth clients only when
 * `apps.allowInstallViaPermission` is on (registry sources only, with the right on the doctype).
 */
import type { FastifyRequest } from 'fastify';
import { Forbidden } from '../../common/errors.js';
import { instanceOf } from '../../data/http/context.js';
import type { Instance } from '../../instances/types.js';
import { requireOwner, type OwnerDeps } from '../../auth/owner.js';
import { extractToken } from '../../permissions/resolve.js';
import { Permissions, type PermissionSet, type Verb } from '../../permissions/rules.js';

export const OWNER: PermissionSet = { type: 'owner', sourceId: null, rules: [] };

export interface Caller {
  instance: Instance;
  set: PermissionSet;
}

/** The caller's rights: its token's, or the owner's for a session cookie sent from the instance's own pages. */
export async function callerOf(deps: OwnerDeps, req: FastifyRequest, verb: Verb): Promise<Caller> {
  const instance = instanceOf(req);
  if (!extractToken(req)) {
    await requireOwner(deps, req, verb);
    return { instance, set: OWNER };
  }
  return { instance, set: await deps.perms.forRequest(instance, req) };
}

/** Reads: GET on the whole doctype (lists) or on the doc (one app). */
export function mayRead(set: PermissionSet, doctype: string, docId?: string): void {
  const ok = docId === undefined ? Permissions.allowsWholeType(set, 'GET', doctype) : Permissions.allowsDoc(set, 'GET', doctype, { id: docId, fetch: () => [] });
  if (!ok) throw new Forbidden(`this token cannot read ${docId ?? `the whole doctype ${doctype}`}`);
}

/** Install (POST), update (PUT), uninstall (DELETE). `source` is the package's, when the operation fetches one. */
export function mayInstall(set: PermissionSet, verb: Verb, doctype: string, source: string | null, allowViaPermission: boolean): void {
  if (set.type === 'owner') return;
  const right = Permissions.allowsWholeType(set, verb, doctype);
  if (set.type === 'cli') {
    if (!right) throw new Forbidden(`this CLI token has no ${verb} right on ${doctype}`);
    return;
  }
  const registryOnly = source === null || source.startsWith('registry://');
  if (set.type === 'app' && set.sourceId === 'io.cozy.apps/store') {
    if (!registryOnly) throw new Forbidden('the store installs from registry:// sources only');
    return;
  }
  if ((set.type === 'app' || set.type === 'konnector' || set.type === 'oauth') && allowViaPermission && right) {
    if (!registryOnly) throw new Forbidden('apps install from registry:// sources only');
    return;
  }
  throw new Forbidden('only the owner, the CLI and the store may install, update or uninstall apps');
}
