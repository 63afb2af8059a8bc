/**
 * Field paths: parsing (CouchDB/PouchDB dotted notation with `\.` escapes),
 * the SQL expression reading a field as JSON text, and reading it in JS with
 * the same semantics (used for `fields` projection).
 *
 * Semantics of a path: walk objects by key; a segment that is a canonical
 * non-negative integer also indexes arrays (as CouchDB does). Walking through
 * anything else (a string, a number, null) gives "missing". PouchDB's
 * getFieldFromDoc differs there (it returns a falsy intermediate value, or JS
 * properties such as "length"); CouchDB says missing, and so do we.
 */
import { BadRequest } from '../../common/errors.js';

export const MAX_PATH_SEGMENTS = 32;
export const MAX_FIELD_LENGTH = 1024;

/** pouchdb-selector-core's parseField, byte for byte in behaviour. */
export function parseField(fieldName: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < fieldName.length; i++) {
    const ch = fieldName[i] as string;
    if (i > 0 && fieldName[i - 1] === '\\' && (ch === '$' || ch === '.')) {
      current = current.substring(0, current.length - 1) + ch;
    } else if (ch === '.') {
      fields.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  fields.push(current);
  return fields;
}

/** Parses and validates a field name given by a client. */
export function checkedField(name: string, what = 'field'): string[] {
  if (name.length === 0) throw new BadRequest(`${what} name must not be empty`);
  if (name.length > MAX_FIELD_LENGTH) throw new BadRequest(`${what} name is longer than ${MAX_FIELD_LENGTH} characters`);
  const segs = parseField(name);
  if (segs.length > MAX_PATH_SEGMENTS) throw new BadRequest(`${what} "${name}" has more than ${MAX_PATH_SEGMENTS} segments`);
  return segs;
}

/** Inverse of parseField, for echoing normalised selectors. */
export function joinField(segs: string[]): string {
  return segs.map((s) => s.replace(/\./g, '\\.')).join('.');
}

const INDEX_RE = /^(0|[1-9][0-9]{0,8})$/;
// eslint-disable-next-line no-control-regex
const SAFE_LABEL = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** A SQL string literal; only used for validated field paths, never values. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** JSON with every non-ASCII character escaped: safe inside a SQL literal. */
function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * SQL expression giving the JSON text of the field at `segs` below `base`
 * (an SQL expression of JSON text), or NULL when missing. Deterministic text
 * for a given path, so that expression indexes match query expressions.
 */
export function jsonPathExpr(base: string, segs: string[]): string {
  if (segs.length === 0) return base;
  if (segs.every((s) => SAFE_LABEL.test(s) && !INDEX_RE.test(s))) {
    return `${base} -> ${sqlString('$' + segs.map((s) => `."${s}"`).join(''))}`;
  }
  return `hearth_get(${base}, ${sqlString(asciiJson(segs))})`;
}

/** JSON text of a document field: `_id`/`_rev` are columns, the rest lives in `body`. */
export function docFieldExpr(segs: string[]): string {
  const [head, ...rest] = segs;
  if (head === '_id' || head === '_rev') {
    return rest.length === 0 ? `json_quote(${head === '_id' ? 'id' : 'rev'})` : 'NULL';
  }
  return jsonPathExpr('body', segs);
}

/** The value at `segs` (undefined when missing), with the semantics above. */
export function getPath(root: unknown, segs: readonly string[]): unknown {
  let v: unknown = root;
  for (const s of segs) {
    if (Array.isArray(v)) {
      if (!INDEX_RE.test(s)) return undefined;
      v = v[Number(s)];
    } else if (v !== null && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, s)) {
      v = (v as Record<string, unknown>)[s];
    } else return undefined;
    if (v === undefined) return undefined;
  }
  return v;
}

/** Implementation of the SQL function hearth_get(json, segmentsJson). */
const segCache = new Map<string, string[]>();
export function sqlGet(json: unknown, segsJson: unknown): string | null {
  if (typeof json !== 'string' || typeof segsJson !== 'string') return null;
  let segs = segCache.get(segsJson);
  if (!segs) {
    segs = JSON.parse(segsJson) as string[];
    if (segCache.size > 1000) segCache.clear();
    segCache.set(segsJson, segs);
  }
  const v = getPath(JSON.parse(json), segs);
  return v === undefined ? null : JSON.stringify(v);
}
