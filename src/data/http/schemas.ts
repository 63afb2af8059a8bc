/**
 * The schemas of the /data routes (CouchDB-shaped: errors are {error, reason}, query values refused with
 * `query_parse_error`). CouchDB documents have any fields: request bodies and documents in answers are open
 * objects. The answers that clients read most (a document, _all_docs, _changes, _find, writes) are serialized
 * by their schema with every field of the documents passed through; the others are documented only
 * (`passThrough`: JSON.stringify), since their shapes come straight from the store.
 */
import { content, openObject, params, passThrough, type JsonSchema, type RouteSchema } from '../../common/schemas.js';

const tags = ['data'];
const DOC = 'A CouchDB document: any fields, _id, _rev, _type (the doctype) and, as asked, _revisions, _conflicts, _attachments';
const document = (description = DOC, extra: JsonSchema = {}): JsonSchema => ({
  type: 'object', description, properties: { _id: { type: 'string' }, _rev: { type: 'string' }, _type: { type: 'string' } }, additionalProperties: true, ...extra,
});
const nullableDoc: JsonSchema = { type: ['object', 'null'], additionalProperties: true };

// ---- query values ---------------------------------------------------------------------------------

const flag = (name: string, description: string): JsonSchema => ({ type: 'boolean', description, errorMessage: `${name} must be true or false` });
/** Digits only, as CouchDB (no 1e9, no -1, no 1.5): the route reads it with `count()` of context.ts. */
const count = (name: string, description: string, max?: 1000): JsonSchema => ({
  type: 'string', pattern: max ? '^(?:[0-9]{1,3}|1000)?$' : '^[0-9]{0,16}$', description,
  errorMessage: `${name} must be an integer between 0 and ${max ?? Number.MAX_SAFE_INTEGER}`,
});
const json = (name: string, description: string): JsonSchema => ({
  type: 'string', format: 'json', description, errorMessage: `${name} must be JSON-encoded (for a string: "${name}=%22value%22")`,
});
/** A query string of CouchDB options: values refused as `query_parse_error`, unknown ones let through (clients send many). */
const couchQuery = (properties: Record<string, JsonSchema>): JsonSchema => ({ type: 'object', properties, errorCode: 'query_parse_error' });
const revQ = { type: 'string', description: 'A revision' };
const revQuery = (description: string): JsonSchema => ({ type: 'object', properties: { rev: { ...revQ, description } } });

const readOptions = {
  rev: { ...revQ, description: 'A given revision' }, revs: flag('revs', 'true for the revision history (_revisions)'),
  revs_info: flag('revs_info', 'true for _revs_info'), conflicts: flag('conflicts', 'true for _conflicts'),
  deleted_conflicts: flag('deleted_conflicts', 'true for _deleted_conflicts'), latest: flag('latest', 'true for the latest leaf of rev'),
  attachments: flag('attachments', 'true for inline attachments (base64)'), atts_since: json('atts_since', 'A JSON array of revisions: attachments changed since'),
};

const d = params(['doctype']);
const dd = params(['doctype', 'docid']);
const openBody = (description: string, example?: unknown): JsonSchema => ({
  ...openObject(description), errorMessage: { type: 'the request body must be a JSON object' }, ...(example === undefined ? {} : { example }),
});
const write = (description: string): JsonSchema => ({
  description, type: 'object',
  properties: { ok: { type: 'boolean' }, id: { type: 'string' }, rev: { type: 'string' }, type: { type: 'string' }, data: document('The document as stored') },
});

// ---- documents ------------------------------------------------------------------------------------

export const createDoc: RouteSchema = {
  summary: 'Creates a document (the server picks its id): {ok, id, rev, type, data}', tags, params: d,
  body: {
    ...openBody('The new document (no _id, no _rev)', { fullname: 'Ada Lovelace', email: [{ address: 'ada@example.org' }] }),
    not: { anyOf: [{ required: ['_id'] }, { required: ['_rev'] }], errorMessage: 'a new document must not have _id or _rev: use PUT /data/:doctype/:id to choose the id' },
  },
  response: { 201: write('Created') },
};
export const getDoc: RouteSchema = {
  summary: 'Reads a document (with open_revs: its leaves, as an array)', tags, params: dd,
  querystring: couchQuery({ ...readOptions, open_revs: { type: 'string', description: 'all, or a JSON array of revisions' } }),
  response: { 200: document(DOC, { type: ['object', 'array'], items: openObject('{ok: document} or {missing: rev}') }) },
};
export const putDoc: RouteSchema = {
  summary: 'Creates or updates a document at this id (_rev required to update)', tags, params: dd,
  body: openBody('The document; _rev (the current revision) to update', { _rev: '1-967a00dff5e02add41819138abb3284d', fullname: 'Ada King' }),
  response: { 200: write('Written') },
};
export const deleteDoc: RouteSchema = {
  summary: 'Deletes a document', tags, params: dd,
  querystring: revQuery('Its current revision (or If-Match)'),
  response: { 200: { description: 'Deleted', type: 'object', properties: { ok: { type: 'boolean' }, id: { type: 'string' }, rev: { type: 'string' }, type: { type: 'string' }, deleted: { type: 'boolean' } } } },
};
export const getAttachment: RouteSchema = {
  summary: 'Downloads an attachment of a document', tags, params: params(['doctype', 'docid', 'att']),
  querystring: revQuery('A given revision'),
  response: { 200: content('The attachment, with its content type and digest as ETag', ['application/octet-stream'], { type: 'string', format: 'binary' }) },
};

// ---- doctypes -------------------------------------------------------------------------------------

export const serverInfo: RouteSchema = { summary: 'CouchDB server information (PouchDB asks for it)', tags, response: { 200: passThrough('{couchdb, uuid, vendor}') } };
export const allDoctypes: RouteSchema = { summary: 'The doctypes of the instance the token may read', tags, response: { 200: passThrough('An array of doctypes') } };
export const dbInfo: RouteSchema = { summary: 'Database information of a doctype (doc_count, update_seq)', tags, params: d, response: { 200: passThrough('db_name, doc_count, update_seq…') } };
export const createDb: RouteSchema = { summary: 'Creates the database of a doctype (PouchDB replication)', tags, params: d, response: { 201: passThrough('{ok: true}') } };
export const dropDb: RouteSchema = { summary: 'Drops the database of a doctype', tags, params: d, response: { 200: passThrough('{ok: true}') } };

const allDocsQuery = couchQuery({
  include_docs: flag('include_docs', 'true for the documents'), conflicts: flag('conflicts', 'true for _conflicts'),
  descending: flag('descending', 'true for the reverse order'), inclusive_end: flag('inclusive_end', 'false to leave endkey out'),
  limit: count('limit', 'At most this many rows'), skip: count('skip', 'Rows to skip'),
  key: json('key', 'A JSON id'), keys: json('keys', 'A JSON array of ids'),
  startkey: json('startkey', 'JSON id to start at'), start_key: json('start_key', 'Alias of startkey'),
  endkey: json('endkey', 'JSON id to end at'), end_key: json('end_key', 'Alias of endkey'),
  Fields: { type: 'string', description: 'Comma-separated fields to keep' }, DesignDocs: { type: 'string', description: 'false to leave the design documents out' },
});
const allDocsAnswer: JsonSchema = {
  description: 'The rows, CouchDB-style', type: 'object',
  properties: {
    total_rows: { type: 'number' }, offset: { type: 'number' },
    rows: {
      type: 'array',
      items: {
        type: 'object',
        properties: { id: { type: 'string' }, key: { type: 'string' }, value: { type: 'object', properties: { rev: { type: 'string' } }, additionalProperties: true }, doc: nullableDoc, error: { type: 'string' } },
        additionalProperties: true,
      },
    },
  },
  additionalProperties: true,
};
export const allDocs: RouteSchema = { summary: 'Every document of a doctype, CouchDB-style', tags, params: d, querystring: allDocsQuery, response: { 200: allDocsAnswer } };
export const allDocsByKeys: RouteSchema = {
  summary: 'Documents by ids ({keys: […]}), CouchDB-style', tags, params: d, querystring: allDocsQuery,
  body: { ...openBody('{keys: [ids]}', { keys: ['id1', 'id2'] }), properties: { keys: { type: 'array', maxItems: 10_000, items: { type: 'string' }, errorMessage: 'keys must be an array of at most 10000 ids' } } },
  response: { 200: allDocsAnswer },
};
export const normalDocs: RouteSchema = {
  summary: 'The documents of a doctype without design docs, paginated (cozy-stack)', tags, params: d,
  querystring: couchQuery({ limit: count('limit', 'Page size (at most 1000)', 1000), skip: count('skip', 'Documents to skip'), bookmark: { type: 'string', description: 'The bookmark of the previous page' } }),
  response: { 200: { description: 'A page', type: 'object', properties: { rows: { type: 'array', items: document() }, total_rows: { type: 'number' }, bookmark: { type: 'string' } } } },
};

// ---- Mango ----------------------------------------------------------------------------------------

const mangoQuery = (summary: string, response: JsonSchema): RouteSchema => ({
  summary, tags, params: d,
  body: openBody('A Mango query: selector, fields, sort, limit, skip, bookmark, use_index', { selector: { fullname: { $gt: 'A' } }, sort: ['fullname'], limit: 10 }),
  response: { 200: response },
});
export const find = mangoQuery('Mango query (selector, fields, sort, limit, bookmark)', {
  description: 'The documents (a warning when no index was used)', type: 'object',
  properties: { docs: { type: 'array', items: openObject('A document (or the fields asked)') }, bookmark: { type: 'string' }, warning: { type: 'string' }, limit: { type: 'number' }, next: { type: 'boolean' } },
  additionalProperties: true,
});
export const explain = mangoQuery('Which index a Mango query would use', passThrough('The plan'));
export const createIndex: RouteSchema = {
  summary: 'Creates a Mango index', tags, params: d,
  body: openBody('{index: {fields: [...]}, ddoc, name, partial_filter_selector}', { index: { fields: ['fullname'] } }),
  response: { 200: passThrough('{result: created|exists, id, name}') },
};
export const listIndexes: RouteSchema = { summary: 'Lists the Mango indexes of a doctype', tags, params: d, response: { 200: passThrough('{total_rows, indexes}') } };
export const deleteIndex: RouteSchema = { summary: 'Deletes a Mango index', tags, params: params(['doctype', 'ddoc', 'name']), response: { 200: passThrough('{ok: true}') } };

// ---- changes --------------------------------------------------------------------------------------

const changesQuery = couchQuery({
  since: { type: 'string', description: 'Sequence to start after (or now)' },
  feed: { enum: ['normal', 'longpoll', 'continuous', 'eventsource'], description: 'normal (default), longpoll, continuous or eventsource', errorMessage: 'feed must be normal, longpoll, continuous or eventsource' },
  style: { enum: ['main_only', 'all_docs'], description: 'all_docs for every leaf revision', errorMessage: 'style must be main_only or all_docs' },
  limit: count('limit', 'At most this many changes'), descending: flag('descending', 'true for the newest first'),
  include_docs: flag('include_docs', 'true for the documents'), conflicts: flag('conflicts', 'true for _conflicts'),
  filter: { type: 'string', description: '_doc_ids, _selector or _design' }, doc_ids: json('doc_ids', 'For filter=_doc_ids: a JSON array of ids'),
  timeout: count('timeout', 'Longpoll and continuous: how long to wait, in ms'),
  heartbeat: { type: 'string', description: 'Continuous: a new line every this many ms (true: 60000)' },
});
const changesAnswer: JsonSchema = {
  description: 'The changes (normal feed; the other feeds stream)', type: 'object',
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        properties: { seq: { type: 'string' }, id: { type: 'string' }, changes: { type: 'array', items: { type: 'object', properties: { rev: { type: 'string' } } } }, deleted: { type: 'boolean' }, doc: nullableDoc },
        additionalProperties: true,
      },
    },
    last_seq: { type: 'string' }, pending: { type: 'number' },
  },
  additionalProperties: true,
};
export const changes: RouteSchema = { summary: 'The changes feed (normal, longpoll, continuous or eventsource), CouchDB-style', tags, params: d, querystring: changesQuery, response: { 200: changesAnswer } };
export const changesFiltered: RouteSchema = {
  summary: 'The changes feed with a filter body (doc_ids or selector)', tags, params: d, querystring: changesQuery,
  body: openBody('{doc_ids: [...]} with filter=_doc_ids, {selector: {...}} with filter=_selector', { selector: { type: 'bill' } }),
  response: { 200: changesAnswer },
};

// ---- replication ----------------------------------------------------------------------------------

const L = params(['doctype', 'id']);
const DD = params(['doctype', 'ddoc']);
export const bulkDocs: RouteSchema = {
  summary: 'Writes many documents at once (new_edits=false for replication)', tags, params: d,
  body: {
    ...openBody('{docs: [...], new_edits}', { docs: [{ fullname: 'A' }, { _id: 'x', _rev: '1-abc', _deleted: true }] }), required: ['docs'],
    errorMessage: { type: 'the request body must be a JSON object', required: '_bulk_docs needs a "docs" array' },
    properties: {
      docs: { type: 'array', maxItems: 10_000, items: { type: 'object', errorMessage: 'every document of "docs" must be a JSON object' }, errorMessage: { type: '_bulk_docs needs a "docs" array', maxItems: '_bulk_docs takes at most 10000 documents per request' } },
      new_edits: { type: 'boolean' },
    },
  },
  response: { 201: passThrough('One {ok, id, rev} or {id, error, reason} per document') },
};
export const bulkGet: RouteSchema = {
  summary: 'Reads many documents and revisions at once (replication)', tags, params: d,
  querystring: couchQuery({ revs: flag('revs', 'true for the revision histories'), latest: flag('latest', 'true for the latest leaves'), attachments: flag('attachments', 'true for inline attachments') }),
  body: {
    ...openBody('{docs: [{id, rev}]}', { docs: [{ id: 'x', rev: '2-abc' }] }), required: ['docs'],
    properties: {
      docs: {
        type: 'array', maxItems: 10_000, errorMessage: '_bulk_get needs a "docs" array of at most 10000 items',
        items: { type: 'object', required: ['id'], properties: { id: { type: 'string' } }, errorMessage: 'every _bulk_get item needs a string "id"' },
      },
    },
  },
  response: { 200: passThrough('{results: [{id, docs: [{ok} | {error}]}]}') },
};
export const revsDiff: RouteSchema = {
  summary: 'Which of the given revisions are missing (replication)', tags, params: d,
  body: {
    ...openBody('{id: [revs]}', { x: ['2-abc'] }), maxProperties: 10_000, errorMessage: { type: 'the request body must be a JSON object', maxProperties: '_revs_diff takes at most 10000 ids' },
    additionalProperties: { type: 'array', items: { type: 'string' }, errorMessage: '_revs_diff takes {"<id>": ["<rev>", …]}' },
  },
  response: { 200: passThrough('{id: {missing: [revs]}}') },
};
export const ensureFullCommit: RouteSchema = { summary: 'Flushes to disk (replication checkpoint; always answers ok)', tags, params: d, response: { 201: passThrough('{ok: true}') } };
export const getLocal: RouteSchema = { summary: 'Reads a local document (replication checkpoints)', tags, params: L, response: { 200: passThrough('The local document') } };
export const putLocal: RouteSchema = { summary: 'Writes a local document (replication checkpoints)', tags, params: L, body: openBody('The local document'), response: { 201: passThrough('{ok, id, rev}') } };
export const deleteLocal: RouteSchema = {
  summary: 'Deletes a local document', tags, params: L,
  querystring: revQuery('Its current revision'),
  response: { 200: passThrough('{ok, id, rev}') },
};
export const designDocs: RouteSchema = {
  summary: 'Lists the design documents of a doctype', tags, params: d,
  querystring: couchQuery({ include_docs: flag('include_docs', 'true for the documents') }),
  response: { 200: passThrough('The rows, as _all_docs') },
};
export const getDesign: RouteSchema = { summary: 'Reads a design document', tags, params: DD, querystring: couchQuery(readOptions), response: { 200: passThrough('The design document') } };
export const putDesign: RouteSchema = { summary: 'Writes a design document', tags, params: DD, body: openBody('The design document (views, language…)'), response: { 201: passThrough('{ok, id, rev}') } };
export const deleteDesign: RouteSchema = {
  summary: 'Deletes a design document', tags, params: DD,
  querystring: revQuery('Its current revision'),
  response: { 200: passThrough('{ok, id, rev}') },
};
export const copyDesign: RouteSchema = {
  summary: 'Copies a design document (to the Destination header)', tags, params: DD,
  headers: { type: 'object', properties: { destination: { type: 'string', description: 'The copy\'s id: _design/<name>' } } },
  response: { 201: passThrough('{ok, id, rev}') },
};
export const view: RouteSchema = { summary: 'Queries a view of a design document (not executed yet: 501)', tags, params: params(['doctype', 'ddoc', 'view']), response: { 501: passThrough('Not implemented') } };
export const designInfo: RouteSchema = { summary: 'Information about a design document (404)', tags, params: DD, response: { 404: passThrough('missing') } };
