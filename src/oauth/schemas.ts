/**
 * The schemas of the OAuth 2 routes of this folder (validation, OpenAPI, serialization: server/validation.ts).
 * RFC 7591 prescribes its error body (`{error: "invalid_client_metadata", error_description}`), which clients
 * such as cozy-stack-client read: routes.ts answers a refusal of the registration schemas in that shape.
 * What a schema cannot say (the URIs' meaning) is checked by metadata.ts. The flow's parameters (RFC 6749:
 * errors sent back to the client's redirect URI or shown on a page) are documented here and checked by
 * authorize.ts.
 */
import { content, jsonApi, noContent, openObject, params, query, resource, str, type JsonSchema, type RouteSchema } from '../common/schemas.js';
import { CLIENTS_DOCTYPE } from './clients.js';
import { ENUMS, MAX_URI_LEN, MAX_URIS, maxLength, OPTIONAL_FIELDS, type OptionalField } from './metadata.js';

const tags = ['auth'];
const clientId = params({ id: 'The client_id' });
/** Documented, checked by the route (RFC 7591's error shape). */
const field = (description: string, example?: unknown): JsonSchema => ({ description, ...(example === undefined ? {} : { example }) });

/** A required text; its sentence in an allOf, so that a missing one is said to be missing. */
const required = (name: string, description: string, example: string): JsonSchema => ({
  description, example, allOf: [{ type: 'string', minLength: 1, maxLength: maxLength(name), errorMessage: `${name} must be a string of 1 to ${maxLength(name)} characters` }],
});
/** An optional field: "" and null are absent (cozy-stack-client sends every field, the unset ones as ""). */
const optional = (name: OptionalField): JsonSchema => {
  const allowed = ENUMS[name];
  if (allowed) return { enum: [...allowed, '', null], description: `One of ${allowed.join(', ')}`, errorMessage: `${name} must be one of ${allowed.join(', ')}` };
  return { type: ['string', 'null'], maxLength: maxLength(name), description: 'Optional ("" is absent)', errorMessage: `${name} must be a string of 1 to ${maxLength(name)} characters` };
};
const metadataFields: Record<string, JsonSchema> = {
  redirect_uris: {
    type: 'array', minItems: 1, description: `Absolute URIs, no fragment (http for loopback only; custom schemes for mobile apps), 1 to ${MAX_URIS}`,
    items: { type: 'string', minLength: 1, maxLength: MAX_URI_LEN, errorMessage: `redirect_uris must hold strings of 1 to ${MAX_URI_LEN} characters` },
    allOf: [{ maxItems: MAX_URIS, errorMessage: `redirect_uris holds at most ${MAX_URIS} URIs` }],
    errorMessage: 'redirect_uris is required: a non-empty array of URIs', example: ['https://app.example.org/callback'],
  },
  client_name: required('client_name', 'The name shown on the consent page', 'My app'),
  software_id: required('software_id', 'The software\'s id, e.g. github.com/me/app (registry://<slug> links it to an app)', 'github.com/me/app'),
  ...Object.fromEntries(OPTIONAL_FIELDS.map((f) => [f, optional(f)])),
};
const metadata: JsonSchema = {
  type: 'object', required: ['redirect_uris', 'client_name', 'software_id'], properties: metadataFields, additionalProperties: true,
  // no errorMessage here: it would be the sentence of a missing field too (the formatter says "the body must be a JSON object")
  description: 'RFC 7591 client metadata (JSON); unknown fields are ignored',
  example: { redirect_uris: ['https://app.example.org/callback'], client_name: 'My app', software_id: 'github.com/me/app', client_kind: 'web' },
};
const client = (description: string, extra: Record<string, JsonSchema> = {}): JsonSchema => ({
  description, type: 'object', additionalProperties: true,
  properties: {
    client_id: { type: 'string' }, client_secret: str('The client secret (when the server has it)'), client_secret_expires_at: { type: 'integer' },
    redirect_uris: { type: 'array', items: { type: 'string' } }, client_name: { type: 'string' }, software_id: { type: 'string' },
    grant_types: { type: 'array', items: { type: 'string' } }, response_types: { type: 'array', items: { type: 'string' } }, ...extra,
  },
});

export const register: RouteSchema = {
  summary: 'OAuth 2 dynamic client registration (RFC 7591): client_id, client_secret and registration_access_token', tags,
  body: metadata,
  response: { 201: client('The client, with its secret and its registration_access_token', { registration_access_token: str('For GET, PUT and DELETE /auth/register/{id}') }) },
};
export const readClient: RouteSchema = {
  summary: 'Reads a registered OAuth client (RFC 7592; Bearer registration_access_token)', tags, params: clientId,
  response: { 200: client('The client') },
};
export const updateClient: RouteSchema = {
  summary: 'Updates a registered OAuth client, optionally rotating its secret (RFC 7592)', tags, params: clientId,
  body: { ...metadata, properties: { client_id: field('Must be the id of the URL'), client_secret: field('The current secret, to rotate it'), ...metadataFields } },
  response: { 200: client('The client as updated') },
};
export const deleteClient: RouteSchema = {
  summary: 'Deletes a registered OAuth client and its tokens (RFC 7592)', tags, params: clientId,
  response: { 204: noContent('Deleted') },
};

const flowFields = {
  client_id: 'The client', redirect_uri: 'One of its redirect URIs', state: 'Opaque value sent back', scope: 'The rights asked (space-separated)',
  response_type: 'code', code_challenge: 'PKCE challenge', code_challenge_method: 'S256',
};
const html = (description: string) => content(description, ['text/html']);
export const authorizePage: RouteSchema = {
  summary: 'The OAuth consent page (HTML; PKCE S256 supported, state required)', tags,
  querystring: query(Object.fromEntries(Object.entries(flowFields).map(([k, d]) => [k, field(d)]))),
  response: { 200: html('The consent page (400: an error page)'), 303: noContent('No session: to the login page; or back to the client with an error (Location)') },
};
export const authorize: RouteSchema = {
  summary: 'The owner accepts the OAuth consent: redirects with an authorization code', tags,
  body: {
    description: 'The consent form (application/x-www-form-urlencoded)', additionalProperties: true,
    properties: { ...Object.fromEntries(Object.entries(flowFields).map(([k, d]) => [k, field(d)])), approve: field('accept to grant'), csrf_token: field('The form\'s CSRF token') },
  },
  response: { 303: noContent('To the redirect URI with code (and access_code) and state, or an error (Location)') },
};
export const accessToken: RouteSchema = {
  summary: 'OAuth token endpoint: authorization_code or refresh_token grant (form-encoded)', tags,
  body: {
    description: 'A form (or JSON)', additionalProperties: true,
    properties: {
      grant_type: field('authorization_code or refresh_token'), client_id: field('The client'), client_secret: field('Its secret'),
      code: field('authorization_code: the code'), redirect_uri: field('authorization_code: the redirect URI of the request'),
      code_verifier: field('authorization_code with PKCE: the verifier'), refresh_token: field('refresh_token: the refresh token'),
    },
  },
  response: {
    200: {
      description: 'The tokens (Cache-Control: no-store)', type: 'object', additionalProperties: true,
      properties: { access_token: { type: 'string' }, token_type: { type: 'string' }, refresh_token: { type: 'string' }, scope: { type: 'string' } },
    },
  },
};

export const clients: RouteSchema = {
  summary: 'The OAuth clients connected to the instance (JSON-API)', tags: ['settings'],
  response: {
    200: jsonApi('The clients (never their secrets)', { type: 'array', items: resource(CLIENTS_DOCTYPE, openObject('The client\'s metadata, created_at, pending, last_refreshed_at')) }, { meta: { type: 'object', properties: { count: { type: 'integer' } } } }),
  },
};
export const revokeClient: RouteSchema = {
  summary: 'Revokes an OAuth client and its tokens', tags: ['settings'], params: params({ id: 'The client_id' }),
  response: { 204: noContent('Revoked') },
};

