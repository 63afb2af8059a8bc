/** The schemas of the export routes (routes.ts, admin-routes.ts). */
import { content, JSONAPI_ERROR, jsonApi, noContent, openObject, params, passThrough, query, resource, str, type JsonSchema, type RouteSchema } from '../../common/schemas.js';

const tags = ['move'];
const TYPE = 'io.cozy.exports';
const mac = params({ mac: 'The export\'s MAC, from the link of the mail' });
const cursor = query({ cursor: str('A part\'s cursor, one of parts_cursors (none: part 0)', { maxLength: 2048 }) });

const attributes: JsonSchema = openObject('The export: domain, state (exporting, done, error), parts_cursors, parts_size, total_size, created_at, expires_at…');
const zip = content('The zip of the part, in the layout of README "Leaving: the export format"', ['application/zip'], { type: 'string', format: 'binary' });

export const create: RouteSchema = {
  summary: 'Asks for an export of the instance (the owner gets a mail with the link when it is ready)', tags,
  body: {
    type: 'object', required: ['data'], additionalProperties: true,
    properties: {
      data: {
        type: 'object', additionalProperties: true,
        properties: {
          type: str(TYPE),
          attributes: {
            type: 'object', additionalProperties: true,
            properties: {
              parts_size: { type: 'integer', minimum: 1, description: 'The size of each part, in bytes (at least 1 GiB, else computed)' },
              max_age: { type: 'number', minimum: 0, description: 'How long the export is kept, in nanoseconds (at most and by default 7 days)' },
              with_doctypes: { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: 256 }, description: 'Only these doctypes (empty: all)' },
            },
          },
        },
      },
    },
    errorMessage: { required: `send {"data": {"type": "${TYPE}", "attributes": {}}}` },
    example: { data: { type: TYPE, attributes: {} } },
  },
  response: { 201: noContent('The export is queued'), 409: { ...JSONAPI_ERROR, description: 'An export is already being made' } },
};

export const get: RouteSchema = {
  summary: 'The export a MAC names', tags, params: mac,
  response: { 200: jsonApi('The io.cozy.exports document', resource(TYPE, attributes)) },
};

export const data: RouteSchema = {
  summary: 'Downloads a part of an export (a streamed zip)', tags, params: mac, querystring: cursor,
  response: { 200: zip },
};

const byDomain = params({ domain: 'The instance\'s domain, e.g. alice.example.org' });

export const adminCreate: RouteSchema = {
  summary: 'Makes an export of an instance (no mail: follow it with GET /instances/:domain/exports)', tags: ['instances'], params: byDomain,
  body: { type: 'object', additionalProperties: true, properties: { parts_size: { type: 'integer', minimum: 1 }, max_age: { type: 'number', minimum: 0 } } },
  response: { 201: passThrough('{"data":{"job_id":"…"}}') },
};

export const adminList: RouteSchema = {
  summary: 'The exports of an instance, newest first', tags: ['instances'], params: byDomain,
  response: { 200: passThrough('{"data":[io.cozy.exports documents]}') },
};

export const adminData: RouteSchema = {
  summary: 'Downloads an export: every part in one zip, or one part with ?cursor=', tags: ['instances'],
  params: params({ domain: 'The instance\'s domain', exportId: 'The export\'s id' }),
  querystring: query({ cursor: str('A part\'s cursor, one of parts_cursors; "all" or none: every part in one zip', { maxLength: 2048 }) }),
  response: { 200: zip },
};
