/**
 * App hosts in the public server (cozy-stack's firstRouting): a Host that is not an instance itself but an app host
 * (hosts.ts, `apps.subdomains`) of an existing instance goes to the app server, whatever the path and method; any
 * other host goes on to the API. Registered before the API's instance lookup.
 */
import type { FastifyInstance } from 'fastify';
import type { InstanceRegistry } from '../../instances/types.js';
import { splitAppHost, type SubdomainMode } from '../hosts.js';
import type { AppServer } from './serve.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request went to an app host: its headers are the app server's (no API CSP on top). */
    appHost: boolean;
  }
}

const CORS_HEADERS = ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age'];

export interface AppHostDeps {
  registry: InstanceRegistry;
  subdomains: SubdomainMode;
  server: AppServer;
}

export function registerAppHosts(app: FastifyInstance, deps: AppHostDeps): void {
  app.decorateRequest('appHost', false);
  app.addHook('onRequest', async (req, reply) => {
    const host = String(req.headers.host ?? '').toLowerCase();
    const split = splitAppHost(host, deps.subdomains);
    if (!split || (await deps.registry.findByHost(host))) return;
    const instance = await deps.registry.findByHost(split.instanceHost);
    if (!instance) return;
    req.instance = instance;
    req.appHost = true;
    // The API's CORS (origin reflected with credentials) must not reach app hosts: another app host of the instance is
    // same-site, gets the Lax cookie, and could read this app's page and its token.
    for (const h of CORS_HEADERS) reply.removeHeader(h);
    await deps.server.handle(req, reply, { instance, slug: split.slug, instanceHost: split.instanceHost });
    return reply;
  });
}
