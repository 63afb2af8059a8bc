/**
 * Operations on the admin port, behind its Basic auth (the hook registerAdminRoutes puts on the
 * admin app covers these routes too): GET /metrics for Prometheus, and Swagger UI at /docs
 * showing the public API's OpenAPI document (the one the public port serves at /openapi.json).
 *
 * Swagger UI (with @fastify/static and yaml, ~80 ms and ~15 MB at start-up) lives on a private Fastify app
 * built on the first request to /docs; the admin app's /docs routes hand their requests to it.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { NotFound } from '../common/errors.js';
import { content, str } from '../common/schemas.js';
import type { HearthMetrics } from './metrics.js';

export interface OpsAdminDeps {
  metrics: HearthMetrics;
  /** The public app's generated document (publicApp.openApiDocument()). */
  publicDocument(): Promise<Record<string, unknown>>;
  version: string;
  /** The instance "Try it out" sends requests to, by default (the dev instance in --dev). */
  exampleInstance: string;
}

export const DOCS_PREFIX = '/docs';
/** Swagger UI's page loads its own scripts and styles only (no CDN, no validator badge). */
const DOCS_CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

/** The answer's headers that go back to the client (not those of the connection, which the admin app sets). */
const FORWARDED_HEADERS = ['content-type', 'content-security-policy', 'cache-control', 'etag', 'last-modified', 'location', 'vary', 'x-content-type-options'];

export async function registerOpsAdminRoutes(app: FastifyInstance, deps: OpsAdminDeps): Promise<void> {
  const metrics = { summary: 'Prometheus metrics of this process (text format)', tags: ['ops'], response: { 200: content('The metrics', ['text/plain']) } };
  app.get('/metrics', { schema: metrics }, async (_req, reply) => reply.type(deps.metrics.contentType).send(await deps.metrics.metrics()));
  let docs: Promise<FastifyInstance> | null = null;
  const built = () => (docs ??= docsApp(deps).catch((e: unknown) => {
    docs = null; // tried again at the next request
    throw e;
  }));
  app.addHook('onClose', async () => {
    if (docs) await (await docs.catch(() => null))?.close();
  });
  const forward = async (req: FastifyRequest, reply: FastifyReply) => {
    const res = await (await built()).inject({ method: req.method as 'GET' | 'HEAD', url: req.url, headers: req.headers });
    // refusals in the admin API's own error shape (server/http-errors.ts)
    if (res.statusCode === 404) throw new NotFound(`no page or file of Swagger UI at ${req.url.split('?')[0]}`);
    if (res.statusCode >= 500) throw new Error(`Swagger UI answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
    for (const name of FORWARDED_HEADERS) if (res.headers[name] !== undefined) reply.header(name, res.headers[name]);
    return reply.code(res.statusCode).send(res.rawPayload);
  };
  const page = { description: 'A page, script, style or the document of Swagger UI', type: 'string', 'x-serialize': false };
  app.get(DOCS_PREFIX, { schema: { summary: 'Swagger UI (redirects to /docs/)', tags: ['ops'], response: { 200: page, 302: page } } }, forward);
  app.get(`${DOCS_PREFIX}/*`, {
    schema: { summary: 'Swagger UI showing the public API\'s OpenAPI document, its files, and the document (/docs/json)', tags: ['ops'], params: { type: 'object', properties: { '*': str('The file') } }, response: { 200: page, 304: page } },
  }, forward);
}

/** Swagger UI on its own app, with the public document as it is at the first request (the routes do not change once the server listens). */
async function docsApp(deps: OpsAdminDeps): Promise<FastifyInstance> {
  const [{ default: swagger }, { default: swaggerUi }, document] = await Promise.all([import('@fastify/swagger'), import('@fastify/swagger-ui'), deps.publicDocument()]);
  const docs = Fastify();
  // swagger-ui needs @fastify/swagger on its own app: a static placeholder, replaced by the public document when served
  await docs.register(swagger, { mode: 'static', specification: { document: { openapi: '3.0.3', info: { title: 'Hearth public API', version: deps.version }, paths: {} } } });
  await docs.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: DOCS_CSP,
    uiConfig: { validatorUrl: null, deepLinking: true },
    // the document is the public port's: "Try it out" must go to an instance, not to this port
    transformSpecification: () => ({
      ...document,
      servers: [{ url: '{scheme}://{instance}', description: 'An instance of this server', variables: { scheme: { enum: ['https', 'http'], default: deps.exampleInstance.includes('localhost') ? 'http' : 'https' }, instance: { default: deps.exampleInstance } } }],
    }),
    transformSpecificationClone: false,
  });
  await docs.ready();
  return docs;
}
