/**
 * Operations on the admin port, behind its Basic auth (the hook registerAdminRoutes puts on the
 * admin app covers these routes too): GET /metrics for Prometheus, and Swagger UI at /docs
 * showing the public API's OpenAPI document (the one the public port serves at /openapi.json).
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { content } from '../common/schemas.js';
import type { HearthMetrics } from './metrics.js';

export interface OpsAdminDeps {
  metrics: HearthMetrics;
  /** The public app's generated document (publicApp.swagger()). */
  publicDocument(): Record<string, unknown>;
  version: string;
  /** The instance "Try it out" sends requests to, by default (the dev instance in --dev). */
  exampleInstance: string;
}

export const DOCS_PREFIX = '/docs';
/** Swagger UI's page loads its own scripts and styles only (no CDN, no validator badge). */
const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

export async function registerOpsAdminRoutes(app: FastifyInstance, deps: OpsAdminDeps): Promise<void> {
  const metrics = { summary: 'Prometheus metrics of this process (text format)', tags: ['ops'], response: { 200: content('The metrics', ['text/plain']) } };
  app.get('/metrics', { schema: metrics }, async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));
  // swagger-ui needs @fastify/swagger on its own app: a static placeholder, replaced by the public document when served
  await app.register(swagger, { mode: 'static', specification: { document: { openapi: '3.0.3', info: { title: 'Hearth public API', version: deps.version }, paths: {} } } });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: DOCS_CSP,
    uiConfig: { validatorUrl: null, deepLinking: true },
    // the document is the public port's: "Try it out" must go to an instance, not to this port
    transformSpecification: () => ({
      ...deps.publicDocument(),
      servers: [{ url: '{scheme}://{instance}', description: 'An instance of this server', variables: { scheme: { enum: ['https', 'http'], default: deps.exampleInstance.includes('localhost') ? 'http' : 'https' }, instance: { default: deps.exampleInstance } } }],
    }),
    transformSpecificationClone: false,
  });
}
