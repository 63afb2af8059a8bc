/** The HTTP side shared by a move's routes: pages with their CSP, the move token check, the owner's session. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { Forbidden } from '../../common/errors.js';
import { instanceOf } from '../../data/http/context.js';
import type { Instance } from '../../instances/types.js';
import { Permissions } from '../../permissions/rules.js';
import { requestHost } from '../../auth/http.js';
import { currentSession } from '../../auth/session-http.js';
import { langOf, type Lang } from '../../auth/login-page.js';
import type { Session } from '../../auth/sessions.js';
import { splitAppHost } from '../../apps/hosts.js';
import type { TransferDeps } from './deps.js';
import { messagePage, say } from './pages.js';

export const IMPORTS_DOCTYPE = 'io.cozy.imports';

/** Sends a page: a fresh nonce for its style and script, a closed CSP but for `formAction`. */
export function sendPage(reply: FastifyReply, status: number, render: (nonce: string) => string, formAction = "'self'"): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action ${formAction}`;
  return reply.code(status).header('Content-Security-Policy', csp).header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer')
    .type('text/html; charset=utf-8').send(render(nonce));
}

export const langFor = (instance: Instance): Lang => langOf(instance.locale);

/** A page that says why the move cannot go on (400 by default), with a link back to the start. */
export function errorPage(reply: FastifyReply, instance: Instance, text: string, status = 400): FastifyReply {
  const lang = langFor(instance);
  return sendPage(reply, status, (nonce) => messagePage(lang, nonce, { title: 'errorTitle', text, alert: true, link: { href: '/', label: say(lang, 'back') } }));
}

/** The owner's session, or null after the browser was sent to the login page (back here afterwards). */
export async function ownerOrLogin(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<{ instance: Instance; session: Session } | null> {
  const instance = instanceOf(req);
  const session = await currentSession({ registry: deps.registry, sessions: deps.sessions, subdomains: deps.config.apps.subdomains }, instance, req);
  if (session) return { instance, session };
  const self = `${req.protocol}://${requestHost(req)}${req.url}`;
  void reply.code(303).header('Location', `/auth/login?redirect=${encodeURIComponent(self)}`).header('Cache-Control', 'no-store').send();
  return null;
}

/** The other server's move token: a token of this instance with POST on the whole io.cozy.imports (cozy-stack's right). */
export async function requireMoveToken(deps: TransferDeps, req: FastifyRequest): Promise<Instance> {
  const instance = instanceOf(req);
  const set = await deps.perms.forRequest(instance, req);
  if (!Permissions.allowsWholeType(set, 'POST', IMPORTS_DOCTYPE)) throw new Forbidden(`this token has no POST right on ${IMPORTS_DOCTYPE}: a move token is needed`);
  return instance;
}

/**
 * A form posted by the owner's browser from this instance's pages or its apps' (the settings app posts
 * /move/initialize): the cookie alone is not enough from another site.
 */
export function fromOwnPages(req: FastifyRequest, deps: TransferDeps): boolean {
  const origin = req.headers.origin;
  const host = requestHost(req);
  // the apps' pages send no Referer, so a browser says `Origin: null` for their cross-origin forms: the fetch metadata decide
  if (origin === undefined || origin === 'null') {
    const site = req.headers['sec-fetch-site'];
    if (site === undefined) return origin === undefined;
    return site === 'same-origin' || site === 'same-site' || site === 'none';
  }
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== `${req.protocol}:`) return false;
  if (url.host === host) return true;
  return splitAppHost(url.host, deps.config.apps.subdomains)?.instanceHost === host;
}

/** The page's query or form fields as strings (anything else is absent). */
export function fields(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    for (const [k, v] of Object.entries(raw)) if (typeof v === 'string' && v.length <= 4096) out[k] = v;
  }
  return out;
}
