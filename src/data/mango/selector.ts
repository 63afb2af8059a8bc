/**
 * Selector validation and normalisation (CouchDB 3 Mango operators).
 *
 * Normalisation follows pouchdb-selector-core's massageSelector: implicit
 * $eq, implicit $and, nested-object shorthand ({"a":{"b":1}} is a.b = 1),
 * dotted paths with `\.` escapes. Differences, on purpose: $and is a plain
 * logical AND (PouchDB's mergeAndedSelectors is lossy: {$and:[{a:1},{a:{$gt:5}}]}
 * keeps only a = 1), an array literal is an equality ({"a":[1,2]}), and
 * operators are accepted wherever CouchDB accepts them (field-level $not,
 * $or, $and, $nor, and everything inside $elemMatch), where PouchDB throws.
 */
import { RE2JS } from 're2js';
import { BadRequest } from '../../common/errors.js';
import type { Cond, SubOp, ValueOp } from './ast.js';
import { checkedField, joinField } from './path.js';
import type { Selector } from './types.js';

export const MAX_DEPTH = 32;
export const MAX_CONDITIONS = 500;
export const MAX_LIST = 1000;
export const MAX_REGEX_LENGTH = 1000;

const VALUE_OPS = new Set<string>(['$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$exists', '$type', '$in', '$nin', '$all', '$size', '$mod', '$regex', '$beginsWith']);
const SUB_OPS = new Set<string>(['$elemMatch', '$allMatch', '$keyMapMatch']);
const TYPES = new Set(['null', 'boolean', 'number', 'string', 'array', 'object']);

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Ctx {
  conditions: number;
}

function checkValueDepth(v: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new BadRequest(`selector is nested deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(v)) for (const x of v) checkValueDepth(x, depth + 1);
  else if (isPlainObject(v)) for (const x of Object.values(v)) checkValueDepth(x, depth + 1);
}

function count(ctx: Ctx): void {
  if (++ctx.conditions > MAX_CONDITIONS) throw new BadRequest(`selector has more than ${MAX_CONDITIONS} conditions`);
}

const regexCache = new Map<string, RE2JS>();
/** Compiles with RE2 (linear time); patterns RE2 refuses are a 400. */
export function compileRegex(pattern: string): RE2JS {
  let re = regexCache.get(pattern);
  if (re) return re;
  if (pattern.length > MAX_REGEX_LENGTH) throw new BadRequest(`$regex pattern is longer than ${MAX_REGEX_LENGTH} characters`);
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw new BadRequest(`invalid $regex pattern ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  if (regexCache.size >= 500) regexCache.clear();
  regexCache.set(pattern, re);
  return re;
}

function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

function valueOp(op: ValueOp, v: unknown, path: string[], depth: number): Cond {
  const bad = (why: string): never => {
    throw new BadRequest(`bad argument for operator ${op}: ${why}`);
  };
  switch (op) {
    case '$exists':
      if (typeof v !== 'boolean') bad('expected true or false');
      break;
    case '$type':
      if (typeof v !== 'string' || !TYPES.has(v)) bad('expected one of "null", "boolean", "number", "string", "array", "object"');
      break;
    case '$in':
    case '$nin':
    case '$all':
      if (!Array.isArray(v)) bad('expected an array');
      if ((v as unknown[]).length > MAX_LIST) bad(`more than ${MAX_LIST} values`);
      checkValueDepth(v, depth);
      break;
    case '$size':
      if (!isInt(v) || v < 0) bad('expected a non-negative integer');
      break;
    case '$mod':
      if (!Array.isArray(v) || v.length !== 2 || !isInt(v[0]) || !isInt(v[1])) bad('expected [divisor, remainder], two integers');
      if ((v as number[])[0] === 0) bad('the divisor must not be 0');
      break;
    case '$regex':
      if (typeof v !== 'string') bad('expected a string');
      compileRegex(v as string);
      break;
    case '$beginsWith':
      if (typeof v !== 'string') bad('expected a string');
      break;
    default:
      checkValueDepth(v, depth);
  }
  return { k: 'op', path, op, v };
}

function all(cs: Cond[]): Cond {
  return cs.length === 1 ? (cs[0] as Cond) : { k: 'and', c: cs };
}

/**
 * Parses an object of conditions at `prefix`. `opsHere`: operators may apply
 * to the root itself (true below a field, or inside $elemMatch and friends).
 */
function parseObject(obj: Record<string, unknown>, prefix: string[], opsHere: boolean, depth: number, ctx: Ctx): Cond {
  if (depth > MAX_DEPTH) throw new BadRequest(`selector is nested deeper than ${MAX_DEPTH} levels`);
  const out: Cond[] = [];
  for (const [key, value] of Object.entries(obj)) {
    count(ctx);
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (!Array.isArray(value)) throw new BadRequest(`bad argument for operator ${key}: expected an array of selectors`);
      if (value.length > MAX_CONDITIONS) throw new BadRequest(`selector has more than ${MAX_CONDITIONS} conditions`);
      const cs = value.map((s) => {
        if (!isPlainObject(s)) throw new BadRequest(`bad argument for operator ${key}: expected an array of selectors`);
        return parseObject(s, prefix, opsHere, depth + 1, ctx);
      });
      if (key === '$and') out.push(all(cs));
      else if (key === '$or') out.push({ k: 'or', c: cs });
      else out.push({ k: 'not', c: { k: 'or', c: cs } });
    } else if (key === '$not') {
      if (!isPlainObject(value)) throw new BadRequest('bad argument for operator $not: expected a selector');
      out.push({ k: 'not', c: parseObject(value, prefix, opsHere, depth + 1, ctx) });
    } else if (key.startsWith('$')) {
      if (!VALUE_OPS.has(key) && !SUB_OPS.has(key)) throw new BadRequest(`unknown operator "${key}"`);
      if (!opsHere) throw new BadRequest(`operator ${key} must be applied to a field, e.g. {"field": {"${key}": …}}`);
      if (SUB_OPS.has(key)) {
        if (!isPlainObject(value)) throw new BadRequest(`bad argument for operator ${key}: expected a selector`);
        out.push({ k: 'sub', path: prefix, op: key as SubOp, c: parseObject(value, [], true, depth + 1, ctx) });
      } else out.push(valueOp(key as ValueOp, value, prefix, depth + 1));
    } else {
      const path = [...prefix, ...checkedField(key)];
      if (path.length > 64) throw new BadRequest('field path is too long');
      if (isPlainObject(value)) out.push(parseObject(value, path, true, depth + 1, ctx));
      else out.push(valueOp('$eq', value, path, depth + 1));
    }
  }
  return all(out);
}

/** Validates and normalises a selector (the top level must be an object of field conditions). */
export function parseSelector(selector: unknown, what = 'selector'): Cond {
  if (!isPlainObject(selector)) throw new BadRequest(`${what} must be a JSON object`);
  return parseObject(selector, [], false, 1, { conditions: 0 });
}

/** The normalised selector in CouchDB's explicit form (for _explain). */
export function toSelector(c: Cond): Selector {
  switch (c.k) {
    case 'and':
      return c.c.length === 1 ? toSelector(c.c[0] as Cond) : { $and: c.c.map(toSelector) };
    case 'or':
      return { $or: c.c.map(toSelector) };
    case 'not':
      return c.c.k === 'or' ? { $nor: c.c.c.map(toSelector) } : { $not: toSelector(c.c) };
    case 'op':
      return c.path.length ? { [joinField(c.path)]: { [c.op]: c.v } } : { [c.op]: c.v };
    case 'sub':
      return c.path.length ? { [joinField(c.path)]: { [c.op]: toSelector(c.c) } } : { [c.op]: toSelector(c.c) };
  }
}
