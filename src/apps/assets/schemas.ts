/** Route schemas of the stack assets (one per route: validation, OpenAPI and serialization come from them). */
import { content, noContent, params, query, str, type JsonSchema, type RouteSchema } from '../../common/schemas.js';
import { CONTEXT_PATTERN } from '../../instances/context.js';

const tags = ['assets'];
const file = (description: string) => content(description, ['text/css', 'text/javascript', 'font/woff2', 'font/woff', 'image/svg+xml', 'image/png', 'image/jpeg', 'image/x-icon', 'application/manifest+json']);

export const asset: RouteSchema = {
  summary: 'A stack asset (cozy-bar, cozy-client-js, fonts, theme CSS, icons, wallpaper); content-hashed names are immutable', tags,
  params: params({ '*': 'The asset name, e.g. fonts/fonts.css or js/cozy-bar.min.<hash>.js' }),
  response: { 200: file('The asset (ETag)'), 304: noContent('Not modified') },
};
export const favicon: RouteSchema = {
  summary: 'The pages\' icon: the context\'s favicon.ico when it has one (hearth assets), else an ICO of 16, 32 and 48 pixel PNGs', tags: ['public'],
  response: { 200: content('The icon', ['image/x-icon']), 304: noContent('Not modified') },
};
export const robots: RouteSchema = { summary: 'robots.txt: the instance is not for crawlers', tags: ['public'], response: { 200: content('The rules', ['text/plain']) } };
export const securityTxt: RouteSchema = { summary: 'security.txt (RFC 9116): where to report a vulnerability', tags: ['public'], response: { 200: content('The contact', ['text/plain']) } };

const adminTags = ['admin'];
const assetView: JsonSchema = {
  type: 'object',
  properties: { context: { type: 'string' }, name: { type: 'string' }, size: { type: 'integer' }, md5: { type: 'string' }, type: { type: 'string' }, created_at: { type: 'string' } },
};
const contextParam = str('The context (default: default)', { pattern: CONTEXT_PATTERN, errorMessage: 'a context name is letters, digits, _ - . (at most 63)' });
export const adminList: RouteSchema = {
  summary: 'The per-context stack assets (all, or one context\'s)', tags: adminTags,
  querystring: query({ context: contextParam }),
  response: { 200: { type: 'object', properties: { data: { type: 'array', items: assetView } } } },
};
export const adminAdd: RouteSchema = {
  summary: 'Adds (or replaces) a context\'s version of a stack asset, fetched from url (file:// on the server, or http(s))', tags: adminTags,
  body: {
    type: 'object', required: ['name', 'url'], additionalProperties: false,
    properties: { context: contextParam, name: str('The asset, as served under /assets: e.g. /images/logo.svg, /styles/theme.css, /favicon.ico', { maxLength: 201 }), url: str('Where to read it', { maxLength: 4096 }) },
    errorMessage: { required: 'send {"name": "/images/logo.svg", "url": "file:///srv/logo.svg", "context": "…"}' },
  },
  response: { 201: { type: 'object', properties: { data: assetView } } },
};
export const adminRemove: RouteSchema = {
  summary: 'Removes a context\'s version of a stack asset: its instances get the default again', tags: adminTags,
  querystring: { ...query({ context: contextParam, name: str('The asset, e.g. /images/logo.svg') }), required: ['name'] },
  response: { 204: noContent('Removed') },
};
