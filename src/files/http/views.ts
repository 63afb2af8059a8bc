/**
 * The views of the whole io.cozy.files doctype, as cozy-stack's web/files serves them:
 * POST /files/_find (a Mango query answered in JSON-API, paginated by bookmark), POST
 * /files/_all_docs (several documents by id, in JSON-API), GET /files/_changes (the CouchDB-shaped
 * changes feed, with cozy-stack's fields / include_file_path / skip_deleted / skip_trashed) and
 * GET /files/fsck (the file-system check, one JSON object per line). All four need a whole-type
 * GET right on io.cozy.files: a token limited to some directories gets 403.
 *
 * `internal_vfs_id` (the blob key) never leaves the server and cannot be queried either: a
 * selector, a sort or `fields` naming it is refused (400), so that no answer depends on it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequest, Forbidden, NotFound } from '../../common/errors.js';
import { changesOptions } from '../../data/http/changes.js';
import { bool, int, jsonParam } from '../../data/http/context.js';
import { parseFindRequest } from '../../data/mango/index.js';
import { checkedField, getPath, parseField } from '../../data/mango/path.js';
import { isPlainObject, parseSelector } from '../../data/mango/selector.js';
import type { Cond } from '../../data/mango/ast.js';
import type { Doc } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import { Permissions } from '../../permissions/rules.js';
import { fsck } from '../fsck.js';
import type { Vfs } from '../vfs.js';
import { FILES_DOCTYPE, TRASH_DIR_ID, TRASH_PATH, isDir, joinPath, type FileDoc } from '../types.js';
import { callerOf, type Caller } from './access.js';
import { JSONAPI, resource } from './serialize.js';
import type { FilesDeps } from './deps.js';
import * as S from './schemas.js';

const SECRET = 'internal_vfs_id';
/** cozy-stack's cap on the limit of /files/_changes. */
const CHANGES_MAX = 10_000;
/** Ids of one POST /files/_all_docs, at most (as /data's _all_docs and _doc_ids). */
const KEYS_MAX = 10_000;
/** cozy-stack's count when the page is full: it does not know how many follow. */
const UNKNOWN_COUNT = 2 ** 31 - 2;
/** Fields that every _find resource needs, whatever `fields` asks for (as cozy-stack adds them). */
const FIND_MANDATORY = ['_id', '_rev', 'type', 'class', 'size', 'trashed'];
/** The query parameters of /files/_changes: cozy-stack refuses any other (and only feed=normal is served). */
const CHANGES_PARAMS = new Set(['since', 'limit', 'include_docs', 'fields', 'include_file_path', 'skip_deleted', 'skip_trashed', 'feed']);
/** Design documents never show in the feed. */
const NOT_DESIGN = { _id: { $not: { $regex: '^_design/' } } };

type Q = Record<string, unknown>;

/** The caller, if it may read the whole io.cozy.files doctype (the file system initialised); 403 otherwise. */
async function wholeFiles(deps: FilesDeps, req: FastifyRequest): Promise<Caller> {
  const c = await callerOf(deps.perms, req);
  if (!Permissions.allowsWholeType(c.set, 'GET', FILES_DOCTYPE)) {
    throw new Forbidden(`this token cannot GET the whole doctype ${FILES_DOCTYPE} (a right limited to some directories or files is not enough)`);
  }
  await deps.vfs.fs.init(c.instance);
  return c;
}

const secretField = (field: string): boolean => parseField(field)[0] === SECRET;

function refuseSecret(where: string): never {
  throw new BadRequest(`${SECRET} cannot be used in ${where}: it is internal to the server`);
}

/** Does the selector name internal_vfs_id at the document's level (anywhere in $and/$or/$not)? */
function namesSecret(c: Cond): boolean {
  switch (c.k) {
    case 'and':
    case 'or':
      return c.c.some(namesSecret);
    case 'not':
      return namesSecret(c.c);
    default:
      // inside $elemMatch & co., paths are relative to the array element: only the field itself counts
      return c.path[0] === SECRET;
  }
}

/** Full paths of files (their directory's path, looked up once per directory) and directories. */
class Pather {
  private readonly dirs = new Map<string, string | null>();

  constructor(private readonly vfs: Vfs, private readonly instance: Instance) {}

  private async dirPath(id: string): Promise<string | null> {
    if (!this.dirs.has(id)) {
      let path: string | null = null;
      try {
        const dir = await this.vfs.fs.stat(this.instance, id);
        if (isDir(dir)) path = String(dir.path);
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
      }
      this.dirs.set(id, path);
    }
    return this.dirs.get(id) ?? null;
  }

  /** Null when it cannot be known (the parent is gone, or the document lacks its fields). */
  async of(doc: Doc): Promise<string | null> {
    if (isDir(doc)) return typeof doc.path === 'string' ? doc.path : null;
    if (typeof doc.dir_id !== 'string' || typeof doc.name !== 'string') return null;
    const dir = await this.dirPath(doc.dir_id);
    return dir === null ? null : joinPath(dir, doc.name);
  }
}

/** Only `fields` of `doc` (dotted paths allowed), as CouchDB's projection. */
function project(doc: Doc, fields: string[]): Doc {
  const out: Doc = {};
  for (const f of fields) {
    const segs = parseField(f);
    const v = getPath(doc, segs);
    if (v === undefined) continue;
    let o = out;
    for (const s of segs.slice(0, -1)) {
      const next = o[s];
      o = (next !== null && typeof next === 'object' && !Array.isArray(next) ? next : (o[s] = {})) as Doc;
    }
    o[segs[segs.length - 1] as string] = v as Doc[string];
  }
  return out;
}

/** The resource of `doc` (its secret fields removed) with the thumbnail links of `raw` (resource() never puts their state in the attributes). */
function withThumbLinks(doc: Doc, raw: Doc): ReturnType<typeof resource> {
  return resource((raw.internal_thumbnails === undefined ? doc : { ...doc, internal_thumbnails: raw.internal_thumbnails }) as FileDoc);
}

function withoutSecret(doc: Doc): Doc {
  const { [SECRET]: _blob, internal_thumbnails: _thumbs, ...rest } = doc;
  return rest;
}

/** The _find body with cozy-stack's query-string overrides: page[limit], page[skip], page[cursor] (or cursor). */
function findBody(req: FastifyRequest): unknown {
  const body = req.body;
  if (!isPlainObject(body)) return body;
  const q = (req.query ?? {}) as Q;
  const out: Record<string, unknown> = { ...body };
  const limit = int(q['page[limit]'], 'page[limit]');
  if (limit !== undefined) out.limit = limit;
  const skip = int(q['page[skip]'], 'page[skip]');
  if (skip !== undefined) out.skip = skip;
  const cursor = q['page[cursor]'] || q.cursor;
  if (typeof cursor === 'string' && cursor) out.bookmark = cursor;
  return out;
}

/** `skip_deleted` and friends: present means true, as in cozy-stack, unless it says false. */
const flag = (v: unknown): boolean => v !== undefined && (v === '' || bool(v) === true);

export function registerViewsRoutes(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs } = deps;

  scope.post('/files/_find', { schema: S.find }, async (req, reply) => {
    const c = await wholeFiles(deps, req);
    const request = parseFindRequest(findBody(req));
    if (namesSecret(parseSelector(request.selector))) refuseSecret('a selector');
    if (request.sort?.some((s) => secretField(s.field))) refuseSecret('a sort');
    let includePath = true;
    if (request.fields) {
      if (request.fields.some(secretField)) refuseSecret('fields');
      // `path` is stored on directories only: for files it is computed, from their dir_id
      includePath = request.fields.includes('path');
      request.fields = [...new Set([...FIND_MANDATORY, ...(includePath ? ['dir_id'] : []), ...request.fields])];
    }
    const res = await vfs.fs.store(c.instance).find(FILES_DOCTYPE, request);
    const pather = new Pather(vfs, c.instance);
    const data = [];
    for (const raw of res.docs as Doc[]) {
      const doc = withoutSecret(raw);
      if (includePath && !isDir(doc)) {
        const path = await pather.of(doc);
        if (path !== null) doc.path = path;
      }
      data.push(withThumbLinks(doc, raw));
    }
    const full = request.limit > 0 && res.docs.length >= request.limit;
    const links: Record<string, string> = {};
    if (full && res.bookmark && res.bookmark !== 'nil') links.next = `/files/_find?page[cursor]=${encodeURIComponent(res.bookmark)}`;
    const meta: Record<string, unknown> = { count: full ? UNKNOWN_COUNT : request.skip + res.docs.length };
    if (res.execution_stats) meta.execution_stats = res.execution_stats;
    if (res.warning) meta.warning = res.warning;
    return reply.type(JSONAPI).send({ data, meta, links });
  });

  scope.post('/files/_all_docs', { schema: S.allDocs }, async (req, reply) => {
    const c = await wholeFiles(deps, req);
    const q = (req.query ?? {}) as Q;
    const body = req.body === undefined ? {} : req.body;
    if (!isPlainObject(body)) throw new BadRequest('the request body must be a JSON object such as {"keys": ["id1", "id2"]}');
    const keys = body.keys ?? jsonParam(q.keys, 'keys');
    if (keys !== undefined && (!Array.isArray(keys) || keys.length > KEYS_MAX || !keys.every((k) => typeof k === 'string'))) {
      throw new BadRequest(`keys must be an array of at most ${KEYS_MAX} ids (strings)`);
    }
    // cozy-stack always answers with the documents; include_docs=false gives only their ids and revisions
    const includeDocs = bool(body.include_docs ?? q.include_docs) ?? true;
    const limit = int(body.limit ?? q.limit, 'limit');
    const skip = int(body.skip ?? q.skip, 'skip');
    const res = await vfs.fs.store(c.instance).allDocs(FILES_DOCTYPE, {
      include_docs: true, skipDesign: true,
      ...(keys === undefined ? {} : { keys: keys as string[] }), ...(limit === undefined ? {} : { limit }), ...(skip === undefined ? {} : { skip }),
    });
    const pather = new Pather(vfs, c.instance);
    const data = [];
    for (const row of res.rows) {
      // missing and deleted ids are left out, and so is the trash (as cozy-stack does)
      if (!row.doc || row.doc._deleted || row.id === TRASH_DIR_ID || row.id?.startsWith('_design/')) continue;
      if (!includeDocs) {
        data.push({ type: FILES_DOCTYPE, id: row.doc._id, meta: { rev: row.doc._rev } });
        continue;
      }
      const doc = withoutSecret(row.doc);
      if (!isDir(doc)) {
        const path = await pather.of(doc);
        if (path !== null) doc.path = path;
      }
      data.push(withThumbLinks(doc, row.doc));
    }
    return reply.type(JSONAPI).send({ data, meta: { count: data.length } });
  });

  scope.get('/files/_changes', { schema: S.changes }, async (req, reply) => {
    const c = await wholeFiles(deps, req);
    const q = (req.query ?? {}) as Q;
    for (const [k, v] of Object.entries(q)) {
      if (!CHANGES_PARAMS.has(k)) throw new BadRequest(`Unsupported query parameter '${k.slice(0, 60)}'`, 'query_parse_error');
      if (Array.isArray(v)) throw new BadRequest(`the parameter ${k} is given ${v.length} times: give it once`, 'query_parse_error');
    }
    if (q.feed !== undefined && q.feed !== 'normal') throw new BadRequest('only feed=normal is supported on /files/_changes', 'query_parse_error');
    const opts = changesOptions({ since: q.since === undefined ? undefined : String(q.since), limit: q.limit === undefined ? undefined : String(int(q.limit, 'limit')), include_docs: bool(q.include_docs) }, undefined);
    if (opts.limit !== undefined) opts.limit = Math.min(opts.limit, CHANGES_MAX);
    const includePath = flag(q.include_file_path);
    const skipDeleted = flag(q.skip_deleted);
    const skipTrashed = flag(q.skip_trashed);
    if (!opts.include_docs && (includePath || skipTrashed)) throw new BadRequest('Invalid options: include_docs should be set to true', 'query_parse_error');
    let fields: string[] | undefined;
    if (typeof q.fields === 'string' && q.fields !== '') {
      fields = q.fields.split(',').map((f) => f.trim()).filter(Boolean);
      for (const f of fields) checkedField(f);
      if (fields.some(secretField)) refuseSecret('fields');
      if (includePath || skipTrashed) fields.push('type', 'name', 'dir_id');
      if (includePath) fields.push('path');
      fields = [...new Set(fields)];
    }
    // under the VFS lock: no move is half done while the feed is read (as cozy-stack)
    const res = await vfs.fs.lock(c.instance, () => vfs.fs.store(c.instance).changes(FILES_DOCTYPE, { ...opts, selector: NOT_DESIGN }));
    const pather = new Pather(vfs, c.instance);
    const results = [];
    for (const row of res.results) {
      if (skipDeleted && row.deleted) continue;
      if (row.doc) {
        let doc = withoutSecret(row.doc);
        if (skipTrashed && !row.deleted) {
          if (doc.type === 'file' && doc.trashed === true) continue;
          if (isDir(doc) && typeof doc.path === 'string' && (doc.path === TRASH_PATH || doc.path.startsWith(`${TRASH_PATH}/`))) continue;
        }
        if (includePath && !row.deleted && !isDir(doc)) {
          const path = await pather.of(doc);
          if (path !== null) doc.path = path;
        }
        if (fields && !row.deleted) doc = project(doc, fields);
        row.doc = doc;
      }
      results.push(row);
    }
    return reply.type('application/json').send({ results, last_seq: res.last_seq, pending: res.pending });
  });

  // cozy-stack's admin fsck format: one JSON object per line, one line per problem (none: an empty body)
  scope.get('/files/fsck', { schema: S.fsck }, async (req, reply) => {
    const c = await wholeFiles(deps, req);
    const log = await fsck(vfs.fs, c.instance);
    // an orphan blob is shown by its size only: blob keys stay inside the server
    const lines = log.map((e) => JSON.stringify(e.blob ? { ...e, blob: { size: e.blob.size, removed: e.blob.removed } } : e) + '\n');
    return reply.type('application/x-ndjson').send(lines.join(''));
  });
}
