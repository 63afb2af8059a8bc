/**
 * What cozy-stack says about the owner's connected devices (web/settings/clients*.go):
 * `POST /settings/synchronized` (an OAuth client records its last synchronization), `GET /settings/clients-usage`
 * (how many device clients against the flag `cozy.oauthclients.max`) and `GET /settings/clients/limit-exceeded`
 * (the owner's page when there are too many, otherwise a redirect).
 */
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { InvalidToken, Unauthorized } from '../common/errors.js';
import type { HearthConfig } from '../config/types.js';
import { instanceOf } from '../data/http/context.js';
import type { Instance, InstanceSettingsStore } from '../instances/types.js';
import type { OwnerDeps } from '../auth/owner.js';
import { safeRedirect } from '../auth/http.js';
import { currentSession } from '../auth/session-http.js';
import { appOrigin } from '../apps/hosts.js';
import { onDoc, settingsCaller, SETTINGS_DOCTYPE } from '../settings/access.js';
import { appRedirection } from '../settings/redirections.js';
import { configFlag } from '../settings/flags.js';
import type { OAuthClients } from './clients.js';
import { limitExceededPage } from './usage-page.js';
import * as S from './usage-schemas.js';

export interface ClientUsageDeps extends OwnerDeps {
  clients: OAuthClients;
  config: HearthConfig;
  /** The instance's own default redirection. */
  settings: InstanceSettingsStore;
}

const USAGE_ID = 'io.cozy.settings.clients-usage';

/** The limit of the flag `cozy.oauthclients.max`, or null when there is none (cozy-stack: a number ≥ 0). */
function clientsLimit(config: HearthConfig): number | null {
  const max = configFlag(config.settings.flags, 'cozy.oauthclients.max');
  return typeof max === 'number' && max >= 0 ? Math.floor(max) : null;
}

/** The clients of the owner's devices, as cozy-stack counts them: those with a kind and a name. */
async function connectedCount(clients: OAuthClients, instance: Instance): Promise<number> {
  return (await clients.list(instance)).filter((c) => !!c.client_kind && !!c.client_name).length;
}

export function registerClientUsageRoutes(app: FastifyInstance, deps: ClientUsageDeps): void {
  app.post('/settings/synchronized', { schema: S.synchronized }, async (req, reply) => {
    const instance = instanceOf(req);
    const set = await deps.perms.forRequest(instance, req);
    // cozy-stack: the token's subject must be an OAuth client of this instance
    if (set.type !== 'oauth' || !set.sourceId) throw new InvalidToken('Invalid JWT token');
    await deps.clients.markSynchronized(instance, set.sourceId.slice(set.sourceId.indexOf('/') + 1));
    return reply.code(204).send();
  });

  app.get('/settings/clients-usage', { schema: S.clientsUsage }, async (req, reply) => {
    const c = await settingsCaller(deps, req, onDoc('GET', USAGE_ID), `read ${USAGE_ID}`);
    const limit = clientsLimit(deps.config);
    const count = await connectedCount(deps.clients, c.instance);
    const attributes = { ...(limit === null ? {} : { limit }), count, limitReached: limit !== null && count >= limit, limitExceeded: limit !== null && count > limit };
    return reply.type('application/vnd.api+json').send({ data: { type: SETTINGS_DOCTYPE, id: USAGE_ID, attributes, meta: {}, links: { self: '/settings/clients-usage' } } });
  });

  app.get<{ Querystring: { redirect?: string; isFlagship?: string } }>('/settings/clients/limit-exceeded', { schema: S.limitExceeded }, async (req, reply) => {
    const instance = instanceOf(req);
    if (!(await currentSession(deps, instance, req))) throw new Unauthorized('log in first: this page is the owner\'s');
    const limit = clientsLimit(deps.config);
    const count = limit === null ? 0 : await connectedCount(deps.clients, instance);
    if (limit === null || count <= limit) {
      const { settings } = await deps.settings.settings(instance);
      const fallback = appRedirection(deps.config, instance, settings.defaultRedirection ?? deps.config.settings.defaultRedirection, req.protocol);
      return reply.code(302).header('Location', req.query.redirect ? safeRedirect(req.query.redirect, instance, req) : fallback).send();
    }
    const nonce = randomBytes(16).toString('base64');
    const manage = `${appOrigin(instance.domain, 'settings', deps.config.apps.subdomains, req.protocol)}/#/connectedDevices`;
    return reply
      .header('Content-Security-Policy', `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'`)
      .header('Cache-Control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(limitExceededPage({ locale: instance.locale, count, limit, manage, newTab: req.query.isFlagship === 'true', nonce }));
  });
}
