/** What replicators call: _bulk_docs, _bulk_get, _revs_diff, _ensure_full_commit, _local, design docs. */
import type { FastifyInstance } from 'fastify';
import { BadRequest, NotFound, NotImplemented } from '../../common/errors.js';
import type { BulkGetRequestItem, Doc } from '../store.js';
import { validateLocalId } from '../doctype.js';
import { bool, objectBody, transformIn, transformRows, wholeType, type DataDeps } from './context.js';
import { getOptions } from './docs.js';

type D = { Params: { doctype: string } };
type L = { Params: { doctype: string; id: string }; Querystring: Record<string, unknown> };

const MAX_BULK = 10_000;

export function registerReplicationRoutes(app: FastifyInstance, deps: DataDeps): void {
  app.post<D>('/data/:doctype/_bulk_docs', async (req, reply) => {
    const access = await wholeType(deps, req, req.params.doctype, 'PUT');
    const { store, doctype } = access;
    const body = objectBody(req.body);
    if (!Array.isArray(body.docs)) throw new BadRequest('_bulk_docs needs a "docs" array');
    if (body.docs.length > MAX_BULK) throw new BadRequest(`_bulk_docs takes at most ${MAX_BULK} documents per request`);
    const docs = await Promise.all(body.docs.map((d) => transformIn(deps, access, objectBody(d))));
    const newEdits = body.new_edits !== false;
    return reply.code(201).send(await store.bulkDocs(doctype, docs, newEdits));
  });

  app.post<D & { Querystring: Record<string, unknown> }>('/data/:doctype/_bulk_get', async (req) => {
    const access = await wholeType(deps, req, req.params.doctype, 'GET');
    const { store, doctype } = access;
    const body = objectBody(req.body);
    if (!Array.isArray(body.docs) || body.docs.length > MAX_BULK) throw new BadRequest(`_bulk_get needs a "docs" array of at most ${MAX_BULK} items`);
    const items = body.docs.map((d) => {
      const item = objectBody(d);
      if (typeof item.id !== 'string') throw new BadRequest('every _bulk_get item needs a string "id"');
      return item as unknown as BulkGetRequestItem;
    });
    const q = req.query;
    const results = await store.bulkGet(doctype, items, { revs: bool(q.revs), latest: bool(q.latest), attachments: bool(q.attachments) });
    await Promise.all(results.map((r) => transformRows(deps, access, r.docs, 'ok')));
    return { results };
  });

  app.post<D>('/data/:doctype/_revs_diff', async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'GET');
    const body = objectBody(req.body);
    if (Object.keys(body).length > MAX_BULK) throw new BadRequest(`_revs_diff takes at most ${MAX_BULK} ids`);
    return store.revsDiff(doctype, body as unknown as Record<string, string[]>);
  });

  app.post<D>('/data/:doctype/_ensure_full_commit', async (req, reply) => {
    await wholeType(deps, req, req.params.doctype, 'POST');
    // Every acknowledged write is already durable (fsynced before the answer).
    return reply.code(201).send({ ok: true, instance_start_time: '0' });
  });

  app.get<L>('/data/:doctype/_local/:id', async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'GET');
    return store.getLocal(doctype, validateLocalId(req.params.id));
  });
  app.put<L>('/data/:doctype/_local/:id', async (req, reply) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'PUT');
    const res = await store.putLocal(doctype, validateLocalId(req.params.id), objectBody(req.body));
    return reply.code(201).send({ ok: true, ...res });
  });
  app.delete<L>('/data/:doctype/_local/:id', async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'PUT');
    const rev = typeof req.query.rev === 'string' ? req.query.rev : undefined;
    return { ok: true, ...(await store.deleteLocal(doctype, validateLocalId(req.params.id), rev)) };
  });

  // Design documents: stored and replicated; views are not executed yet.
  app.get<D>('/data/:doctype/_design_docs', async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'GET');
    const q = req.query as Record<string, unknown>;
    return store.allDocs(doctype, { startkey: '_design/', endkey: '_design0', inclusive_end: false, include_docs: bool(q.include_docs) });
  });
  app.get<L & { Params: { ddoc: string } }>('/data/:doctype/_design/:ddoc', async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'GET');
    return { ...(await store.get(doctype, `_design/${req.params.ddoc}`, getOptions(req.query))), _type: doctype };
  });
  app.put<L & { Params: { ddoc: string } }>('/data/:doctype/_design/:ddoc', async (req, reply) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'PUT');
    const res = await store.put(doctype, { ...objectBody(req.body), _id: `_design/${req.params.ddoc}` });
    return reply.code(201).send({ ok: true, id: res.id, rev: res.rev });
  });
  app.delete<L & { Params: { ddoc: string } }>('/data/:doctype/_design/:ddoc', async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'DELETE');
    const rev = typeof req.query.rev === 'string' ? req.query.rev : undefined;
    if (!rev) throw new BadRequest('give the design document revision with ?rev=');
    const res = await store.put(doctype, { _id: `_design/${req.params.ddoc}`, _rev: rev, _deleted: true });
    return { ok: true, id: res.id, rev: res.rev };
  });
  app.post<L & { Params: { ddoc: string } }>('/data/:doctype/_design/:ddoc/copy', async (req, reply) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'POST');
    const dest = req.headers.destination;
    if (typeof dest !== 'string' || !dest.startsWith('_design/')) throw new BadRequest('the Destination header must name a _design/ document');
    const source: Doc = await store.get(doctype, `_design/${req.params.ddoc}`);
    const copy: Doc = { ...source, _id: dest };
    delete copy._rev;
    const res = await store.put(doctype, copy);
    return reply.code(201).send({ ok: true, id: res.id, rev: res.rev });
  });
  app.get<L & { Params: { ddoc: string; view: string } }>('/data/:doctype/_design/:ddoc/_view/:view', async (req) => {
    await wholeType(deps, req, req.params.doctype, 'GET');
    throw new NotImplemented('map/reduce views are stored and replicated but not executed yet: use a Mango index and _find instead');
  });
  app.get('/data/:doctype/_design/:ddoc/_info', async () => {
    throw new NotFound('missing');
  });
}
