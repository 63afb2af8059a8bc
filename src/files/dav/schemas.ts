/**
 * The schemas of /dav/files (WebDAV): one route for every method of a path, documented as such (OpenAPI
 * 3.0 has no PROPFIND, MKCOL…: ops/openapi.ts puts them under x-additional-operations). Bodies are read
 * by the handlers (XML, or the raw content of a PUT), never parsed here.
 */
import { content, noContent, params, type JsonSchema, type RouteSchema } from '../../common/schemas.js';

const tags = ['dav'];
const DESCRIPTION = 'One route for every WebDAV method; MKCOL, PROPFIND, PROPPATCH, COPY, MOVE, LOCK and UNLOCK are under x-additional-operations (OpenAPI 3.0 has no such methods). '
  + 'Basic auth with an app password (any user name), or Bearer; headers Depth, Destination, Overwrite, If, Lock-Token, Timeout as RFC 4918. '
  + 'Bodies, read by the handlers: XML for PROPFIND, PROPPATCH and LOCK, the raw content (streamed) for PUT.';
const headers: JsonSchema = {
  type: 'object',
  properties: Object.fromEntries(['depth', 'destination', 'overwrite', 'if', 'lock-token', 'timeout', 'if-match', 'range'].map((h) => [h, { description: `The ${h} header (RFC 4918 / RFC 9110)` }])),
};
const responses = {
  200: content('GET: the content; LOCK: the lock discovery', ['application/octet-stream', 'application/xml'], { type: 'string', format: 'binary' }),
  201: noContent('Created (PUT, MKCOL, COPY, MOVE)'),
  204: noContent('Done (PUT over a file, DELETE, PROPPATCH…)'),
  207: content('Multi-status (PROPFIND, PROPPATCH, a partly failed COPY/MOVE/DELETE)', ['application/xml']),
};
const rest = params({ '*': 'The path under the root, e.g. Documents/a.pdf' });

export const dav = (onRoot: boolean): RouteSchema => ({
  summary: `WebDAV on ${onRoot ? 'the root directory' : 'a file or directory'} (Basic auth with an app password, or Bearer)`, tags, description: DESCRIPTION,
  // no body schema: the route serves GET too (Fastify refuses one there); the bodies are in the description
  ...(onRoot ? {} : { params: rest }), headers, response: responses,
});
export const options = (onRoot: boolean): RouteSchema => ({
  summary: 'What the WebDAV server supports (DAV: 1, 2; no credentials needed)', tags, ...(onRoot ? {} : { params: rest }),
  response: { 200: noContent('DAV and Allow headers') },
});
