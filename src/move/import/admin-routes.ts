/**
 * The admin API's import (cozy-stack `POST /instances/:domain/import`): `?source=<zip file on this server>` or
 * `?source=<export link>` replaces the instance's data, streaming its progress as NDJSON (common/ndjson.ts); the
 * last line carries the report (what was imported, left out and why, the apps not reinstalled). Refusals come first,
 * as HTTP errors: 404 no such instance, 400 no such file, 422 a link that is not one, 409 an import under way.
 */
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { BadRequest } from '../../common/errors.js';
import { streamNdjson } from '../../common/ndjson.js';
import { content, params, query, type RouteSchema } from '../../common/schemas.js';
import { findInstance } from '../../instances/find.js';
import type { InstanceRegistry } from '../../instances/types.js';
import type { Imports } from './service.js';

const schema: RouteSchema = {
  summary: 'Replaces the data of an instance with an export (a zip file on this server, or an export link), streaming the progress', tags: ['instances'],
  params: params({ domain: 'The instance\'s domain, e.g. alice.example.org' }),
  querystring: query({ source: { type: 'string', minLength: 1, maxLength: 4096, description: 'An absolute path of a zip file on the server, or an export link (https://…)' } }),
  response: { 200: content('NDJSON lines: {"type":"progress",…}, then {"type":"done","data":report} or {"type":"error","error":"…","data":report}', ['application/x-ndjson']) },
};

export function registerImportAdminRoutes(app: FastifyInstance, deps: { registry: InstanceRegistry; imports: Imports }): void {
  app.post<{ Params: { domain: string }; Querystring: { source?: string } }>('/instances/:domain/import', { schema }, async (req, reply) => {
    const instance = await findInstance(deps.registry, req.params.domain);
    const source = req.query.source;
    if (!source) throw new BadRequest('say what to import: ?source=<absolute path of a zip file on the server> or ?source=<export link>');
    if (!/^https?:\/\//i.test(source)) {
      if (!isAbsolute(source)) throw new BadRequest('the source must be an absolute path of a zip file on the server, or an http(s) export link');
      let file = false;
      try {
        file = statSync(source).isFile();
      } catch {
        file = false;
      }
      if (!file) throw new BadRequest(`there is no file at ${source.slice(0, 300)} on the server`);
    }
    const claimed = await deps.imports.claim(instance, source);
    await streamNdjson(reply, (progress) => deps.imports.runClaimed(instance, claimed, progress));
  });
}
