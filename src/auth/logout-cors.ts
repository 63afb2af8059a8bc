/**
 * Logging out from an app host (contract §1, last bullet): the cozy-bar on `<slug>.<instance>` calls `DELETE /auth/login`
 * (and `/auth/login/others`) with the app's token. /auth otherwise answers without CORS (http.ts withoutCors); these two
 * get their own preflights, and their answers, that reflect an Origin that is an app host of the instance, with
 * credentials. Any other Origin gets no CORS header (the browser then refuses to send or read).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Unauthorized } from '../common/errors.js';
import { instanceOf } from '../data/http/context.js';
import { extractToken } from '../permissions/resolve.js';
import { requestHost, safeRedirect } from './http.js';
import { requireOwner, type OwnerDeps } from './owner.js';
import { preflight } from './schemas.js';
import { currentSession } from './session-http.js';
import type { Session } from './sessions.js';
import type { Instance } from '../instances/types.js';

const PATHS = ['/auth/login', '/auth/login/others'];

/**
 * The request's Origin when it is one of the instance's app hosts (not the instance itself), else null. The global CORS
 * plugin answers preflights before the instance is looked up: then it is looked up here.
 */
async function appOrigin(deps: OwnerDeps, req: FastifyRequest): Promise<string | null> {
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || origin === `${req.protocol}://${requestHost(req)}`) return null;
  const instance = req.instance ?? (await deps.registry.findByHost(requestHost(req)));
  if (!instance) return null;
  return safeRedirect(`${origin}/`, instance, req, deps.subdomains) === `${origin}/` ? origin : null;
}

/** Who may log out: an app token of this instance (bound to the session, so the session is the one it names), or requireOwner's callers. */
export async function logoutCaller(deps: OwnerDeps, req: FastifyRequest): Promise<{ instance: Instance; session: Session }> {
  const instance = instanceOf(req);
  if (extractToken(req)) {
    const set = await deps.perms.forRequest(instance, req).catch(() => null);
    if (set?.type === 'app') {
      const session = await currentSession(deps, instance, req);
      if (session) return { instance, session };
    }
  }
  const { session } = await requireOwner(deps, req, 'DELETE');
  if (!session) throw new Unauthorized('no valid session: log in at /auth/login');
  return { instance, session };
}

/**
 * In the /auth plugin scope, after withoutCors: its onSend hook runs first (and strips what the global CORS plugin
 * added, which also answers preflights itself, before any route), this one puts the app host's headers back.
 */
export function logoutCors(app: FastifyInstance, deps: OwnerDeps): void {
  for (const path of PATHS) app.options(path, { schema: preflight }, async (_req, reply) => reply.code(204).send());
  app.addHook('onSend', async (req, reply, payload) => {
    if ((req.method !== 'DELETE' && req.method !== 'OPTIONS') || !PATHS.includes(req.url.split('?')[0] ?? '')) return payload;
    const origin = await appOrigin(deps, req);
    if (!origin) return payload;
    void reply.header('Access-Control-Allow-Origin', origin).header('Access-Control-Allow-Credentials', 'true').header('Vary', 'Origin');
    if (req.method === 'OPTIONS') {
      void reply.header('Access-Control-Allow-Methods', 'DELETE').header('Access-Control-Allow-Headers', 'Authorization, Content-Type').header('Access-Control-Max-Age', '43200');
    }
    return payload;
  });
}
