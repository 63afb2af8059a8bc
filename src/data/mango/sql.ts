/**
 * Translation of a normalised selector to a parameterised SQLite boolean
 * expression over the document table (id, rev, deleted, seq, body, tree), and
 * the SQL functions it relies on.
 *
 * Values never enter the SQL text: they are bound as collation-key BLOBs
 * (collate-key.ts), except in "inline" mode, used only for partial index
 * WHERE clauses (which cannot take parameters), where keys are written as hex
 * BLOB literals X'…' and the few integers are validated JS integers.
 * Field paths are spliced as escaped string literals built from parsed
 * segments (path.ts), so that query expressions match index expressions.
 *
 * Three-valued logic: every atomic test is NULL only when it means false, so
 * AND/OR are safe and NOT is written `NOT IFNULL(x, 0)`.
 * Semantics per operator follow pouchdb-selector-core 9 (see the tests).
 */
import type { Database } from 'better-sqlite3';
import type { Cond } from './ast.js';
import { encodeKey, keyOfJson, prefixRange } from './collate-key.js';
import { docFieldExpr, jsonPathExpr, sqlGet } from './path.js';
import { compileRegex } from './selector.js';

export interface Compiled {
  sql: string;
  params: unknown[];
}

export class SqlBuilder {
  readonly params: unknown[] = [];
  /** True once a subquery was emitted (not allowed in a partial index WHERE). */
  subquery = false;
  private alias = 0;
  constructor(readonly inline = false) {}

  /** A bound value: a key BLOB, a string or an integer. */
  param(v: Buffer | string | number): string {
    if (!this.inline) {
      this.params.push(v);
      return '?';
    }
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new Error('only integers can be inlined');
      return String(v);
    }
    if (typeof v === 'string') return `CAST(X'${Buffer.from(v, 'utf8').toString('hex')}' AS TEXT)`;
    return `X'${v.toString('hex')}'`;
  }
  nextAlias(): string {
    this.subquery = true;
    return `je${++this.alias}`;
  }
}

/** The root of relative paths: the document, or an SQL expression of JSON text. */
type Root = { doc: true } | { doc: false; expr: string };

function fieldExpr(root: Root, path: string[]): string {
  return root.doc ? docFieldExpr(path) : jsonPathExpr(root.expr, path);
}

export const ck = (expr: string): string => `hearth_ck(${expr})`;

/**
 * JSON text of the current json_each element of `f`. Booleans come back as 0/1
 * in `value`, and strings decoded (lone surrogates lost), so those are re-read
 * from the array by path, which keeps the escapes.
 */
function elementJson(alias: string, f: string): string {
  return `CASE ${alias}.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'text' THEN ${f} -> ${alias}.fullkey ELSE json_quote(${alias}.value) END`;
}

function keys(b: SqlBuilder, values: unknown[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const v of values) {
    const k = encodeKey(v);
    const hex = k.toString('hex');
    if (seen.has(hex)) continue;
    seen.add(hex);
    out.push(b.param(k));
  }
  return out.join(', ');
}

/** PouchDB's arrayContainsValue: an array field matches by its elements, others by value. */
function contains(b: SqlBuilder, f: string, values: unknown[]): string {
  const a = b.nextAlias();
  const inArray = `EXISTS (SELECT 1 FROM json_each(${f}) AS ${a} WHERE ${ck(elementJson(a, f))} IN (${keys(b, values)}))`;
  return `CASE WHEN json_type(${f}) = 'array' THEN ${inArray} ELSE ${ck(f)} IN (${keys(b, values)}) END`;
}

/**
 * The comparisons and $exists, the same SQL in every engine's dialect: `ck(expr)` is the collation key of a field
 * expression, `key(v)` the bound key of an operand; null when `op` is not one of them.
 */
export function comparisonSql(op: string, f: string, v: unknown, ck: (expr: string) => string, key: (v: unknown) => string): string | null {
  const isNull = v === null || (typeof v === 'number' && !Number.isFinite(v));
  switch (op) {
    case '$eq':
      return isNull ? `(${f} IS NOT NULL AND ${ck(f)} = ${key(v)})` : `${ck(f)} = ${key(v)}`;
    case '$ne': // a missing field collates as null
      return `${ck(f)} <> ${key(v)}`;
    case '$gt':
      return `${ck(f)} > ${key(v)}`;
    case '$gte':
      return isNull ? `${f} IS NOT NULL` : `${ck(f)} >= ${key(v)}`;
    case '$lt':
      return `(${f} IS NOT NULL AND ${ck(f)} < ${key(v)})`;
    case '$lte':
      return `(${f} IS NOT NULL AND ${ck(f)} <= ${key(v)})`;
    case '$exists':
      return v ? `${f} IS NOT NULL` : `${f} IS NULL`;
  }
  return null;
}

function compileOp(b: SqlBuilder, root: Root, c: Extract<Cond, { k: 'op' }>): string {
  const f = fieldExpr(root, c.path);
  const v = c.v;
  const cmp = comparisonSql(c.op, f, v, ck, (x) => b.param(encodeKey(x)));
  if (cmp !== null) return cmp;
  switch (c.op) {
    case '$type': {
      const t = ({ null: "'null'", boolean: "'true', 'false'", number: "'integer', 'real'", string: "'text'", array: "'array'", object: "'object'" } as Record<string, string>)[v as string];
      return `json_type(${f}) IN (${t ?? ''})`;
    }
    case '$in':
      return `(json_type(${f}) <> 'null' AND ${contains(b, f, v as unknown[])})`;
    case '$nin':
      return `(json_type(${f}) <> 'null' AND NOT (${contains(b, f, v as unknown[])}))`;
    case '$all': {
      const parts = [`json_type(${f}) = 'array'`];
      for (const x of v as unknown[]) {
        const a = b.nextAlias();
        parts.push(`EXISTS (SELECT 1 FROM json_each(${f}) AS ${a} WHERE ${ck(elementJson(a, f))} = ${b.param(encodeKey(x))})`);
      }
      return `(${parts.join(' AND ')})`;
    }
    case '$size':
      return `(json_type(${f}) = 'array' AND json_array_length(${f}) = ${b.param(v as number)})`;
    case '$mod': {
      const [d, r] = v as [number, number];
      return `hearth_mod(${f}, ${b.param(d)}, ${b.param(r)})`;
    }
    case '$regex':
      return `hearth_regexp(${b.param(v as string)}, ${f})`;
    case '$beginsWith': {
      const [lo, hi] = prefixRange(v as string);
      return `(${ck(f)} >= ${b.param(lo)} AND ${ck(f)} < ${b.param(hi)})`;
    }
  }
  throw new Error(`operator ${c.op} has no SQL`); // comparisons were handled above
}

function compileCond(b: SqlBuilder, root: Root, c: Cond): string {
  switch (c.k) {
    case 'and':
      return c.c.length === 0 ? '1' : c.c.length === 1 ? compileCond(b, root, c.c[0] as Cond) : `(${c.c.map((x) => compileCond(b, root, x)).join(' AND ')})`;
    case 'or':
      return c.c.length === 0 ? '0' : `(${c.c.map((x) => compileCond(b, root, x)).join(' OR ')})`;
    case 'not':
      return `NOT IFNULL(${compileCond(b, root, c.c)}, 0)`;
    case 'op':
      return compileOp(b, root, c);
    case 'sub': {
      const f = fieldExpr(root, c.path);
      const a = b.nextAlias();
      if (c.op === '$keyMapMatch') {
        const inner = compileCond(b, { doc: false, expr: `json_quote(${a}.key)` }, c.c);
        return `(json_type(${f}) = 'object' AND EXISTS (SELECT 1 FROM json_each(${f}) AS ${a} WHERE ${inner}))`;
      }
      const inner = compileCond(b, { doc: false, expr: `(${elementJson(a, f)})` }, c.c);
      if (c.op === '$elemMatch') return `(json_type(${f}) = 'array' AND EXISTS (SELECT 1 FROM json_each(${f}) AS ${a} WHERE ${inner}))`;
      return `(json_type(${f}) = 'array' AND json_array_length(${f}) > 0 AND NOT EXISTS (SELECT 1 FROM json_each(${f}) AS ${a} WHERE NOT IFNULL(${inner}, 0)))`;
    }
  }
}

/** Compiles a normalised selector against the document table. */
export function compileCondition(c: Cond, b: SqlBuilder): string {
  return compileCond(b, { doc: true }, c);
}

function regexpFn(pattern: unknown, json: unknown): number {
  if (typeof pattern !== 'string' || typeof json !== 'string' || json.charCodeAt(0) !== 0x22) return 0;
  return compileRegex(pattern).test(JSON.parse(json) as string) ? 1 : 0;
}

function modFn(json: unknown, d: unknown, r: unknown): number {
  if (typeof json !== 'string') return 0;
  const v: unknown = JSON.parse(json);
  // pouchdb-selector-core: typeof number && parseInt(v, 10) === v && v % d === r
  if (typeof v !== 'number' || parseInt(String(v), 10) !== v) return 0;
  return v % Number(d) === Number(r) ? 1 : 0;
}

/** Per-statement counter for execution_stats (non-deterministic on purpose). */
export const examined = { count: 0 };

/** Registers hearth_* functions; needed on EVERY connection that reads or writes indexed tables. */
export function registerSqlFunctions(db: Database): void {
  const det = { deterministic: true };
  db.function('hearth_ck', det, (json: unknown) => keyOfJson(json));
  db.function('hearth_idk', det, (id: unknown) => encodeKey(id));
  db.function('hearth_get', det, (json: unknown, segs: unknown) => sqlGet(json, segs));
  db.function('hearth_regexp', det, regexpFn);
  db.function('hearth_mod', det, modFn);
  db.function('hearth_examine', { deterministic: false }, () => {
    examined.count++;
    return 1;
  });
}

