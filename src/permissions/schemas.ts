/** The schemas of /permissions and of the share-link password route (validation, OpenAPI, serialization: server/validation.ts). */
import { jsonApi, noContent, openObject, params, passThrough, query, resource, type JsonSchema, type RouteSchema } from '../common/schemas.js';
import { PERMISSIONS_DOCTYPE } from './docs.js';

const tags = ['permissions'];
const ENVELOPE = `send {"data": {"type": "${PERMISSIONS_DOCTYPE}", "attributes": {…}}}`;
const MAP = 'attributes.permissions must be a map {key: rule}';

/** `{data: {attributes: {…}}}` with these attributes (type, id and meta as clients send them). */
const envelope = (attributes: Record<string, JsonSchema>, required: string[], example: unknown): JsonSchema => ({
  type: 'object', required: ['data'], errorMessage: ENVELOPE, example,
  properties: { data: { type: 'object', required: ['attributes'], properties: { attributes: { type: 'object', required, properties: attributes, additionalProperties: true } } } },
});
const permissions: JsonSchema = {
  type: 'object', description: 'The rules: name → {type, verbs, values, selector}; a subset of the caller\'s rights', errorMessage: MAP,
  allOf: [{ minProperties: 1, errorMessage: 'attributes.permissions is empty' }],
};
const password: JsonSchema = { type: ['string', 'null'], description: 'A password the visitor must give (POST /auth/share-by-link/password)', errorMessage: 'password must be a string' };
const expiresAt: JsonSchema = { type: ['string', 'null'], description: 'An ISO 8601 date after which the link stops working', errorMessage: 'expires_at must be a string' };

const doc = resource(PERMISSIONS_DOCTYPE, openObject('type, source_id, permissions, codes, shortcodes (to who manages the link), expires_at, password (true when set)'));
const one = (description: string) => jsonApi(description, doc);

export const self: RouteSchema = { summary: 'The permission set behind the request\'s token', tags, response: { 200: one('The permission set') } };
export const create: RouteSchema = {
  summary: 'Creates a share link: a subset of the caller\'s rights, with codes', tags,
  querystring: query({ codes: 'Comma-separated names of the codes to make', ttl: 'Validity, e.g. 1D or 2h', tinycode: 'true for 6-digit short codes (ttl of an hour at most)' }),
  body: envelope({ permissions: { ...permissions }, password, expires_at: expiresAt }, ['permissions'], {
    data: { type: PERMISSIONS_DOCTYPE, attributes: { permissions: { files: { type: 'io.cozy.files', verbs: ['GET'], values: ['<dir id>'] } } } },
  }),
  response: { 201: one('The share link, with its codes') },
};
export const exists: RouteSchema = {
  summary: 'For a list of {type, id}, which verbs the caller\'s share links grant', tags,
  body: {
    type: 'object', required: ['data'], errorMessage: 'send {"data": [{"type": "<doctype>", "id": "<id>"}, …]} (1000 at most)',
    properties: { data: { type: 'array', maxItems: 1000, items: { description: '{type, id}' } } },
    example: { data: [{ type: 'io.cozy.files', id: '<file id>' }] },
  },
  response: {
    200: jsonApi('The documents shared by link, and the verbs', { type: 'array', items: { type: 'object', properties: { type: { type: 'string' }, id: { type: 'string' }, verbs: { type: 'array', items: { type: 'string' } } } } }),
  },
};
const byDoctype = (summary: string): RouteSchema => ({
  summary, tags, params: params(['doctype']),
  querystring: query({ 'page[limit]': 'Page size (default 30, at most 100)', 'page[cursor]': 'The cursor of the previous page' }),
  response: { 200: jsonApi('A page of share links (links.next for the next one)', { type: 'array', items: doc }, { meta: openObject('count'), links: openObject('next') }) },
});
export const sharedByLink = byDoctype('The share links of a doctype (paginated)');
export const sharedByLinkAlias = byDoctype('Alias of /permissions/doctype/{doctype}/shared-by-link');
const id = params({ id: 'The permission document\'s id' });
export const read: RouteSchema = { summary: 'Reads a permission set', tags, params: id, response: { 200: one('The permission set') } };
export const patch: RouteSchema = {
  summary: 'Adds or removes rules and codes; changes password or expires_at', tags, params: id,
  body: envelope({
    permissions: { description: 'Rules to add or change (null removes one)' }, codes: { description: 'Codes to add (null removes one)' }, password, expires_at: expiresAt,
  }, [], { data: { type: PERMISSIONS_DOCTYPE, attributes: { expires_at: '2030-01-01T00:00:00Z' } } }),
  response: { 200: one('The permission set as changed') },
};
export const revoke: RouteSchema = { summary: 'Revokes a share link', tags, params: id, response: { 204: noContent('Revoked') } };

export const sharePassword: RouteSchema = {
  summary: 'Unlocks a password-protected share link: sets the cookie that goes with its code', tags: ['auth'],
  // a form (cozy's password page) or JSON; the route answers a missing link or a wrong password itself
  body: {
    description: 'A form or JSON', additionalProperties: true,
    properties: { perm_id: { description: 'The id of the share link\'s permission document' }, password: { description: 'The link\'s password' } },
  },
  response: { 200: { ...passThrough('{password: "ok"} with the cookie, or {password: "none"} when the link has no password'), properties: { password: { type: 'string', enum: ['ok', 'none'] } } } },
};
