/** The schemas of the /sharings routes (routes.ts). */
import { jsonApi, openObject, params, query, type JsonSchema, type RouteSchema } from '../common/schemas.js';

const tags = ['sharings'];
const list = (description: string): JsonSchema => jsonApi(description, { type: 'array', items: openObject('An io.cozy.sharings document') }, { meta: { type: 'object', properties: { count: { type: 'integer' } } } });

export const byDoctype: RouteSchema = {
  summary: 'The sharings of a doctype (none: cozy-to-cozy sharing is not built yet)', tags, params: params(['doctype']),
  querystring: query({ shared_docs: 'false to leave out the shared documents (default true)' }),
  response: { 200: list('The sharings: an empty list, meta.count 0') },
};

export const drives: RouteSchema = {
  summary: 'The shared drives (none: cozy-to-cozy sharing is not built yet)', tags,
  response: { 200: list('The shared drives: an empty list, meta.count 0') },
};
