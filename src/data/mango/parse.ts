/**
 * Validation of _find and _index request bodies (CouchDB shapes, cozy-stack limits).
 */
import { BadRequest } from '../../common/errors.js';
import { checkedField } from './path.js';
import { isPlainObject, parseSelector } from './selector.js';
import type { FindRequest, IndexRequest, SortField } from './types.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** Limits above MAX_LIMIT are clamped (cozy-stack); above this they are refused as absurd. */
export const ABSURD_LIMIT = 1_000_000;
export const MAX_SKIP = 1_000_000;
export const MAX_FIELDS = 1000;
export const MAX_SORT_FIELDS = 32;

const FIND_KEYS = new Set(['selector', 'fields', 'sort', 'limit', 'skip', 'bookmark', 'use_index', 'execution_stats', 'conflicts', 'r', 'stable', 'update', 'stale']);

function parseSortItem(item: unknown, what: string): SortField {
  if (typeof item === 'string') {
    checkedField(item, `${what} field`);
    return { field: item, dir: 'asc' };
  }
  if (isPlainObject(item)) {
    const entries = Object.entries(item);
    if (entries.length === 1) {
      const [field, dir] = entries[0] as [string, unknown];
      if (dir !== 'asc' && dir !== 'desc') throw new BadRequest(`${what} direction for "${field}" must be "asc" or "desc"`);
      checkedField(field, `${what} field`);
      return { field, dir };
    }
  }
  throw new BadRequest(`${what} must be an array of field names or {"field": "asc"|"desc"} objects`);
}

function parseSort(v: unknown, what: string): SortField[] {
  if (!Array.isArray(v)) throw new BadRequest(`${what} must be an array of field names or {"field": "asc"|"desc"} objects`);
  if (v.length > MAX_SORT_FIELDS) throw new BadRequest(`${what} has more than ${MAX_SORT_FIELDS} fields`);
  return v.map((x) => parseSortItem(x, what));
}

function intIn(v: unknown, name: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new BadRequest(name === 'limit' ? `limit must be an integer between 0 and ${MAX_LIMIT} (values up to ${ABSURD_LIMIT} are clamped to ${MAX_LIMIT})` : `${name} must be an integer between 0 and ${max}`);
  }
  return v;
}

function bool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') throw new BadRequest(`${name} must be true or false`);
  return v;
}

export function parseFindRequest(body: unknown): FindRequest {
  if (!isPlainObject(body)) throw new BadRequest('the request body must be a JSON object');
  for (const k of Object.keys(body)) if (!FIND_KEYS.has(k)) throw new BadRequest(`invalid key "${k}" for a _find request`);
  if (!('selector' in body)) throw new BadRequest('selector is required');
  parseSelector(body.selector);
  const req: FindRequest = {
    selector: body.selector as Record<string, unknown>,
    limit: body.limit === undefined ? DEFAULT_LIMIT : Math.min(intIn(body.limit, 'limit', ABSURD_LIMIT), MAX_LIMIT),
    skip: body.skip === undefined ? 0 : intIn(body.skip, 'skip', MAX_SKIP),
  };
  if (body.fields !== undefined) {
    if (!Array.isArray(body.fields) || body.fields.some((f) => typeof f !== 'string')) throw new BadRequest('fields must be an array of field names');
    if (body.fields.length > MAX_FIELDS) throw new BadRequest(`fields has more than ${MAX_FIELDS} entries`);
    for (const f of body.fields as string[]) checkedField(f);
    req.fields = body.fields as string[];
  }
  if (body.sort !== undefined) req.sort = parseSort(body.sort, 'sort');
  if (body.bookmark !== undefined && body.bookmark !== null) {
    if (typeof body.bookmark !== 'string' || body.bookmark.length > 100_000) throw new BadRequest('bookmark must be a string');
    if (body.bookmark !== 'nil' && body.bookmark !== '') req.bookmark = body.bookmark;
  }
  const ui = body.use_index;
  if (ui !== undefined) {
    if (typeof ui === 'string') {
      if (ui !== '') req.use_index = ui;
    } else if (Array.isArray(ui) && ui.length <= 2 && ui.every((x) => typeof x === 'string')) {
      if (ui.length === 1) req.use_index = ui[0] as string;
      else if (ui.length === 2) req.use_index = [ui[0] as string, ui[1] as string];
    } else throw new BadRequest('use_index must be "ddoc" or ["ddoc", "name"]');
  }
  if (body.execution_stats !== undefined) req.execution_stats = bool(body.execution_stats, 'execution_stats');
  if (body.conflicts !== undefined) req.conflicts = bool(body.conflicts, 'conflicts');
  // Accepted for compatibility, without effect on a single node.
  if (body.r !== undefined && !(typeof body.r === 'number' && Number.isInteger(body.r) && body.r >= 1)) throw new BadRequest('r must be a positive integer');
  if (body.stable !== undefined) bool(body.stable, 'stable');
  if (body.update !== undefined && typeof body.update !== 'boolean' && body.update !== 'lazy') throw new BadRequest('update must be true or false');
  if (body.stale !== undefined && body.stale !== 'ok' && body.stale !== false) throw new BadRequest('stale must be "ok"');
  return req;
}

const INDEX_KEYS = new Set(['index', 'ddoc', 'name', 'type', 'partitioned']);

export function parseIndexRequest(body: unknown): IndexRequest {
  if (!isPlainObject(body)) throw new BadRequest('the request body must be a JSON object');
  for (const k of Object.keys(body)) if (!INDEX_KEYS.has(k)) throw new BadRequest(`invalid key "${k}" for an index request`);
  if (body.type !== undefined && body.type !== 'json') throw new BadRequest(`unsupported index type ${JSON.stringify(body.type)}: only "json" indexes are supported`);
  if (body.partitioned !== undefined && body.partitioned !== false) throw new BadRequest('partitioned indexes are not supported');
  const index = body.index;
  if (!isPlainObject(index)) throw new BadRequest('index must be an object with a "fields" array');
  for (const k of Object.keys(index)) {
    if (k !== 'fields' && k !== 'partial_filter_selector' && k !== 'selector') throw new BadRequest(`invalid key "${k}" in index`);
  }
  const fields = parseSort(index.fields, 'index.fields');
  if (fields.length === 0) throw new BadRequest('index.fields must not be empty');
  const req: IndexRequest = { fields };
  const pfs = index.partial_filter_selector ?? index.selector;
  if (pfs !== undefined) {
    parseSelector(pfs, 'partial_filter_selector');
    req.partial_filter_selector = pfs as Record<string, unknown>;
  }
  for (const k of ['ddoc', 'name'] as const) {
    const v = body[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '' || v.length > 256) throw new BadRequest(`${k} must be a non-empty string`);
    if (k === 'ddoc' && (v === '_design/' || (v.startsWith('_') && !v.startsWith('_design/')))) throw new BadRequest('ddoc must be a design document name');
    req[k] = v;
  }
  return req;
}
