/**
 * Who may use the owner's settings routes (/settings/passphrase, /settings/twofactor…,
 * /settings/instance/auth_mode). As cozy-stack: a token with whole-type rights on io.cozy.settings
 * for the verb (the settings app, whose token also needs the session cookie; an OAuth client with
 * that scope). Hearth's own pages have no token, so the session cookie alone is accepted too, but
 * only on a request from the instance's own origin: a page of an app subdomain is same-site, so the
 * browser sends it the Lax cookie, and it must not reach these routes without a token that grants it.
 */
import type { FastifyRequest } from 'fastify';
import { Forbidden, Unauthorized } from '../common/errors.js';
import { instanceOf } from '../data/http/context.js';
import type { Instance } from '../instances/types.js';
import { extractToken, type PermissionResolver } from '../permissions/resolve.js';
import { Permissions, type Verb } from '../permissions/rules.js';
import { requestHost } from './http.js';
import { currentSession, type SessionDeps } from './session-http.js';
import type { Session } from './sessions.js';

export const SETTINGS_DOCTYPE = 'io.cozy.settings';

export interface OwnerDeps extends SessionDeps {
  perms: PermissionResolver;
}

/** A browser request from another origin (Origin or Sec-Fetch-Site say so); clients that send neither are not browsers. */
function crossOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `${req.protocol}://${requestHost(req)}`) return true;
  const site = req.headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

export async function requireOwner(deps: OwnerDeps, req: FastifyRequest, verb: Verb): Promise<{ instance: Instance; session: Session | null }> {
  const instance = instanceOf(req);
  if (extractToken(req)) {
    const set = await deps.perms.forRequest(instance, req);
    if (!Permissions.allowsWholeType(set, verb, SETTINGS_DOCTYPE)) throw new Forbidden(`this token has no ${verb} right on ${SETTINGS_DOCTYPE}`);
    return { instance, session: await currentSession(deps, instance, req) };
  }
  if (crossOrigin(req)) {
    throw new Forbidden(`the session cookie alone is accepted from the pages of ${instance.domain} only: an app sends its token (with rights on ${SETTINGS_DOCTYPE})`);
  }
  const session = await currentSession(deps, instance, req);
  if (!session) throw new Unauthorized('no valid session: log in at /auth/login');
  return { instance, session };
}
