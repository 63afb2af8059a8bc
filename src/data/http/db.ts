/** Doctype-level routes: info, create, drop, _all_docs, _normal_docs, _all_doctypes. */
import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import { BadRequest, NotFound, PreconditionFailed, Forbidden } from '../../common/errors.js';
import { Permissions } from '../../permissions/rules.js';
import type { AllDocsOptions } from '../store.js';
import { count, instanceOf, jsonParam, transformOut, transformRows, wholeType, type DataDeps } from './context.js';
import * as schemas from './schemas.js';

/** The query of _all_docs, as its schema (schemas.ts) coerced it; the JSON-encoded values are parsed here. */
type Q = {
  include_docs?: boolean; conflicts?: boolean; descending?: boolean; inclusive_end?: boolean; limit?: string; skip?: string;
  key?: string; keys?: string; startkey?: string; start_key?: string; endkey?: string; end_key?: string; Fields?: string; DesignDocs?: string;
};

function allDocsOptions(q: Q, body: { keys?: string[] } | undefined): AllDocsOptions {
  const keys = body?.keys ?? jsonParam(q.keys, 'keys');
  if (keys !== undefined && (!Array.isArray(keys) || keys.length > 10_000)) throw new BadRequest('keys must be an array of at most 10000 ids');
  const key = (name: string) => {
    const v = jsonParam(q[name as 'startkey'] ?? q[name.replace('key', '_key') as 'start_key'], name);
    if (v !== undefined && typeof v !== 'string') throw new BadRequest(`${name} must be a JSON string (document ids are strings)`, 'query_parse_error');
    return v as string | undefined;
  };
  const key1 = jsonParam(q.key, 'key');
  return {
    keys: (keys as string[] | undefined) ?? (typeof key1 === 'string' ? [key1] : undefined),
    startkey: key('startkey'),
    endkey: key('endkey'),
    inclusive_end: q.inclusive_end,
    descending: q.descending,
    limit: count(q.limit),
    skip: count(q.skip),
    include_docs: q.include_docs,
    conflicts: q.conflicts,
    skipDesign: q.DesignDocs === 'false',
  };
}

export function registerDbRoutes(app: FastifyInstance, deps: DataDeps): void {
  // PouchDB derives replication ids from the server uuid: it must be stable for an instance.
  app.get('/data/', { schema: schemas.serverInfo }, async (req) => ({
    message: 'welcome to a cozy API',
    couchdb: 'Welcome',
    uuid: createHash('sha256').update(`server-uuid\n${instanceOf(req).id}`).digest('hex').slice(0, 32),
    vendor: { name: 'Hearth' },
  }));

  app.get('/data/_all_doctypes', { schema: schemas.allDoctypes }, async (req) => {
    const instance = instanceOf(req);
    const set = await deps.perms.forRequest(instance, req);
    if (!Permissions.allowsWholeType(set, 'GET', 'io.cozy.doctypes')) throw new Forbidden('listing doctypes needs GET on io.cozy.doctypes');
    return deps.storeOf(instance).listDoctypes();
  });

  app.get<{ Params: { doctype: string } }>('/data/:doctype/', { schema: schemas.dbInfo }, async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'GET');
    const info = await store.info(doctype);
    if (!info) throw new NotFound('Database does not exist.');
    return info;
  });

  app.put<{ Params: { doctype: string } }>('/data/:doctype/', { schema: schemas.createDb }, async (req, reply) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'POST');
    if (!(await store.createDoctype(doctype))) throw new PreconditionFailed('The database could not be created, the file already exists.', 'file_exists');
    return reply.code(201).send({ ok: true });
  });

  app.delete<{ Params: { doctype: string } }>('/data/:doctype/', { schema: schemas.dropDb }, async (req) => {
    const { store, doctype } = await wholeType(deps, req, req.params.doctype, 'DELETE');
    if (!(await store.dropDoctype(doctype))) throw new NotFound('Database does not exist.');
    return { ok: true };
  });

  const allDocs = async (req: { params: { doctype: string }; query: Q; body?: unknown }, fields: unknown) => {
    const access = await wholeType(deps, req as never, req.params.doctype, 'GET');
    const res = await access.store.allDocs(access.doctype, allDocsOptions(req.query, req.body as { keys?: string[] } | undefined));
    await transformRows(deps, access, res.rows, 'doc');
    if (typeof fields === 'string' && fields) {
      const keep = fields.split(',');
      for (const row of res.rows) {
        if (row.doc) row.doc = Object.fromEntries(Object.entries(row.doc).filter(([k]) => k.startsWith('_') || keep.includes(k)));
      }
    }
    return res;
  };
  app.get<{ Params: { doctype: string }; Querystring: Q }>('/data/:doctype/_all_docs', { schema: schemas.allDocs }, (req) => allDocs(req, req.query.Fields));
  app.post<{ Params: { doctype: string }; Querystring: Q; Body: { keys?: string[] } }>('/data/:doctype/_all_docs', { schema: schemas.allDocsByKeys }, (req) => allDocs(req, req.query.Fields));

  // cozy-stack's extension: documents without design docs, paginated like _find (bookmark = last id).
  app.get<{ Params: { doctype: string }; Querystring: { limit?: string; skip?: string; bookmark?: string } }>('/data/:doctype/_normal_docs', { schema: schemas.normalDocs }, async (req) => {
    const access = await wholeType(deps, req, req.params.doctype, 'GET');
    const { store, doctype } = access;
    const limit = count(req.query.limit) ?? 100;
    const skip = count(req.query.skip) ?? 0;
    let startkey: string | undefined;
    const bookmark = req.query.bookmark;
    if (typeof bookmark === 'string' && bookmark) {
      try {
        startkey = Buffer.from(bookmark, 'base64url').toString('utf8') + '\u0000';
      } catch {
        throw new BadRequest('invalid bookmark');
      }
    }
    const res = await store.allDocs(doctype, { include_docs: true, limit, skip: startkey ? 0 : skip, startkey, skipDesign: true });
    const design = await store.allDocs(doctype, { startkey: '_design/', endkey: '_design0', inclusive_end: false });
    const rows = await Promise.all(res.rows.flatMap((r) => (r.doc ? [transformOut(deps, access, r.doc)] : [])));
    const last = rows[rows.length - 1];
    return {
      rows,
      total_rows: res.total_rows - design.rows.length,
      bookmark: last && rows.length === limit ? Buffer.from(String(last._id)).toString('base64url') : '',
    };
  });
}
