/**
 * WebDAV at /dav/files/ (RFC 4918 class 1 and 2) over the same file system, rights, quota and
 * trash as /files. One plugin scope: no body parser (PUT streams the raw body into the file
 * system, the XML bodies are read by the handlers), WebDAV error bodies, and one route for every
 * method, dispatched here. OPTIONS answers without credentials (it says what the server can do,
 * nothing about the files); every other method needs a token (Basic password or Bearer).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFound } from '../../common/errors.js';
import { closeOnUnreadBody } from '../http/body.js';
import { get, put } from './content.js';
import { DavRequest, type DavDeps } from './context.js';
import { copyOrMove } from './copymove.js';
import { mkcol, remove } from './delete-mkcol.js';
import { DavError, davErrorHandler } from './errors.js';
import { lock, unlock } from './lock-unlock.js';
import { DAV_ROOT, targetOfUrl } from './paths.js';
import { propfind } from './propfind.js';
import { proppatch } from './proppatch.js';
import { authenticate } from './rights.js';
import * as schemas from './schemas.js';

export type { DavDeps };

/** The methods Fastify does not know by default (all may carry a body). */
const EXTRA_METHODS = ['PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK'];

const HANDLERS: Record<string, (dav: DavRequest) => Promise<void>> = {
  GET: get,
  HEAD: get,
  PUT: put,
  DELETE: remove,
  MKCOL: mkcol,
  PROPFIND: propfind,
  PROPPATCH: proppatch,
  COPY: (dav) => copyOrMove(dav, false),
  MOVE: (dav) => copyOrMove(dav, true),
  LOCK: lock,
  UNLOCK: unlock,
};

export const ALLOW = ['OPTIONS', ...Object.keys(HANDLERS)].join(', ');
const READS = new Set(['GET', 'HEAD', 'PROPFIND']);

function options(req: FastifyRequest, reply: FastifyReply) {
  if (!req.instance) throw new NotFound('no instance is served at this address');
  targetOfUrl(req.raw.url ?? '/');
  return reply.code(200).header('DAV', '1, 2').header('MS-Author-Via', 'DAV').header('Allow', ALLOW).header('Accept-Ranges', 'bytes').header('Content-Length', '0').send();
}

function handler(deps: DavDeps) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const target = targetOfUrl(req.raw.url ?? '/');
    const { instance, set, principal } = await authenticate(deps.perms, req);
    if (target.hidden) {
      if (READS.has(req.method)) throw new DavError(404, 'not_found', 'the trash is not shown over WebDAV');
      throw new DavError(403, 'forbidden', 'the trash cannot be written over WebDAV: DELETE moves things there');
    }
    await HANDLERS[req.method]!(new DavRequest(deps, req, reply, instance, set, target, principal));
  };
}

/**
 * No CORS on /dav: browsers cache Basic credentials, and the API's reflected-origin CORS with
 * credentials would let any site read the files with them. (It also keeps @fastify/cors from
 * answering WebDAV clients' OPTIONS, which carry no Origin, as bad preflights.)
 */
const NO_CORS = { cors: false };

export function registerDavRoutes(app: FastifyInstance, deps: DavDeps): void {
  for (const m of EXTRA_METHODS) app.addHttpMethod(m, { hasBody: true });
  void app.register(async (scope) => {
    // bodies stay streams: PUT hands them to the file system, the others read their XML
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    closeOnUnreadBody(scope);
    scope.setErrorHandler(davErrorHandler);
    const handle = handler(deps);
    for (const url of [DAV_ROOT, `${DAV_ROOT}/*`]) {
      const onRoot = url === DAV_ROOT;
      scope.route({ method: 'OPTIONS', url, config: NO_CORS, schema: schemas.options(onRoot), handler: options });
      scope.route({ method: Object.keys(HANDLERS), url, exposeHeadRoute: false, config: NO_CORS, schema: schemas.dav(onRoot), handler: handle });
    }
  });
}
