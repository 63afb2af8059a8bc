/**
 * What cozy-stack says about the owner's connected devices (web/settings/clients*.go):
 * `POST /settings/synchronized` (an OAuth client records its last synchronization), `GET /settings/clients-usage`
 * (how many device clients against the flag `cozy.oauthclients.max`) and `GET /settings/clients/limit-exceeded`
 * (the owner's page when there are too many, otherwise a redirect).
 */
import type { FastifyInstance } from 'fastify';
import { InvalidToken, Unauthorized } from '../common/errors.js';
import type { HearthConfig } from '../config/types.js';
import { instanceOf } from '../data/http/context.js';
import type { Instance, InstanceSettingsStore } from '../instances/types.js';
import type { OwnerDeps } from '../auth/owner.js';
import { safeRedirect, withoutCors } from '../auth/http.js';
import { currentSession } from '../auth/session-http.js';
import { onDoc, settingsCaller, SETTINGS_DOCTYPE } from '../settings/access.js';
import { appRedirection } from '../settings/redirections.js';
import type { OAuthClients } from './clients.js';
import { clientsLimit, connectedDevices } from './clients-limit.js';
import { sendLimitPage } from './limit-exceeded.js';
import * as S from './usage-schemas.js';

export interface ClientUsageDeps extends OwnerDeps {
  clients: OAuthClients;
  config: HearthConfig;
  /** The instance's own default redirection. */
  settings: InstanceSettingsStore;
}

const USAGE_ID = 'io.cozy.settings.clients-usage';

async function connectedCount(clients: OAuthClients, instance: Instance): Promise<number> {
  return (await connectedDevices(clients, instance)).length;
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

  void app.register(async (page) => {
    // the page carries a CSRF token for its forms: never readable from an app host
    withoutCors(page, []);
    page.get<{ Querystring: { redirect?: string; isFlagship?: string } }>('/settings/clients/limit-exceeded', { schema: S.limitExceeded }, async (req, reply) => {
      const instance = instanceOf(req);
      if (!(await currentSession(deps, instance, req))) throw new Unauthorized('log in first: this page is the owner\'s');
      const limit = clientsLimit(deps.config);
      const devices = limit === null ? [] : await connectedDevices(deps.clients, instance);
      if (limit === null || devices.length <= limit) {
        const { settings } = await deps.settings.settings(instance);
        const fallback = appRedirection(deps.config, instance, settings.defaultRedirection ?? deps.config.settings.defaultRedirection, req.protocol);
        return reply.code(302).header('Location', req.query.redirect ? safeRedirect(req.query.redirect, instance, req, deps.config.apps.subdomains) : fallback).send();
      }
      return sendLimitPage(req, reply, { config: deps.config, clients: deps.clients, session: deps }, { instance, count: devices.length, limit, devices, newTab: req.query.isFlagship === 'true' });
    });
  });
}
