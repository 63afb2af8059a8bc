/**
 * The clients-limit page's two halves shared by GET /settings/clients/limit-exceeded and GET /auth/authorize (cozy-stack
 * renders oauth_clients_limit_exceeded.html from both): the page itself, and POST /auth/clients/disconnect (Hearth's: the
 * owner removes a device from that page and comes back to it; cozy-stack's page does it with a settings token and a script).
 * The form lives under /auth: its CSRF cookie is scoped there and CORS is off, so no app host can read or submit it.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { Forbidden, NotFound, Unauthorized } from '../common/errors.js';
import type { HearthConfig } from '../config/types.js';
import { csrfForForm, csrfValid } from '../auth/csrf.js';
import { currentSession, type SessionDeps } from '../auth/session-http.js';
import { appOrigin } from '../apps/hosts.js';
import { instanceOf } from '../data/http/context.js';
import type { Instance } from '../instances/types.js';
import type { OAuthClient, OAuthClients } from './clients.js';
import { connectedDevices } from './clients-limit.js';
import { limitExceededPage } from './usage-page.js';
import * as S from './usage-schemas.js';

export interface LimitPageDeps {
  config: HearthConfig;
  clients: OAuthClients;
  session: SessionDeps;
}

/** Where a disconnection may come back to: the two pages that show the form, as paths of this instance. */
const BACK = /^\/(?:settings\/clients\/limit-exceeded|auth\/authorize)(?:\?[^#]*)?$/;

/** Sends the page (200, its own CSP: no script, forms to this origin only). */
export function sendLimitPage(req: FastifyRequest, reply: FastifyReply, deps: LimitPageDeps, o: { instance: Instance; count: number; limit: number; devices: OAuthClient[]; newTab: boolean }): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const manage = `${appOrigin(o.instance.domain, 'settings', deps.config.apps.subdomains, req.protocol)}/#/connectedDevices`;
  const back = BACK.test(req.url) ? req.url : '/settings/clients/limit-exceeded';
  const page = limitExceededPage({ locale: o.instance.locale, count: o.count, limit: o.limit, manage, newTab: o.newTab, nonce, devices: o.devices, csrf: csrfForForm(req, reply), back });
  return reply.code(200)
    .header('Content-Security-Policy', `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`)
    .header('Cache-Control', 'no-store').header('X-Frame-Options', 'DENY').type('text/html; charset=utf-8').send(page);
}

/** POST /auth/clients/disconnect: deletes one of the owner's device clients (its tokens stop at once), then 303 back. */
export function registerDisconnectRoute(auth: FastifyInstance, deps: LimitPageDeps): void {
  auth.post<{ Body: Record<string, unknown> }>('/auth/clients/disconnect', { bodyLimit: 16 * 1024, schema: S.disconnect }, async (req, reply) => {
    const instance = instanceOf(req);
    if (!csrfValid(req, req.body?.csrf_token)) throw new Forbidden('this form has expired: reload the page and try again');
    if (!(await currentSession(deps.session, instance, req))) throw new Unauthorized('log in first: this page is the owner\'s');
    const id = req.body?.client_id;
    const device = typeof id === 'string' ? (await connectedDevices(deps.clients, instance)).find((c) => c.client_id === id) : undefined;
    if (!device) throw new NotFound('no such connected device');
    await deps.clients.delete(instance, device.client_id);
    const back = typeof req.body?.back === 'string' && BACK.test(req.body.back) ? req.body.back : '/settings/clients/limit-exceeded';
    return reply.code(303).header('Location', back).header('Cache-Control', 'no-store').send();
  });
}
