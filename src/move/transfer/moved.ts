/**
 * A moved instance (move state `moved`, peer = the new address; cozy-stack's `moved_to`): every request to it or to its
 * apps' hosts answers 410 Gone with the equivalent address on the new server — a page for a browser (the apps contract's
 * 410 page; the login page too), cozy's JSON error for the API. Registered before the app hosts and the API, after the
 * lookup of the instance and its move state (server/request-instance.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { appOrigin, type SubdomainMode } from '../../apps/hosts.js';
import { langFor, sendPage } from './http.js';
import { messagePage, say } from './pages.js';

/** The same page on the new server: its host, or the app's host there (in the target's subdomain mode). */
export function equivalentUrl(peer: string, slug: string | null, mode: SubdomainMode, path: string): string {
  const base = new URL(peer);
  const origin = slug ? appOrigin(base.host, slug, mode, base.protocol.slice(0, -1)) : base.origin;
  return `${origin}${path.startsWith('/') ? path : '/'}`;
}

function wantsPage(req: FastifyRequest, slug: string | null): boolean {
  return slug !== null || String(req.headers.accept ?? '').includes('text/html');
}

export function registerMovedGate(app: FastifyInstance): void {
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const { instance, moveState: state } = req;
    if (!instance || state?.status !== 'moved' || !state.peer) return;
    const slug = req.hostApp?.slug ?? null;
    const mode = state.detail.moved_to_subdomain_type === 'flat' ? 'flat' : 'nested';
    const to = equivalentUrl(state.peer, slug, mode, req.url);
    void reply.header('Link', `<${to}>; rel="alternate"`);
    if (!wantsPage(req, slug)) {
      return reply.code(410).type('application/vnd.api+json').send({ errors: [{ status: '410', title: 'Gone', detail: `this instance moved to ${new URL(state.peer).host}: ${to}` }] });
    }
    const lang = langFor(instance);
    return sendPage(reply, 410, (nonce) => messagePage(lang, nonce, { title: 'movedTitle', text: say(lang, 'movedText', { name: instance.publicName ?? instance.domain }), link: { href: to, label: to } }));
  });
}
