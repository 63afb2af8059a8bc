/**
 * The selector evaluated in JS on a document as PostgreSQL returns it, with exactly the semantics of the SQL of
 * sql.ts (collation keys for comparisons). Used only for selectors holding a `$regex` that PostgreSQL cannot
 * evaluate as RE2 does: the SQL narrows the candidates with the other conditions, this decides.
 */
import type { Cond } from '../../mango/ast.js';
import { encodeKey } from '../../mango/collate-key.js';
import { getPath } from '../../mango/path.js';
import { compileRegex } from '../../mango/selector.js';
import { pgKey } from './sql.js';

export interface StoredDoc {
  id: string;
  rev: string;
  body: Record<string, unknown>;
}

type Root = { doc: StoredDoc } | { value: unknown };

function valueAt(root: Root, path: string[]): unknown {
  if ('value' in root) return getPath(root.value, path);
  const [head, ...rest] = path;
  if (head === '_id' || head === '_rev') return rest.length === 0 ? (head === '_id' ? root.doc.id : root.doc.rev) : undefined;
  return getPath(root.doc.body, path);
}

const cmp = (f: unknown, v: unknown): number => Buffer.compare(encodeKey(f ?? null), pgKey(v));
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function contains(f: unknown, values: unknown[]): boolean {
  const keys = new Set(values.map((v) => pgKey(v).toString('hex')));
  const has = (x: unknown): boolean => keys.has(encodeKey(x).toString('hex'));
  return Array.isArray(f) ? f.some(has) : has(f);
}

function matchOp(c: Extract<Cond, { k: 'op' }>, f: unknown): boolean {
  const v = c.v;
  const isNull = v === null || (typeof v === 'number' && !Number.isFinite(v));
  switch (c.op) {
    case '$eq':
      return (!isNull || f !== undefined) && cmp(f, v) === 0;
    case '$ne':
      return cmp(f, v) !== 0;
    case '$gt':
      return cmp(f, v) > 0;
    case '$gte':
      return isNull ? f !== undefined : cmp(f, v) >= 0;
    case '$lt':
      return f !== undefined && cmp(f, v) < 0;
    case '$lte':
      return f !== undefined && cmp(f, v) <= 0;
    case '$exists':
      return (f !== undefined) === v;
    case '$type':
      return f !== undefined && typeOf(f) === v;
    case '$in':
      return f !== undefined && f !== null && contains(f, v as unknown[]);
    case '$nin':
      return f !== undefined && f !== null && !contains(f, v as unknown[]);
    case '$all':
      return Array.isArray(f) && (v as unknown[]).every((x) => contains(f, [x]));
    case '$size':
      return Array.isArray(f) && f.length === v;
    case '$mod': {
      const [d, r] = v as [number, number];
      return typeof f === 'number' && parseInt(String(f), 10) === f && f % d === r;
    }
    case '$regex':
      return typeof f === 'string' && compileRegex(v as string).test(f);
    case '$beginsWith':
      return typeof f === 'string' && f.startsWith(v as string);
  }
}

function match(c: Cond, root: Root): boolean {
  switch (c.k) {
    case 'and':
      return c.c.every((x) => match(x, root));
    case 'or':
      return c.c.some((x) => match(x, root));
    case 'not':
      return !match(c.c, root);
    case 'op':
      return matchOp(c, valueAt(root, c.path));
    case 'sub': {
      const f = valueAt(root, c.path);
      if (c.op === '$keyMapMatch') return isObject(f) && Object.keys(f).some((k) => match(c.c, { value: k }));
      if (!Array.isArray(f)) return false;
      if (c.op === '$elemMatch') return f.some((e) => match(c.c, { value: e }));
      return f.length > 0 && f.every((e) => match(c.c, { value: e }));
    }
  }
}

export function matches(c: Cond, doc: StoredDoc): boolean {
  return match(c, { doc });
}
