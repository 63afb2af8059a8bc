/**
 * App hosts in the public server (cozy-stack's firstRouting): a Host that is not an instance itself but an app host
 * (hosts.ts, `apps.subdomains`) of an existing instance goes to the app server, whatever the path and method; any
 * other host goes on to the API. The instance and the app of the Host were looked up by the public server's first hook
 * (server/request-instance.ts: `req.instance`, `req.hostApp`).
 */
import type { FastifyInstance } from 'fastify';
import type { AppServer } from './serve.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request went to an app host: its headers are the app server's (no API CSP on top). */
    appHost: boolean;
  }
}

const CORS_HEADERS = ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age'];

export interface AppHostDeps {
  server: AppServer;
}

export function registerAppHosts(app: FastifyInstance, deps: AppHostDeps): void {
  app.decorateRequest('appHost', false);
  app.addHook('onRequest', async (req, reply) => {
    const { instance, hostApp: split } = req;
    if (!instance || !split) return;
    req.appHost = true;
    // The API's CORS (origin reflected with credentials) must not reach app hosts: another app host of the instance is
    // same-site, gets the Lax cookie, and could read this app's page and its token.
    for (const h of CORS_HEADERS) reply.removeHeader(h);
    await deps.server.handle(req, reply, { instance, slug: split.slug, instanceHost: split.instanceHost });
    return reply;
  });
}
