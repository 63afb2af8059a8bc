/** The schemas of the /settings routes of this folder (validation, OpenAPI, serialization: server/validation.ts). */
import { content, jsonApi, noContent, openObject, query, rawBody, resource, type JsonSchema, type RouteSchema } from '../common/schemas.js';
import { AVATAR_MAX_BYTES, AVATAR_TYPES } from './avatar.js';
import { COLOR_KEYS, DEFAULT_THEME } from './theme.js';
import { FIELD_SCHEMAS } from './validate.js';

const TYPE = 'io.cozy.settings';
const tags = ['settings'];
const INSTANCE_ID = 'io.cozy.settings.instance';

const instanceAttributes: JsonSchema = {
  type: 'object',
  properties: {
    locale: { type: 'string' }, email: { type: ['string', 'null'] }, public_name: { type: ['string', 'null'] }, tz: { type: ['string', 'null'] },
    default_redirection: { type: 'string' }, password_defined: { type: 'boolean' }, onboarding_finished: { type: 'boolean' },
    auth_mode: { type: 'string', enum: ['basic', 'two_factor_mail'] }, auto_update: { type: 'boolean' }, context: { type: 'string' },
    tracking: { type: 'string', enum: ['true', 'false'], description: 'The owner accepts usage statistics (a string, as cozy-stack stores it)' },
    tos: { type: 'string', description: 'The terms the owner signed' }, tos_latest: { type: 'string', description: 'The latest terms' },
    pending_email: { type: 'string', description: 'The new address waiting for its confirmation (POST /settings/email)' },
  },
};

export const getInstance: RouteSchema = {
  summary: 'The instance settings document io.cozy.settings.instance (locale, email, public name, tz…)', tags,
  response: { 200: jsonApi('The settings document', resource(TYPE, instanceAttributes)) },
};

const SEND_DOC = `send a JSON-API document: {"data":{"type":"${TYPE}","id":"${INSTANCE_ID}","meta":{"rev":"…"},"attributes":{…}}}`;

export const putInstance: RouteSchema = {
  summary: 'Changes the instance settings (JSON-API with data.meta.rev; 409 on a stale revision)', tags,
  description: 'Attributes other than these (what a GET answered: password_defined, auth_mode…) are accepted and ignored. The email is changed by a CLI token only.',
  body: {
    type: 'object', required: ['data'], errorMessage: SEND_DOC,
    properties: {
      data: {
        type: 'object', required: ['attributes'],
        properties: {
          type: { const: TYPE, errorMessage: `this route updates the document ${TYPE}/${INSTANCE_ID} only` },
          id: { const: INSTANCE_ID, errorMessage: `this route updates the document ${TYPE}/${INSTANCE_ID} only` },
          meta: openObject('meta.rev: the revision read (409 when stale or missing)'),
          attributes: {
            type: 'object', additionalProperties: true,
            properties: { ...FIELD_SCHEMAS, timezone: FIELD_SCHEMAS.tz, tracking: { enum: ['true', 'false', true, false], description: 'Usage statistics accepted', errorMessage: 'tracking is "true" or "false"' } },
          },
        },
      },
    },
    example: { data: { type: TYPE, id: INSTANCE_ID, meta: { rev: '3-1f0e…' }, attributes: { locale: 'fr', tz: 'Europe/Paris', public_name: 'Alice' } } },
  },
  response: { 200: jsonApi('The settings document as changed', resource(TYPE, instanceAttributes)) },
};

export const signTos: RouteSchema = {
  summary: 'Signs the latest terms of service (an OAuth client\'s or a CLI token): their warning goes away', tags,
  response: { 204: noContent('Signed') },
};

export const capabilities: RouteSchema = {
  summary: 'What this server can do (file versioning, flat subdomains, login methods)', tags,
  response: {
    200: jsonApi('The capabilities', resource(TYPE, {
      type: 'object',
      properties: { file_versioning: { type: 'boolean' }, flat_subdomains: { type: 'boolean' }, can_auth_with_password: { type: 'boolean' }, can_auth_with_magic_links: { type: 'boolean' }, can_auth_with_oidc: { type: 'boolean' } },
    })),
  },
};

export const context: RouteSchema = {
  summary: 'The context settings (default and onboarded redirections, help link)', tags,
  response: {
    200: jsonApi('The context', resource(TYPE, { type: 'object', properties: { default_redirection: { type: 'string' }, onboarded_redirection: { type: 'string' }, help_link: { type: 'string' } } })),
  },
};

export const flags: RouteSchema = {
  summary: 'The feature flags', tags,
  querystring: query({ include: 'Any value to add the flags of each source (included)' }),
  // the flags are the operator's JSON object: any field
  response: { 200: jsonApi('The flags (and their sources with include)', resource(TYPE, openObject('The flags')), { included: { type: 'array', items: resource(TYPE, openObject('The flags of a source')) } }) },
};

const colors = (name: string): JsonSchema => ({
  type: 'object',
  properties: Object.fromEntries(COLOR_KEYS.map((k) => [k, { type: 'string', pattern: '^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$', errorMessage: `"${name}.${k}" must be a hex colour: #rgb, #rgba, #rrggbb or #rrggbbaa` }])),
  additionalProperties: false,
  errorMessage: `"${name}" must be an object of colours, e.g. {"primary":"#1d4ed8"}, with the keys ${COLOR_KEYS.join(', ')}`,
});
const FAMILY = '\\s*(?:"[A-Za-z0-9][A-Za-z0-9 -]{0,62}"|[A-Za-z0-9][A-Za-z0-9 -]{0,62})\\s*';
const themeAttributes: JsonSchema = {
  type: 'object',
  properties: {
    colors: colors('colors'), dark_colors: colors('dark_colors'),
    font_family: {
      type: 'string', maxLength: 300, pattern: `^(?:${FAMILY},){0,7}${FAMILY}$`,
      errorMessage: '"font_family" must be up to 8 font names (letters, digits, spaces, hyphens) separated by commas, e.g. "Lato, sans-serif"',
    },
  },
  additionalProperties: false,
  errorMessage: 'a theme setting is colors, dark_colors or font_family: send {"data":{"attributes":{"colors":{"primary":"#1d4ed8"},"dark_colors":{…},"font_family":"Lato, sans-serif"}}} (or the attributes alone)',
};
const themeResource = resource(TYPE, { ...themeAttributes, errorMessage: undefined, example: DEFAULT_THEME });

export const themeCss: RouteSchema = {
  summary: 'The instance theme as CSS variables (no token: apps and public pages link it)', tags,
  response: { 200: content('The stylesheet (ETag; 304 with If-None-Match)', ['text/css']), 304: noContent('Not modified') },
};
export const getTheme: RouteSchema = { summary: 'The instance theme: the effective values and the defaults', tags, response: { 200: jsonApi('The theme', themeResource) } };
export const putTheme: RouteSchema = {
  summary: 'Sets the instance theme (colors, dark colors, font family)', tags,
  body: {
    type: 'object',
    // JSON-API, or the attributes alone
    anyOf: [{ type: 'object', required: ['data'], properties: { data: { type: 'object', required: ['attributes'], properties: { attributes: themeAttributes } } } }, themeAttributes],
    errorMessage: themeAttributes.errorMessage,
    example: { data: { attributes: { colors: { primary: '#1d4ed8' }, font_family: 'Lato, sans-serif' } } },
  },
  response: { 200: jsonApi('The theme as set', themeResource) },
};
export const deleteTheme: RouteSchema = { summary: 'Goes back to the default theme', tags, response: { 204: noContent() } };

export const putAvatar: RouteSchema = {
  summary: 'Sets the owner\'s avatar (the raw image as the body)', tags,
  body: rawBody(`The image, at most ${AVATAR_MAX_BYTES / 1024 / 1024} MB, re-encoded by Hearth`, [...AVATAR_TYPES]),
  response: { 204: noContent('Stored') },
};
export const deleteAvatar: RouteSchema = { summary: 'Removes the owner\'s avatar', tags, response: { 204: noContent('Removed') } };

export const putWallpaper: RouteSchema = {
  summary: 'Sets Home\'s wallpaper (the raw image as the body)', tags,
  body: rawBody('The image, at most 16 MB, re-encoded by Hearth (fitted in 2560×2560)', [...AVATAR_TYPES]),
  response: { 204: noContent('Stored') },
};
export const deleteWallpaper: RouteSchema = { summary: 'Removes Home\'s wallpaper (back to the theme\'s background)', tags, response: { 204: noContent('Removed') } };
export const getWallpaper: RouteSchema = {
  summary: 'Home\'s wallpaper (a GET right on io.cozy.settings)', tags,
  response: { 200: content('The image (ETag; 304 with If-None-Match)', ['image/png', 'image/jpeg', 'image/webp']), 304: noContent('Not modified') },
};

const choice = (name: string, values: string[], description: string): JsonSchema => ({
  type: 'string', enum: ['', ...values], description, errorMessage: `invalid "${name}": use ${values.join(' or ')}`,
});
export const publicAvatar: RouteSchema = {
  summary: 'The owner\'s avatar, or their initials (no token)', tags: ['public'],
  querystring: query({
    fallback: choice('fallback', ['initials', 'default', 'anonymous', '404'], 'initials (default), anonymous or 404 when there is no avatar'),
    as: choice('as', ['unconfirmed'], 'unconfirmed for a grey one'),
    fx: choice('fx', ['translucent'], 'translucent'),
    format: { type: 'string', pattern: '^(?:|[sS][vV][gG]|[pP][nN][gG])$', description: 'svg (default) or png', errorMessage: 'invalid "format": use svg or png' },
  }),
  response: { 200: content('The image (ETag; 304 with If-None-Match)', ['image/svg+xml', 'image/png', 'image/jpeg']), 304: noContent('Not modified') },
};
