/**
 * Translation of a normalised selector (src/data/mango/ast.ts) to a PostgreSQL boolean expression over the docs
 * table (id, rev, deleted, seq, body jsonb, tree jsonb): the port of src/data/mango/sql.ts, with the same semantics
 * per operator (pouchdb-selector-core 9, type-bracketed comparisons on collation keys: functions.ts `hearth_fn.ck`).
 *
 * Values never enter the SQL text: they are bound as `$n` parameters (collation keys as bytea), except in "inline"
 * mode, for partial index predicates (which take no parameters), where keys are bytea literals '\x…' (hex: keys,
 * not user text), patterns escaped string literals and integers validated JS integers.
 * Field paths are spliced as escaped string literals of parsed segments, always written the same way, so that the
 * expressions of a query are those of the index.
 *
 * Three-valued logic: every atomic test is NULL only when it means false; NOT is `NOT COALESCE(x, false)`.
 * PostgreSQL does not promise to evaluate AND left to right: a function that fails on the wrong JSON type
 * (jsonb_array_length, jsonb_array_elements, jsonb_each) is only reached through a CASE on the type.
 *
 * JSON objects: jsonb keeps an object's keys in its own order (shorter keys first, then bytewise), not the order
 * written; keys of operand values are put in that order (`jsonbOrder`) so that an object compares equal to itself.
 */
import { BadRequest } from '../../../common/errors.js';
import type { Cond } from '../../mango/ast.js';
import { encodeKey, prefixRange } from '../../mango/collate-key.js';
import { sqlString } from '../../mango/path.js';
import { compileRegex } from '../../mango/selector.js';
import { comparisonSql } from '../../mango/sql.js';
import { escapeNul } from '../nul.js';
import { INDEX_KEY_BYTES } from './functions.js';
import { toPgRegex } from './regex.js';

/** A JSON value with its objects' keys in jsonb's order (the order PostgreSQL gives them back in). */
export function jsonbOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(jsonbOrder);
  if (v === null || typeof v !== 'object') return v;
  const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
  keys.sort((a, b) => Buffer.byteLength(a) - Buffer.byteLength(b) || Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return Object.fromEntries(keys.map((k) => [k, jsonbOrder((v as Record<string, unknown>)[k])]));
}

/** The collation key of an operand, as `hearth_fn.ck` computes it on the stored value (U+0000 escaped: nul.ts). */
export const pgKey = (v: unknown): Buffer => encodeKey(jsonbOrder(escapeNul(v)));

export class PgSqlBuilder {
  readonly params: unknown[] = [];
  /** True once a subquery was emitted (not allowed in a partial index predicate). */
  subquery = false;
  private alias = 0;
  constructor(
    readonly firstParam = 1,
    readonly inline = false,
  ) {}

  /** A bound value: a key (bytea), a list of keys (bytea[]), a string or an integer. */
  param(v: Buffer | Buffer[] | string | number): string {
    if (!this.inline) {
      this.params.push(v);
      const p = `$${this.firstParam + this.params.length - 1}`;
      return Array.isArray(v) ? `${p}::bytea[]` : typeof v === 'string' ? `${p}::text` : typeof v === 'number' ? `${p}::bigint` : `${p}::bytea`;
    }
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new Error('only integers can be inlined');
      return `${v}::bigint`;
    }
    if (typeof v === 'string') return `${sqlString(v)}::text`;
    if (Array.isArray(v)) return `ARRAY[${v.map((k) => `'\\x${k.toString('hex')}'::bytea`).join(', ')}]::bytea[]`;
    return `'\\x${v.toString('hex')}'::bytea`;
  }
  nextAlias(): string {
    this.subquery = true;
    return `je${++this.alias}`;
  }
}

const INDEX_RE = /^(0|[1-9][0-9]{0,8})$/;
/** Segments that `#>` would read as an array index although CouchDB does not ("01", "-1", " 2"…). */
const INT_LIKE = /^\s*[+-]?[0-9]+$/;

const textArray = (segs: string[]): string => `ARRAY[${segs.map(sqlString).join(', ')}]::text[]`;

/** SQL expression (jsonb, NULL when missing) of the field at `segs` below the jsonb expression `base`. */
export function jsonPathExpr(base: string, stated: string[], objectBase = false): string {
  if (stated.length === 0) return base;
  const segs = stated.map((seg) => escapeNul(seg) as string); // member names are stored escaped too
  if (segs.some((s) => INT_LIKE.test(s) && !INDEX_RE.test(s))) return `hearth_fn.get(${base}, ${textArray(segs)})`;
  if (segs.length === 1 && (objectBase || !INDEX_RE.test(segs[0] as string))) return `(${base} -> ${sqlString(segs[0] as string)})`;
  return `(${base} #> ${textArray(segs)})`;
}

/** jsonb of a document field: `_id`/`_rev` are columns, the rest lives in `body` (an object). */
export function docFieldExpr(segs: string[]): string {
  const [head, ...rest] = segs;
  if (head === '_id' || head === '_rev') return rest.length === 0 ? `to_jsonb(${head === '_id' ? 'id' : 'rev'})` : 'NULL::jsonb';
  return jsonPathExpr('body', segs, true);
}

export const ck = (expr: string): string => `hearth_fn.ck(${expr})`;
/** What an index holds of a value (functions.ts `hearth_fn.ckb`): its key, cut to INDEX_KEY_BYTES. */
export const ckb = (expr: string): string => `hearth_fn.ckb(${expr})`;

const LOOSE: Record<string, string> = { $eq: '$eq', $gt: '$gte', $gte: '$gte', $lt: '$lte', $lte: '$lte' };

/**
 * A comparison of a field with a value, on the keys the indexes hold: exact on `ckb` for a key within the bound; for
 * a longer one, bounded on `ckb` by its cut (loosely: values sharing the cut compare equal there), then checked on `ck`.
 */
function comparison(b: PgSqlBuilder, op: string, f: string, v: unknown): string | null {
  const key = LOOSE[op] !== undefined || op === '$ne' ? pgKey(v) : null;
  if (key === null || key.length <= INDEX_KEY_BYTES) return comparisonSql(op, f, v, ckb, () => b.param(key as Buffer));
  const full = comparisonSql(op, f, v, ck, () => b.param(key));
  const loose = LOOSE[op];
  return loose ? `(${comparisonSql(loose, f, v, ckb, () => b.param(key.subarray(0, INDEX_KEY_BYTES)))} AND ${full})` : full;
}

/** The root of relative paths: the document, or a jsonb expression (an array element, an object key). */
type Root = { doc: true } | { doc: false; expr: string };

function fieldExpr(root: Root, path: string[]): string {
  return root.doc ? docFieldExpr(path) : jsonPathExpr(root.expr, path);
}

const typed = (f: string, type: string, then: string): string => `CASE WHEN jsonb_typeof(${f}) = '${type}' THEN ${then} ELSE false END`;

function keyList(values: unknown[]): Buffer[] {
  const seen = new Set<string>();
  return values.map(pgKey).filter((k) => {
    const hex = k.toString('hex');
    return !seen.has(hex) && seen.add(hex);
  });
}

/** PouchDB's arrayContainsValue: an array field matches by its elements, others by value. */
function contains(b: PgSqlBuilder, f: string, values: unknown[]): string {
  const keys = keyList(values);
  if (keys.length === 0) return 'false';
  const a = b.nextAlias();
  return `CASE WHEN jsonb_typeof(${f}) = 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(${f}) AS ${a}(v) WHERE ${ck(`${a}.v`)} = ANY(${b.param(keys)})) ELSE ${ck(f)} = ANY(${b.param(keys)}) END`;
}

const TYPES: Record<string, string> = { null: 'null', boolean: 'boolean', number: 'number', string: 'string', array: 'array', object: 'object' };

function compileOp(b: PgSqlBuilder, root: Root, c: Extract<Cond, { k: 'op' }>): string {
  const f = fieldExpr(root, c.path);
  const v = c.v;
  const cmp = comparison(b, c.op, f, v);
  if (cmp !== null) return cmp;
  switch (c.op) {
    case '$type':
      return `jsonb_typeof(${f}) = '${TYPES[v as string] ?? 'none'}'`;
    case '$in':
      return `(jsonb_typeof(${f}) <> 'null' AND ${contains(b, f, v as unknown[])})`;
    case '$nin':
      return `(jsonb_typeof(${f}) <> 'null' AND NOT (${contains(b, f, v as unknown[])}))`;
    case '$all': {
      const parts = keyList(v as unknown[]).map((k) => {
        const a = b.nextAlias();
        return `EXISTS (SELECT 1 FROM jsonb_array_elements(${f}) AS ${a}(v) WHERE ${ck(`${a}.v`)} = ${b.param(k)})`;
      });
      return typed(f, 'array', parts.length ? `(${parts.join(' AND ')})` : 'true');
    }
    case '$size':
      return typed(f, 'array', `jsonb_array_length(${f}) = ${b.param(v as number)}`);
    case '$mod': {
      const [d, r] = v as [number, number];
      return `hearth_fn.mod(${f}, ${b.param(d)}, ${b.param(r)})`;
    }
    case '$regex': {
      compileRegex(v as string); // RE2 validates it (400) whatever the engine
      const are = toPgRegex(v as string);
      // find.ts keeps such conditions out of the SQL and filters them with RE2 (needsJs); the changes feed cannot
      if (are === null) throw new BadRequest(`$regex ${JSON.stringify(v)} uses RE2 syntax that PostgreSQL cannot evaluate alike: not supported in a changes selector`);
      return typed(f, 'string', `(${f} #>> '{}') ~ ${b.param(are)}`);
    }
    case '$beginsWith': {
      const [lo, hi] = prefixRange(escapeNul(v) as string);
      return `(${keyBound(b, f, '>=', lo)} AND ${keyBound(b, f, '<', hi)})`;
    }
  }
  throw new Error(`operator ${c.op} has no SQL`); // comparisons were handled above
}

/** `ck(f) op key` through `ckb` (as `comparison`). */
function keyBound(b: PgSqlBuilder, f: string, op: '>=' | '<', key: Buffer): string {
  if (key.length <= INDEX_KEY_BYTES) return `${ckb(f)} ${op} ${b.param(key)}`;
  return `(${ckb(f)} ${op === '<' ? '<=' : op} ${b.param(key.subarray(0, INDEX_KEY_BYTES))} AND ${ck(f)} ${op} ${b.param(key)})`;
}

function compileCond(b: PgSqlBuilder, root: Root, c: Cond): string {
  switch (c.k) {
    case 'and':
      return c.c.length === 0 ? 'true' : c.c.length === 1 ? compileCond(b, root, c.c[0] as Cond) : `(${c.c.map((x) => compileCond(b, root, x)).join(' AND ')})`;
    case 'or':
      return c.c.length === 0 ? 'false' : `(${c.c.map((x) => compileCond(b, root, x)).join(' OR ')})`;
    case 'not':
      return `NOT COALESCE(${compileCond(b, root, c.c)}, false)`;
    case 'op':
      return compileOp(b, root, c);
    case 'sub': {
      const f = fieldExpr(root, c.path);
      const a = b.nextAlias();
      if (c.op === '$keyMapMatch') {
        const inner = compileCond(b, { doc: false, expr: `to_jsonb(${a}.k)` }, c.c);
        return typed(f, 'object', `EXISTS (SELECT 1 FROM jsonb_object_keys(${f}) AS ${a}(k) WHERE ${inner})`);
      }
      const inner = compileCond(b, { doc: false, expr: `${a}.v` }, c.c);
      if (c.op === '$elemMatch') return typed(f, 'array', `EXISTS (SELECT 1 FROM jsonb_array_elements(${f}) AS ${a}(v) WHERE ${inner})`);
      return typed(f, 'array', `jsonb_array_length(${f}) > 0 AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(${f}) AS ${a}(v) WHERE NOT COALESCE(${inner}, false))`);
    }
  }
}

/** Compiles a normalised selector against the docs table. */
export function compileCondition(c: Cond, b: PgSqlBuilder): string {
  return compileCond(b, { doc: true }, c);
}

/** Does the condition hold a `$regex` that only RE2 in JS can evaluate? */
export function needsJs(c: Cond): boolean {
  switch (c.k) {
    case 'and':
    case 'or':
      return c.c.some(needsJs);
    case 'not':
    case 'sub':
      return needsJs(c.c);
    case 'op':
      return c.op === '$regex' && toPgRegex(c.v as string) === null;
  }
}
