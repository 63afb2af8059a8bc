/** The schemas of the /registry proxy routes (validation, OpenAPI, serialization: server/validation.ts). */
import { content, params, passThrough, query, str, type RouteSchema } from '../../common/schemas.js';

const tags = ['registry'];
const app = { app: 'The slug of the application' };
const version = { version: 'A version (X.Y.Z, X.Y.Z-beta.N, X.Y.Z-dev.<id>)' };
const IMAGES = ['image/svg+xml', 'image/png', 'image/jpeg', 'image/webp', 'image/gif', 'application/octet-stream'];
const image = (description: string) => ({ 200: content(description, IMAGES, { type: 'string', format: 'binary' }) });
const json = (description: string) => ({ 200: passThrough(`${description} (gzip-compressed when the request accepts it)`) });

const LIST_QUERY = query({
  limit: str('How many applications at most (default 100, at most 1000)', { pattern: '^\\d{1,9}$' }),
  cursor: 'meta.next_cursor of the previous page (one position per registry, separated by |)',
  sort: 'slug, type, editor, created_at, category or label; a leading - reverses',
  versionsChannel: { type: 'string', enum: ['stable', 'beta', 'dev'], description: 'The channels whose version numbers `versions` lists: this one and the more stable ones (default dev: all)' },
  latestChannelVersion: { type: 'string', enum: ['stable', 'beta', 'dev'], description: 'The channel latest_version is taken from (default stable)' },
});

export const list: RouteSchema = {
  summary: 'The applications of the registries, merged in order (an app token or an OAuth token)', tags,
  description: 'Filters: any filter[<field>]=<value> of the application (type, editor, category…). A registry that cannot be reached is skipped (logged).',
  querystring: LIST_QUERY,
  response: json('{data: [application], meta: {count, next_cursor}}'),
};

export const maintenance: RouteSchema = {
  summary: 'The applications in maintenance, from every registry (an app token or an OAuth token)', tags,
  response: json('A list of applications with maintenance_activated and maintenance_options'),
};

export const application: RouteSchema = {
  summary: 'An application of the first registry that has it (an app token or an OAuth token)', tags,
  params: params(app),
  response: json('The application: slug, type, editor, versions by channel, latest_version…'),
};

export const versionObject: RouteSchema = {
  summary: 'A version of an application (immutable; an app token or an OAuth token)', tags,
  params: params({ ...app, ...version }),
  response: { 200: passThrough('The version: slug, type, version, created_at, url, size, sha256, tar_prefix, manifest') },
};

export const latest: RouteSchema = {
  summary: "The latest version of a channel (stable, beta or dev; an app token or an OAuth token)", tags,
  params: params({ ...app, version: { type: 'string', enum: ['stable', 'beta', 'dev'], description: 'The channel' } }),
  response: { 200: passThrough('The version: slug, type, version, created_at, url, size, sha256, tar_prefix, manifest') },
};

export const icon = (what: string, ofVersion: boolean): RouteSchema => ({
  summary: `The ${what} of ${ofVersion ? 'a version' : 'the latest version'} of an application (the session, or GET on io.cozy.apps)`, tags,
  params: params(ofVersion ? { ...app, ...version } : app),
  response: image(`The ${what}, as the registry sends it (cached ${ofVersion ? 'for ever' : 'a day'})`),
});

export const screenshot = (ofVersion: boolean): RouteSchema => ({
  summary: `A screenshot of ${ofVersion ? 'a version' : 'the latest version'} of an application (the session, or GET on io.cozy.apps)`, tags,
  params: params(ofVersion ? { ...app, ...version, '*': 'The screenshot, as the manifest names it' } : { ...app, '*': 'The screenshot, as the manifest names it' }),
  response: image(`The screenshot (cached ${ofVersion ? 'for ever' : 'a day'})`),
});
