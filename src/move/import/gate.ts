/**
 * The blocked instance (cozy-stack web/middlewares/instance.go CheckInstanceBlocked): while an instance is `importing`,
 * `moving` or `exporting` for a move (../state.ts), every request to it, on its domain and on its apps' hosts, answers JSON
 * `503 {"error": …}` with Retry-After, or `302 /move/importing` for a browser asking for a page; the `/move/*` routes
 * and the CLI's tokens pass, and konnectors' while the reset of an import runs their `on_delete_account` scripts
 * (./service.ts). The admin API is another server: it is not gated.
 * The instance and its move state were looked up once by the public server's first hook (server/request-instance.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Instance } from '../../instances/types.js';
import { isBlocked, type MoveStatus } from '../state.js';

export const BLOCKED_RETRY_AFTER_S = 30;

const BLOCKED_ERRORS: Record<MoveStatus, string> = {
  importing: 'this instance is importing data: retry later',
  moving: 'this instance is being moved: retry later',
  exporting: 'this instance is being moved to another server: retry later',
  moved: 'this instance moved to another server',
};

export interface GateDeps {
  /** The audience of a bearer token of the instance, or null when it is not valid. */
  audienceOf(instance: Instance, token: string): Promise<string | null>;
}

/** The onRequest hook (server/public.ts adds it after the instance lookup, before the app hosts' one). */
export function moveGate(deps: GateDeps): (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | void> {
  return async (req, reply) => {
    const { instance, moveState: state } = req;
    if (!instance || !isBlocked(state)) return;
    const appHost = req.hostApp !== null;
    const path = req.url.split('?')[0] ?? '';
    if (!appHost && (path.startsWith('/move/') || path === '/move')) return;
    const auth = String(req.headers.authorization ?? '');
    if (auth.startsWith('Bearer ')) {
      const aud = await deps.audienceOf(instance, auth.slice(7).trim());
      // konnectors, while the reset of an import runs their account-deletion scripts (cozy-stack's "allowed" deletion)
      if (aud === 'cli' || (aud === 'konn' && state.detail.cleaningAccounts === true)) return;
    }
    const accept = String(req.headers.accept ?? '');
    if ((req.method === 'GET' || req.method === 'HEAD') && accept.includes('text/html')) {
      const scheme = req.protocol === 'https' ? 'https' : 'http';
      return reply.code(302).header('Location', `${scheme}://${instance.domain}/move/importing`).header('Cache-Control', 'no-store').send();
    }
    return reply.code(503).header('Retry-After', String(BLOCKED_RETRY_AFTER_S)).header('Cache-Control', 'no-store')
      .send({ error: BLOCKED_ERRORS[state.status] });
  };
}
