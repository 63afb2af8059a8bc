/**
 * The admin API's moves between engines (./migrate.ts): `POST /instances/:domain/migrate` streams the progress as
 * NDJSON lines (as the app installs do, apps/install/progress.ts): `{"type":"progress",…}` at each step and page,
 * then `{"type":"done","data":summary}` or `{"type":"error","error":"…"}`, and `{"type":"working"}` every 10 s of
 * silence. Refusals come before anything is written, as ordinary HTTP errors (400, 404, 409, 422).
 * `POST /instances/:domain/migrate/cleanup` removes the old copy a finished migration left.
 */
import type { FastifyInstance } from 'fastify';
import { content, params, passThrough, query, type JsonSchema, type RouteSchema } from '../common/schemas.js';
import { streamNdjson } from '../common/ndjson.js';
import { findInstance } from './find.js';
import type { MigrationProgress, Migrations } from './migrate.js';
import type { InstanceRegistry } from './types.js';

const tags = ['instances'];
const byDomain = params({ domain: 'The instance\'s domain, e.g. alice.example.org' });
const engineName = (description: string): JsonSchema => ({ type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,39}$', description });

const migrate: RouteSchema = {
  summary: 'Moves an instance to other engines (documents, blobs), streaming its progress', tags, params: byDomain,
  querystring: query({
    to: engineName('The documents engine to move to: sqlite or postgres'),
    blobs_to: engineName('The blobs engine to move to: local, swift or s3'),
    drop_source: { type: 'string', enum: ['true', 'false'], description: 'true: remove the old copy once the instance is switched (otherwise: POST …/migrate/cleanup later)' },
  }),
  response: { 200: content('NDJSON lines: {"type":"progress",…}, then {"type":"done","data":…} or {"type":"error","error":"…"}', ['application/x-ndjson']) },
};
const cleanup: RouteSchema = {
  summary: 'Removes the old copy of an instance that a finished migration left on its former engines', tags, params: byDomain,
  response: { 200: passThrough('{"data":{"dropped":{"docs":…,"blobs":…}}}') },
};

type Query = { to?: string; blobs_to?: string; drop_source?: 'true' | 'false' };

export function registerMigrateAdminRoutes(app: FastifyInstance, deps: { registry: InstanceRegistry; migrations: Migrations }): void {
  app.post<{ Params: { domain: string }; Querystring: Query }>('/instances/:domain/migrate', { schema: migrate }, async (req, reply) => {
    const instance = await findInstance(deps.registry, req.params.domain);
    const q = req.query;
    const request = { ...(q.to ? { docs: q.to } : {}), ...(q.blobs_to ? { blobs: q.blobs_to } : {}), dropSource: q.drop_source === 'true' };
    await deps.migrations.plan(instance, request); // the refusals, as HTTP errors
    await streamNdjson(reply, (progress) => deps.migrations.migrate(instance, request, (p: MigrationProgress) => progress(p)));
  });
  app.post<{ Params: { domain: string } }>('/instances/:domain/migrate/cleanup', { schema: cleanup }, async (req) => {
    const instance = await findInstance(deps.registry, req.params.domain);
    return { data: { dropped: await deps.migrations.cleanup(instance) } };
  });
}
