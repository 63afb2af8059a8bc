/** What replicators call: _bulk_docs, _bulk_get, _revs_diff, _ensure_full_commit, _local, design docs. */
import type { FastifyInstance } from 'fastify';
import { BadRequest, NotFound, NotImplemented } from '../../common/errors.js';
import type { BulkGetRequestItem, Doc } from '../store.js';
import { validateLocalId } from '../doctype.js';
import { transformIn, transformRows, wholeType, type DataDeps } from './context.js';
import { getOptions, type ReadQuery } from './docs.js';
import * as schemas from './schemas.js';

type D = { Params: { doctype: string } };
type L = { Params: { doctype: string; id: string }; Querystring: { rev?: string } };
type DD = { Params: { doctype: string; ddoc: string } };

export function registerReplicationRoutes(app: FastifyInstance, deps: DataDeps): void {
  app.post<D & { Body: { docs: Doc[]; new_edits?: boolean } }>('/data/:doctype/_bulk_docs', { schema: schemas.bulkDocs }, async (req, reply) => {
    const access = await wholeType(deps, req, req.params.doctype, 'PUT');
    const { store, doctype } = access;
    const body = req.body;
    const docs = await Promise.all(body.docs.map((d) => transformIn(deps, access, d)));
    const newEdits = body.new_edits !== false;
    return reply.code(201).send(await store.bulkDocs(doctype, docs, newEdits));
  });

  app.post<D & { Querystring: { revs?: boolean; latest?: boolean; attachments?: boolean }; Body: { docs: BulkGetRequestItem[] } }>('/data/:doctype/_bulk_get', { schema: schemas.bulkGet }, async (req) => {
    const access = await wholeType(deps, req, req.params.doctype, 'GET');
    const { store, doctype } = access;
    const { revs, latest, attachments } = req.query;
    const results = await store.bulkGet(doctype, req.body.docs, { revs, latest, attachments });
    await Promise.all(results.map((r) => transformRows(deps, access, r.docs, 'ok')));
    return { results };
  });

  app.post<D & { Body: Record<string, string[]> }>('/data/:doctype/_revs_diff', { schema: schemas.revsDiff }, async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'GET');
    return store.revsDiff(doctype, req.body);
  });

  app.post<D>('/data/:doctype/_ensure_full_commit', { schema: schemas.ensureFullCommit }, async (req, reply) => {
    await wholeType(deps, req, req.params.doctype, 'POST');
    // Every acknowledged write is already durable (fsynced before the answer).
    return reply.code(201).send({ ok: true, instance_start_time: '0' });
  });

  app.get<L>('/data/:doctype/_local/:id', { schema: schemas.getLocal }, async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'GET');
    return store.getLocal(doctype, validateLocalId(req.params.id));
  });
  app.put<L & { Body: Doc }>('/data/:doctype/_local/:id', { schema: schemas.putLocal }, async (req, reply) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'PUT');
    const res = await store.putLocal(doctype, validateLocalId(req.params.id), req.body);
    return reply.code(201).send({ ok: true, ...res });
  });
  app.delete<L>('/data/:doctype/_local/:id', { schema: schemas.deleteLocal }, async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'PUT');
    return { ok: true, ...(await store.deleteLocal(doctype, validateLocalId(req.params.id), req.query.rev)) };
  });

  // Design documents: stored and replicated; views are not executed yet.
  app.get<D & { Querystring: { include_docs?: boolean } }>('/data/:doctype/_design_docs', { schema: schemas.designDocs }, async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'GET');
    return store.allDocs(doctype, { startkey: '_design/', endkey: '_design0', inclusive_end: false, include_docs: req.query.include_docs });
  });
  app.get<DD & { Querystring: ReadQuery }>('/data/:doctype/_design/:ddoc', { schema: schemas.getDesign }, async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'GET');
    return { ...(await store.get(doctype, `_design/${req.params.ddoc}`, getOptions(req.query))), _type: doctype };
  });
  app.put<DD & { Body: Doc }>('/data/:doctype/_design/:ddoc', { schema: schemas.putDesign }, async (req, reply) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'PUT');
    const res = await store.put(doctype, { ...req.body, _id: `_design/${req.params.ddoc}` });
    return reply.code(201).send({ ok: true, id: res.id, rev: res.rev });
  });
  app.delete<DD & { Querystring: { rev?: string } }>('/data/:doctype/_design/:ddoc', { schema: schemas.deleteDesign }, async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'DELETE');
    const rev = req.query.rev;
    if (!rev) throw new BadRequest('give the design document revision with ?rev=');
    const res = await store.put(doctype, { _id: `_design/${req.params.ddoc}`, _rev: rev, _deleted: true });
    return { ok: true, id: res.id, rev: res.rev };
  });
  app.post<DD>('/data/:doctype/_design/:ddoc/copy', { schema: schemas.copyDesign }, async (req, reply) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'POST');
    const dest = req.headers.destination;
    if (typeof dest !== 'string' || !dest.startsWith('_design/')) throw new BadRequest('the Destination header must name a _design/ document');
    const source: Doc = await store.get(doctype, `_design/${req.params.ddoc}`);
    const copy: Doc = { ...source, _id: dest };
    delete copy._rev;
    const res = await store.put(doctype, copy);
    return reply.code(201).send({ ok: true, id: res.id, rev: res.rev });
  });
  app.get<{ Params: { doctype: string; ddoc: string; view: string } }>('/data/:doctype/_design/:ddoc/_view/:view', { schema: schemas.view }, async (req) => {
    await wholeType(deps, req, req.params.doctype, 'GET');
    throw new NotImplemented('map/reduce views are stored and replicated but not executed yet: use a Mango index and _find instead');
  });
  app.get('/data/:doctype/_design/:ddoc/_info', { schema: schemas.designInfo }, async () => {
    throw new NotFound('missing');
  });
}
