/** The schemas of /intents (validation, OpenAPI, serialization: server/validation.ts). */
import { jsonApi, openObject, params, resource, type JsonSchema, type RouteSchema } from '../../common/schemas.js';

const TYPE = 'io.cozy.intents';
const tags = ['intents'];

const attributes: JsonSchema = {
  type: 'object',
  properties: {
    action: { type: 'string' }, type: { type: 'string' }, permissions: { type: 'array', items: { type: 'string' } },
    client: { type: 'string', description: "The origin of the app that started the intent (or its client_url_flag's URL)" },
    services: { type: 'array', items: { type: 'object', properties: { slug: { type: 'string' }, href: { type: 'string' } } } },
    availableApps: { type: 'array', items: { type: 'object', properties: { slug: { type: 'string' }, name: { type: 'string' } } } },
  },
};

const answer = jsonApi('The intent', resource(TYPE, attributes));

const SEND = `send a JSON-API document: {"data":{"type":"${TYPE}","attributes":{"action":"PICK","type":"io.cozy.files","permissions":["GET"]}}}`;

export const create: RouteSchema = {
  summary: 'Starts an intent: which installed apps serve this action on this type (services), else which registry apps could (availableApps)', tags,
  description: 'Any app token (or the OAuth client of a registry app); 403 without. 422 when action or type is missing.',
  body: {
    type: 'object', required: ['data'], errorMessage: SEND,
    properties: {
      data: {
        type: 'object', required: ['attributes'], errorMessage: SEND,
        properties: {
          type: { const: TYPE, errorMessage: `the type of an intent is ${TYPE}` },
          attributes: {
            type: 'object',
            properties: {
              action: { type: 'string', maxLength: 256, errorMessage: 'action: a verb such as PICK, OPEN, EDIT, CREATE, SHARE (at most 256 characters)' },
              type: { type: 'string', maxLength: 256, errorMessage: 'type: a doctype or a MIME type, such as io.cozy.files or image/png (at most 256 characters)' },
              permissions: { type: 'array', maxItems: 32, items: { type: 'string', maxLength: 64 }, errorMessage: 'permissions: a list of at most 32 verbs, such as ["GET"]' },
              data: openObject('Data for the service (passed by the apps between themselves; not stored)'),
            },
            additionalProperties: true,
          },
        },
        additionalProperties: true,
      },
    },
    example: { data: { type: TYPE, attributes: { action: 'PICK', type: 'io.cozy.files', permissions: ['GET'] } } },
  },
  response: { 200: answer },
};

export const get: RouteSchema = {
  summary: 'An intent, for the token of an app among its services (403 otherwise)', tags,
  params: params({ id: 'The intent id' }),
  response: { 200: answer },
};
