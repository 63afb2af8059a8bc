/** Document routes: create, read, update, delete, attachments (cozy-stack's /data semantics). */
import type { FastifyInstance } from 'fastify';
import { BadRequest, Conflict } from '../../common/errors.js';
import type { Doc, GetOptions } from '../store.js';
import { validateDocId } from '../doctype.js';
import { parseRev } from '../sqlite/revtree.js';
import { allowDoc, docAccess, jsonParam, transformIn, transformOut, transformRows, withType, type DataDeps } from './context.js';
import * as schemas from './schemas.js';

type P = { doctype: string; docid: string };

/** The read options of a query string, as its schema (schemas.ts) coerced them. */
export type ReadQuery = { rev?: string; revs?: boolean; revs_info?: boolean; conflicts?: boolean; deleted_conflicts?: boolean; latest?: boolean; attachments?: boolean; atts_since?: string; open_revs?: string };

export function getOptions(q: ReadQuery): GetOptions {
  const atts = jsonParam(q.atts_since, 'atts_since');
  const { rev, revs, revs_info, conflicts, deleted_conflicts, latest, attachments } = q;
  return { rev, revs, revs_info, conflicts, deleted_conflicts, latest, attachments, atts_since: Array.isArray(atts) ? atts.map(String) : undefined };
}

export function registerDocRoutes(app: FastifyInstance, deps: DataDeps): void {
  app.post<{ Params: { doctype: string }; Body: Doc }>('/data/:doctype/', { schema: schemas.createDoc }, async (req, reply) => {
    const access = await docAccess(deps, req, req.params.doctype, 'POST');
    const doc = req.body;
    allowDoc(access, 'POST', doc);
    const res = await access.store.put(access.doctype, await transformIn(deps, access, doc));
    return reply.code(201).send({ ok: true, id: res.id, rev: res.rev, type: access.doctype, data: withType(res.doc, access.doctype) });
  });

  app.get<{ Params: P; Querystring: ReadQuery }>('/data/:doctype/:docid', { schema: schemas.getDoc }, async (req, reply) => {
    const access = await docAccess(deps, req, req.params.doctype, 'GET');
    const id = validateDocId(req.params.docid);
    const q = req.query;
    const opts = getOptions(q);
    if (q.open_revs !== undefined) {
      const openRevs = q.open_revs === 'all' ? 'all' : jsonParam(q.open_revs, 'open_revs');
      if (openRevs !== 'all' && (!Array.isArray(openRevs) || !openRevs.every((r) => typeof r === 'string'))) {
        throw new BadRequest('open_revs must be "all" or a JSON array of revs', 'query_parse_error');
      }
      const results = await access.store.openRevs(access.doctype, id, openRevs as string[] | 'all', opts);
      for (const r of results) if ('ok' in r) allowDoc(access, 'GET', r.ok);
      await transformRows(deps, access, results, 'ok');
      return reply.send(results);
    }
    const kept = q.rev ? await deps.transforms?.keptRevision?.(access.store, access.doctype, id, q.rev) : null;
    const doc = kept ?? await access.store.get(access.doctype, id, opts);
    allowDoc(access, 'GET', doc);
    return reply.header('ETag', `"${String(doc._rev)}"`).send(withType(await transformOut(deps, access, doc), access.doctype));
  });

  app.put<{ Params: P; Body: Doc }>('/data/:doctype/:docid', { schema: schemas.putDoc }, async (req, reply) => {
    const access = await docAccess(deps, req, req.params.doctype, 'PUT');
    const id = validateDocId(req.params.docid);
    const doc = req.body;
    // cozy-stack wants _id and _rev together; CouchDB clients (PouchDB) send _id alone to create: accept both.
    const hasRev = doc._rev !== undefined;
    if (doc._id !== undefined && doc._id !== id) throw new BadRequest('the _id in the body does not match the id in the URL');
    if (hasRev && !parseRev(doc._rev)) throw new BadRequest(`invalid _rev "${String(doc._rev).slice(0, 80)}": expected N-<32 hex>`);
    if (hasRev) {
      const old = await access.store.get(access.doctype, id).catch(() => null);
      if (!old) throw new Conflict();
      allowDoc(access, 'PUT', old);
    }
    allowDoc(access, hasRev ? 'PUT' : 'POST', { ...doc, _id: id });
    const res = await access.store.put(access.doctype, await transformIn(deps, access, { ...doc, _id: id }));
    return reply.code(200).send({ ok: true, id: res.id, rev: res.rev, type: access.doctype, data: withType(res.doc, access.doctype) });
  });

  app.delete<{ Params: P; Querystring: { rev?: string } }>('/data/:doctype/:docid', { schema: schemas.deleteDoc }, async (req, reply) => {
    const access = await docAccess(deps, req, req.params.doctype, 'DELETE');
    const id = validateDocId(req.params.docid);
    const header = req.headers['if-match'];
    const fromHeader = typeof header === 'string' ? header.replace(/^"|"$/g, '') : undefined;
    const rev = req.query.rev ?? fromHeader;
    if (!rev) throw new BadRequest('give the current revision with ?rev= or an If-Match header to delete a document');
    if (req.query.rev && fromHeader && req.query.rev !== fromHeader) throw new BadRequest('?rev= and If-Match differ');
    const old = await access.store.get(access.doctype, id);
    allowDoc(access, 'DELETE', old);
    const res = await access.store.put(access.doctype, { _id: id, _rev: rev, _deleted: true });
    return reply.send({ ok: true, id: res.id, rev: res.rev, type: access.doctype, deleted: true });
  });

  app.get<{ Params: P & { att: string }; Querystring: { rev?: string } }>('/data/:doctype/:docid/:att', { schema: schemas.getAttachment }, async (req, reply) => {
    const access = await docAccess(deps, req, req.params.doctype, 'GET');
    const id = validateDocId(req.params.docid);
    const doc: Doc = await access.store.get(access.doctype, id, req.query.rev ? { rev: req.query.rev } : {});
    allowDoc(access, 'GET', doc);
    const att = await access.store.getAttachment(access.doctype, id, req.params.att, req.query.rev);
    return reply
      .header('Content-Type', att.content_type)
      .header('ETag', `"${att.digest}"`)
      .header('Content-Security-Policy', "default-src 'none'; sandbox")
      .header('X-Content-Type-Options', 'nosniff')
      .send(att.data);
  });
}
