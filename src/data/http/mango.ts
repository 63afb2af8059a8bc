/** Mango routes: _find, _explain, _index (create, list, delete). */
import type { FastifyInstance } from 'fastify';
import { parseFindRequest, parseIndexRequest } from '../mango/index.js';
import type { Doc } from '../store.js';
import { assertQueryable, transformOut, wholeType, type DataDeps } from './context.js';
import * as schemas from './schemas.js';

type D = { Params: { doctype: string } };

export function registerMangoRoutes(app: FastifyInstance, deps: DataDeps): void {
  app.post<D>('/data/:doctype/_find', { schema: schemas.find }, async (req) => {
    const access = await wholeType(deps, req, req.params.doctype, 'GET');
    const request = parseFindRequest(req.body);
    assertQueryable(deps, access, request.selector, request.sort);
    const res = await access.store.find(access.doctype, request);
    if (deps.transforms) res.docs = await Promise.all(res.docs.map((d) => transformOut(deps, access, d as Doc)));
    // cozy-stack adds `next`: true when the page is full (more may follow)
    return { ...res, limit: request.limit, next: res.docs.length >= request.limit && request.limit > 0 };
  });

  app.post<D>('/data/:doctype/_explain', { schema: schemas.explain }, async (req) => {
    const access = await wholeType(deps, req, req.params.doctype, 'GET');
    const request = parseFindRequest(req.body);
    assertQueryable(deps, access, request.selector, request.sort);
    return access.store.explain(access.doctype, request);
  });

  // an index is a way to read (cozy-stack: CheckReadable and GET on the whole doctype), so read-only doctypes have them too
  app.post<D>('/data/:doctype/_index', { schema: schemas.createIndex }, async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'GET');
    return store.createIndex(doctype, parseIndexRequest(req.body));
  });

  app.get<D>('/data/:doctype/_index', { schema: schemas.listIndexes }, async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'GET');
    return store.listIndexes(doctype);
  });

  app.delete<{ Params: { doctype: string; ddoc: string; name: string } }>('/data/:doctype/_index/:ddoc/json/:name', { schema: schemas.deleteIndex }, async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'DELETE');
    await store.deleteIndex(doctype, req.params.ddoc, req.params.name);
    return { ok: true };
  });
}
