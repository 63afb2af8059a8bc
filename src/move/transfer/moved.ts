/**
 * A moved instance (move state `moved`, peer = the new address; cozy-stack's `moved_to`): every request to it or to its
 * apps' hosts answers 410 Gone with the equivalent address on the new server — a page for a browser (the apps contract's
 * 410 page; the login page too), cozy's JSON error for the API. Registered before the app hosts and the API.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Instance, InstanceRegistry } from '../../instances/types.js';
import { appOrigin, splitAppHost, type SubdomainMode } from '../../apps/hosts.js';
import type { MoveStateStore } from '../state.js';
import { langFor, sendPage } from './http.js';
import { messagePage, say } from './pages.js';

export interface MovedGateDeps {
  registry: Pick<InstanceRegistry, 'findByHost'>;
  moveStates: Pick<MoveStateStore, 'get'>;
  subdomains: SubdomainMode;
}

async function resolve(deps: MovedGateDeps, host: string): Promise<{ instance: Instance; slug: string | null } | null> {
  try {
    const instance = await deps.registry.findByHost(host);
    if (instance) return { instance, slug: null };
    const split = splitAppHost(host, deps.subdomains);
    const owner = split ? await deps.registry.findByHost(split.instanceHost) : null;
    return owner && split ? { instance: owner, slug: split.slug } : null;
  } catch {
    return null; // a blocked instance: the API's own hook answers
  }
}

/** The same page on the new server: its host, or the app's host there (in the target's subdomain mode). */
export function equivalentUrl(peer: string, slug: string | null, mode: SubdomainMode, path: string): string {
  const base = new URL(peer);
  const origin = slug ? appOrigin(base.host, slug, mode, base.protocol.slice(0, -1)) : base.origin;
  return `${origin}${path.startsWith('/') ? path : '/'}`;
}

function wantsPage(req: FastifyRequest, slug: string | null): boolean {
  return slug !== null || String(req.headers.accept ?? '').includes('text/html');
}

export function registerMovedGate(app: FastifyInstance, deps: MovedGateDeps): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const found = await resolve(deps, String(req.headers.host ?? '').toLowerCase());
    if (!found) return;
    const state = await deps.moveStates.get(found.instance.id);
    if (state?.status !== 'moved' || !state.peer) return;
    const mode = state.detail.moved_to_subdomain_type === 'flat' ? 'flat' : 'nested';
    const to = equivalentUrl(state.peer, found.slug, mode, req.url);
    void reply.header('Link', `<${to}>; rel="alternate"`);
    if (!wantsPage(req, found.slug)) {
      return reply.code(410).type('application/vnd.api+json').send({ errors: [{ status: '410', title: 'Gone', detail: `this instance moved to ${new URL(state.peer).host}: ${to}` }] });
    }
    const lang = langFor(found.instance);
    return sendPage(reply, 410, (nonce) => messagePage(lang, nonce, { title: 'movedTitle', text: say(lang, 'movedText', { name: found.instance.publicName ?? found.instance.domain }), link: { href: to, label: to } }));
  });
}
