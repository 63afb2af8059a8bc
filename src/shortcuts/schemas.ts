/** The schemas of the /shortcuts routes (routes.ts). */
import { JSONAPI, noContent, openObject, params, resource, str, type JsonSchema, type RouteSchema } from '../common/schemas.js';

const tags = ['files'];
const TYPE = 'io.cozy.files.shortcuts';

const attributes: JsonSchema = {
  type: 'object', additionalProperties: true,
  properties: {
    name: str('The file name (".url" is added when missing)'), url: str('The address the shortcut opens'),
    dir_id: str('The directory (default: the root)'), metadata: openObject('The file\'s metadata'),
  },
};

export const create: RouteSchema = {
  summary: 'Creates a .url shortcut file from its name and address', tags,
  body: {
    type: 'object', required: ['data'], additionalProperties: true,
    properties: { data: { type: 'object', required: ['attributes'], additionalProperties: true, properties: { type: str('io.cozy.files.shortcuts'), attributes } } },
    errorMessage: { required: `send {"data": {"type": "${TYPE}", "attributes": {"name": "…", "url": "https://…", "dir_id": "…"}}}` },
    example: { data: { type: TYPE, attributes: { name: 'Hearth.url', url: 'https://example.org/', dir_id: 'io.cozy.files.root-dir' } } },
  },
  response: { 201: { description: 'The io.cozy.files document of the shortcut', content: { [JSONAPI]: { schema: { type: 'object', additionalProperties: true, 'x-serialize': false } } } } },
};

export const get: RouteSchema = {
  summary: 'Opens a shortcut: its address and name in JSON-API (Accept: application/json), or a redirect to the address', tags, params: params(['id']),
  response: {
    200: { description: 'The shortcut', content: { [JSONAPI]: { schema: { type: 'object', properties: { data: resource(TYPE, attributes) }, additionalProperties: true, 'x-serialize': false } } } },
    303: noContent('To the address (Location)'),
  },
};
