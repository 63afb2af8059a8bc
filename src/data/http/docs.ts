/** Document routes: create, read, update, delete, attachments (cozy-stack's /data semantics). */
import type { FastifyInstance } from 'fastify';
import { BadRequest, Conflict } from '../../common/errors.js';
import type { Doc, GetOptions } from '../store.js';
import { validateDocId } from '../doctype.js';
import { parseRev } from '../sqlite/revtree.js';
import { allowDoc, bool, docAccess, jsonParam, objectBody, transformIn, transformOut, transformRows, withType, type DataDeps } from './context.js';

type P = { doctype: string; docid: string };

export function getOptions(q: Record<string, unknown>): GetOptions {
  const atts = jsonParam(q.atts_since, 'atts_since');
  return {
    rev: typeof q.rev === 'string' ? q.rev : undefined,
    revs: bool(q.revs),
    revs_info: bool(q.revs_info),
    conflicts: bool(q.conflicts),
    deleted_conflicts: bool(q.deleted_conflicts),
    latest: bool(q.latest),
    attachments: bool(q.attachments),
    atts_since: Array.isArray(atts) ? atts.map(String) : undefined,
  };
}

export function registerDocRoutes(app: FastifyInstance, deps: DataDeps): void {
  app.post<{ Params: { doctype: string } }>('/data/:doctype/', async (req, reply) => {
    const access = await docAccess(deps, req, req.params.doctype, 'POST');
    const doc = objectBody(req.body);
    if (doc._id !== undefined || doc._rev !== undefined) {
      throw new BadRequest('a new document must not have _id or _rev: use PUT /data/:doctype/:id to choose the id');
    }
    allowDoc(access, 'POST', doc);
    const res = await access.store.put(access.doctype, await transformIn(deps, access, doc));
    return reply.code(201).send({ ok: true, id: res.id, rev: res.rev, type: access.doctype, data: withType(res.doc, access.doctype) });
  });

  app.get<{ Params: P; Querystring: Record<string, unknown> }>('/data/:doctype/:docid', async (req, reply) => {
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
    const doc = await access.store.get(access.doctype, id, opts);
    allowDoc(access, 'GET', doc);
    return reply.header('ETag', `"${String(doc._rev)}"`).send(withType(await transformOut(deps, access, doc), access.doctype));
  });

  app.put<{ Params: P }>('/data/:doctype/:docid', async (req, reply) => {
    const access = await docAccess(deps, req, req.params.doctype, 'PUT');
    const id = validateDocId(req.params.docid);
    const doc = objectBody(req.body);
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

  app.delete<{ Params: P; Querystring: { rev?: string } }>('/data/:doctype/:docid', async (req, reply) => {
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

  app.get<{ Params: P & { att: string }; Querystring: { rev?: string } }>('/data/:doctype/:docid/:att', async (req, reply) => {
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
