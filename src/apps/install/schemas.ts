/** The schemas of the /apps and /konnectors routes (validation, OpenAPI, serialization: server/validation.ts). */
import { content, jsonApi, openObject, params, query, resource, type JsonSchema, type RouteSchema } from '../../common/schemas.js';
import { KIND, type AppKind } from '../types.js';

const tags = ['apps'];
const slug = params({ slug: 'The app\'s slug (lower-case letters, digits, dashes)' });
const doc = (kind: AppKind): JsonSchema => resource(KIND[kind].doctype, openObject('The manifest, plus slug, source, state, version, checksum, available_version, created_at, updated_at'));
const one = (kind: AppKind, what: string): JsonSchema => jsonApi(what, doc(kind));
const sse = content('With Accept: text/event-stream: `event: state` (the doc) at each state, `event: error`, until the end', ['text/event-stream']);
const name = (kind: AppKind) => (kind === 'webapp' ? 'web app' : 'konnector');

export function list(kind: AppKind): RouteSchema {
  return {
    summary: `The installed ${name(kind)}s, in slug order`, tags,
    querystring: query({ limit: 'How many (default 100, at most 1000)', start_key: 'The slug to start from (links.next gives it)' }),
    response: { 200: jsonApi(`The ${name(kind)}s`, { type: 'array', items: doc(kind) }, { links: openObject('next: the next page'), meta: openObject('count') }) },
  };
}

export function get(kind: AppKind): RouteSchema {
  return { summary: `One installed ${name(kind)}`, tags, params: slug, response: { 200: one(kind, `The ${name(kind)}`) } };
}

export function install(kind: AppKind): RouteSchema {
  return {
    summary: `Installs a ${name(kind)} (202 in state installing; synchronous progress with Accept: text/event-stream)`, tags, params: slug,
    querystring: query({
      Source: 'registry://slug[/channel][/version], https://….tar.gz[#sha256], http://…, git://…[#branch], git+https://…[#branch], file:///dir (dev); default registry://<slug>/stable',
      Deactivated: 'true: the end state is installed rather than ready',
      ...(kind === 'konnector' ? { Parameters: 'A JSON object replacing the manifest\'s parameters (non-registry sources only)' } : {}),
    }),
    response: { 200: sse, 202: one(kind, `The ${name(kind)}, installing`) },
  };
}

export function update(kind: AppKind): RouteSchema {
  return {
    summary: `Updates a ${name(kind)} (202; an update whose permissions or terms changed waits for PermissionsAcked=true)`, tags, params: slug,
    querystring: query({ Source: 'The source (default: the stored one)', PermissionsAcked: 'true: the owner accepted the new permissions' }),
    response: { 200: sse, 202: one(kind, `The ${name(kind)}, upgrading`) },
  };
}

export function uninstall(kind: AppKind): RouteSchema {
  return {
    summary: `Uninstalls a ${name(kind)}: its doc, permission document, triggers and code`, tags, params: slug,
    response: { 200: one(kind, `The ${name(kind)} as it was`), ...(kind === 'konnector' ? { 202: one(kind, 'The konnector: its on_delete_account runs for each account, then it is uninstalled') } : {}) },
  };
}
