/**
 * The schemas of the admin API's instance routes (admin-routes.ts): the same compilers as the public API
 * (server/validation.ts), and for the owner's fields the very schemas of PUT /settings/instance
 * (settings/validate.ts FIELD_SCHEMAS), so the CLI and the admin API refuse what the public API refuses,
 * with the same sentences. Unknown properties are refused (an operator's typo must not pass silently).
 */
import { content, JSONAPI, noContent, openObject, params, query, type JsonSchema, type RouteSchema } from '../common/schemas.js';
import { MIN_PASSPHRASE_CHARS } from '../auth/passphrase.js';
import { STATUS_SCHEMAS } from '../status/routes.js';
import { FIELD_SCHEMAS } from '../settings/validate.js';
import { CONTEXT_PATTERN, TOS_PATTERN } from './context.js';

const tags = ['instances'];
// a host name, localhost or an IP address (IPv6 in brackets), with an optional port: instances/domain.ts validateDomain checks it
const domainField = (description: string): JsonSchema => ({ type: 'string', maxLength: 259, description, example: 'alice.example.org' });

/** The strength rule of the passphrase page, for the clear passphrases the admin API (and the CLI) receive. */
export const PASSPHRASE: JsonSchema = {
  type: 'string', minLength: MIN_PASSPHRASE_CHARS, maxLength: 1024, description: 'The owner\'s passphrase in clear (hashed at once); without it, the answer has a registration link',
  errorMessage: `"passphrase" must have at least ${MIN_PASSPHRASE_CHARS} characters (and at most 1024)`,
};

export const CONTEXT_NAME: JsonSchema = {
  type: 'string', pattern: CONTEXT_PATTERN, description: 'The context (default: default): which per-context stack assets apply',
  errorMessage: 'a context name is letters, digits, _ - . (at most 63)',
};
export const TOS_VERSION: JsonSchema = {
  type: ['string', 'null'], pattern: `^$|${TOS_PATTERN}`, description: 'A terms version', errorMessage: 'a terms version is A.B.C-YYYYMMDD, A.B.C or YYYYMMDD',
};

const editable: Record<string, JsonSchema> = {
  passphrase: PASSPHRASE,
  email: FIELD_SCHEMAS.email,
  locale: FIELD_SCHEMAS.locale,
  public_name: FIELD_SCHEMAS.public_name,
  tz: FIELD_SCHEMAS.tz,
  disk_quota: { type: ['integer', 'null'], minimum: 0, description: 'Bytes (null: no quota)' },
  context_name: CONTEXT_NAME,
  tos_signed: { ...TOS_VERSION, description: 'The terms the owner signed (A.B.C-YYYYMMDD)' },
  tos_latest: { ...TOS_VERSION, description: 'The latest terms (A.B.C-YYYYMMDD: the owner is warned 30 days before the date)' },
  domain_aliases: {
    type: 'array', maxItems: 100, description: 'Other host names of the instance',
    items: domainField('A host name, localhost or an IP address, with an optional port'),
  },
};

const instance: JsonSchema = {
  type: 'object', additionalProperties: true,
  properties: {
    type: { type: 'string', example: 'instances' }, id: { type: 'string' },
    attributes: {
      type: 'object', additionalProperties: true,
      properties: {
        domain: { type: 'string' }, domain_aliases: { type: 'array', items: { type: 'string' } }, locale: { type: 'string' },
        email: { type: ['string', 'null'] }, public_name: { type: ['string', 'null'] }, tz: { type: ['string', 'null'] },
        disk_quota: { type: ['integer', 'null'] }, onboarded: { type: 'boolean' }, context_name: { type: 'string' },
        tos_signed: { type: ['string', 'null'] }, tos_latest: { type: ['string', 'null'] }, created_at: { type: 'string' }, updated_at: { type: 'string' },
      },
    },
    meta: openObject('registration_url: the onboarding link, in the answer of a creation without passphrase only'),
  },
};
const answer = (description: string, data: JsonSchema, extra: JsonSchema = {}): JsonSchema => ({
  description, content: { [JSONAPI]: { schema: { type: 'object', properties: { data, ...extra }, additionalProperties: true } } },
});
const byDomain = params({ domain: 'The instance\'s domain, e.g. alice.example.org or hearth.localhost:8080 (URL-encoded or not)' });

const PAGE_MAX = 1000;
export const list: RouteSchema = {
  summary: 'The instances, a page at a time by domain (JSON-API)', tags,
  querystring: query({
    'page[limit]': { type: 'integer', minimum: 1, maximum: PAGE_MAX, description: `Page size (default 100, at most ${PAGE_MAX})`, errorMessage: `page[limit] must be a whole number from 1 to ${PAGE_MAX}` },
    'page[cursor]': 'links.next of the previous page gives it: the last domain of that page',
  }),
  response: {
    200: answer('A page of instances; meta.count counts them all', { type: 'array', items: instance }, { meta: { type: 'object', properties: { count: { type: 'integer' } } }, links: openObject('next: the next page, if any') }),
  },
};
export const count: RouteSchema = {
  summary: 'How many instances there are', tags,
  response: { 200: { description: 'The count', type: 'object', properties: { count: { type: 'integer' } } } },
};
export const create: RouteSchema = {
  summary: 'Creates an instance', tags,
  body: {
    type: 'object', required: ['domain'], additionalProperties: false,
    properties: { domain: domainField('The new instance\'s domain'), ...editable },
    example: { domain: 'alice.example.org', email: 'alice@example.org', locale: 'fr', tz: 'Europe/Paris' },
  },
  response: { 201: answer('The instance (meta.registration_url when it has no passphrase yet)', instance) },
};
export const read: RouteSchema = { summary: 'Reads an instance', tags, params: byDomain, response: { 200: answer('The instance', instance) } };
export const modify: RouteSchema = {
  summary: 'Changes an instance (unlock: true lifts the login lock-out)', tags, params: byDomain,
  body: {
    type: 'object', additionalProperties: false,
    properties: { ...editable, unlock: { type: 'boolean', description: 'true: lifts the owner-login lock-out' } },
    example: { public_name: 'Alice', disk_quota: 10_000_000_000 },
  },
  response: { 200: answer('The instance as changed', instance) },
};
export const destroy: RouteSchema = { summary: 'Destroys an instance and all its data', tags, params: byDomain, response: { 204: noContent('Destroyed') } };
export const token: RouteSchema = {
  summary: 'Mints a token for an instance: cli (with a scope), app (with its session cookie) or konnector', tags,
  body: {
    type: 'object', required: ['domain', 'audience'], additionalProperties: false,
    properties: {
      domain: domainField('The instance'),
      audience: { enum: ['cli', 'app', 'konnector', 'konn'], description: 'cli, app or konnector (konn)' },
      subject: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'The app or konnector slug (required for them)' },
      scope: { type: 'string', minLength: 1, maxLength: 4096, description: 'Space-separated permission scopes (required for cli)' },
    },
    example: { domain: 'alice.example.org', audience: 'cli', scope: 'io.cozy.files io.cozy.contacts' },
  },
  response: {
    200: {
      description: 'The token (and, for an app, the cookie of the session it is bound to)', type: 'object',
      properties: { token: { type: 'string' }, session_cookie: { type: 'string' } },
    },
  },
};
export const fsck: RouteSchema = {
  summary: 'Checks the instance\'s file system: one JSON object per line, one line per problem (none: an empty body)', tags, params: byDomain,
  querystring: query({ clean: 'true: also removes orphan blobs' }),
  response: { 200: content('The problems, as NDJSON', ['application/x-ndjson']) },
};
export const status: RouteSchema = STATUS_SCHEMAS.status;
export const version: RouteSchema = STATUS_SCHEMAS.version;
