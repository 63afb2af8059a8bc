/**
 * The blocked instance (cozy-stack web/middlewares/instance.go CheckInstanceBlocked): while an instance is `importing`
 * or `moving` (../state.ts), every request to it, on its domain and on its apps' hosts, answers JSON
 * `503 {"error": …}` with Retry-After, or `302 /move/importing` for a browser asking for a page; the `/move/*` routes
 * and the CLI's tokens pass. The admin API is another server: it is not gated.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { splitAppHost, type SubdomainMode } from '../../apps/hosts.js';
import type { Instance } from '../../instances/types.js';
import type { MoveStateStore } from '../state.js';

export const BLOCKED_RETRY_AFTER_S = 30;

export interface GateDeps {
  findByHost(host: string): Promise<Instance | null>;
  moveStates: Pick<MoveStateStore, 'get'>;
  /** The audience of a bearer token of the instance, or null when it is not valid. */
  audienceOf(instance: Instance, token: string): Promise<string | null>;
  subdomains: SubdomainMode;
}

async function instanceOf(deps: GateDeps, host: string): Promise<{ instance: Instance; appHost: boolean } | null> {
  const own = await deps.findByHost(host).catch(() => null);
  if (own) return { instance: own, appHost: false };
  const split = splitAppHost(host, deps.subdomains);
  const instance = split ? await deps.findByHost(split.instanceHost).catch(() => null) : null;
  return instance ? { instance, appHost: true } : null;
}

/** The onRequest hook (server/public.ts adds it before the app hosts' one). */
export function moveGate(deps: GateDeps): (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | void> {
  return async (req, reply) => {
    const host = String(req.headers.host ?? '').toLowerCase();
    const found = host ? await instanceOf(deps, host) : null;
    if (!found) return;
    const state = await deps.moveStates.get(found.instance.id);
    if (state?.status !== 'importing' && state?.status !== 'moving') return;
    const path = req.url.split('?')[0] ?? '';
    if (!found.appHost && (path.startsWith('/move/') || path === '/move')) return;
    const auth = String(req.headers.authorization ?? '');
    if (auth.startsWith('Bearer ') && (await deps.audienceOf(found.instance, auth.slice(7).trim())) === 'cli') return;
    const accept = String(req.headers.accept ?? '');
    if ((req.method === 'GET' || req.method === 'HEAD') && accept.includes('text/html')) {
      const scheme = req.protocol === 'https' ? 'https' : 'http';
      return reply.code(302).header('Location', `${scheme}://${found.instance.domain}/move/importing`).header('Cache-Control', 'no-store').send();
    }
    return reply.code(503).header('Retry-After', String(BLOCKED_RETRY_AFTER_S)).header('Cache-Control', 'no-store')
      .send({ error: state.status === 'moving' ? 'this instance is being moved: retry later' : 'this instance is importing data: retry later' });
  };
}
