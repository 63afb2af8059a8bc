/**
 * Index DDL and index choice.
 *
 * A Mango index on fields f1..fn is the SQLite expression index
 *   (hearth_ck(<f1 expr>) [DESC], …, hearth_idk(id) [DESC]) WHERE <live, non-design docs> [AND <partial>]
 * The trailing hearth_idk(id) makes (sort keys, _id) order come straight from
 * the index. Partial filter selectors: when the selector compiles without
 * subqueries it is inlined in the index WHERE (keys as hex BLOB literals, which
 * are keys, not user SQL) and the query repeats the very same text so that the
 * planner can use the partial index; otherwise ($in/$nin/$all/$elemMatch/…)
 * the SQL index is a full one. Either way a query through a partial index
 * ANDs the partial selector, so results are those of CouchDB.
 * Missing fields are in the SQL index too (with null's key): unlike CouchDB,
 * using an index never hides documents.
 */
import type { Cond } from './ast.js';
import { parseField, docFieldExpr } from './path.js';
import { parseSelector } from './selector.js';
import { SqlBuilder, ck, compileCondition } from './sql.js';
import type { FindRequest, IndexDef, SortField } from './types.js';

export const BASE_WHERE = `deleted = 0 AND substr(id, 1, 8) <> '_design/'`;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`invalid SQL identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

export const sortExpr = (field: string): string => ck(docFieldExpr(parseField(field)));

export interface Partial {
  cond: Cond;
  /** The inlined SQL of the partial selector, or null when it cannot be inlined. */
  inline: string | null;
}

export function partialOf(def: IndexDef): Partial | null {
  if (!def.partial_filter_selector) return null;
  const cond = parseSelector(def.partial_filter_selector, 'partial_filter_selector');
  const b = new SqlBuilder(true);
  const sql = compileCondition(cond, b);
  return { cond, inline: b.subquery ? null : sql };
}

/** The statements creating the SQL index of a Mango index (idempotent). */
export function indexSql(table: string, def: IndexDef): string[] {
  const first = def.fields[0]?.dir ?? 'asc';
  const cols = def.fields.map((f) => `${sortExpr(f.field)} ${f.dir.toUpperCase()}`);
  cols.push(`hearth_idk(id) ${first.toUpperCase()}`);
  const p = partialOf(def);
  const where = p?.inline ? `${BASE_WHERE} AND ${p.inline}` : BASE_WHERE;
  return [`CREATE INDEX IF NOT EXISTS ${ident(def.sqlName)} ON ${ident(table)} (${cols.join(', ')}) WHERE ${where}`];
}

const pathKey = (field: string): string => JSON.stringify(parseField(field));

/** Fields with a range-able condition in the top-level conjunction. */
function constrained(c: Cond, out = new Set<string>()): Set<string> {
  if (c.k === 'and') for (const x of c.c) constrained(x, out);
  else if (c.k === 'op' && ['$eq', '$gt', '$gte', '$lt', '$lte', '$beginsWith'].includes(c.op)) out.add(JSON.stringify(c.path));
  return out;
}

/** Does the index give the requested order (same or all-reversed directions)? */
export function coversSort(def: IndexDef, sort: SortField[] | undefined): boolean {
  if (!sort || sort.length === 0) return true;
  if (sort.length > def.fields.length) return false;
  const same = sort.every((s, i) => pathKey(s.field) === pathKey(def.fields[i]?.field ?? '') && s.dir === def.fields[i]?.dir);
  const reversed = sort.every((s, i) => pathKey(s.field) === pathKey(def.fields[i]?.field ?? '') && s.dir !== def.fields[i]?.dir);
  return same || reversed;
}

function leading(def: IndexDef, cons: Set<string>): number {
  let n = 0;
  while (n < def.fields.length && cons.has(pathKey((def.fields[n] as SortField).field))) n++;
  return n;
}

function usable(def: IndexDef, cons: Set<string>, sort: SortField[] | undefined): boolean {
  return leading(def, cons) > 0 || (!!sort && sort.length > 0 && coversSort(def, sort));
}

export interface Choice {
  index: IndexDef | null;
  warnings: string[];
}

const ddocId = (d: string): string => (d.startsWith('_design/') ? d : `_design/${d}`);

/** CouchDB-style choice: use_index when usable, else the best index for the selector and sort. */
export function chooseIndex(cond: Cond, req: FindRequest, indexes: IndexDef[]): Choice {
  const cons = constrained(cond);
  const warnings: string[] = [];
  if (req.use_index !== undefined) {
    const [ddoc, name] = typeof req.use_index === 'string' ? [req.use_index, undefined] : req.use_index;
    const label = name === undefined ? ddocId(ddoc) : `${ddocId(ddoc)}, ${name}`;
    const named = indexes.filter((d) => d.ddoc === ddocId(ddoc) && (name === undefined || d.name === name));
    const ok = named.find((d) => d.partial_filter_selector !== undefined || usable(d, cons, req.sort));
    if (ok) return { index: ok, warnings };
    warnings.push(named.length === 0 ? `${label} was not used because it does not exist.` : `${label} was not used because it does not contain a valid index for this query.`);
  }
  let best: IndexDef | null = null;
  let bestScore = 0;
  for (const d of indexes) {
    if (d.partial_filter_selector !== undefined || !usable(d, cons, req.sort)) continue;
    const score = (req.sort?.length && coversSort(d, req.sort) ? 1000 : 0) + leading(d, cons) * 10 - d.fields.length / 100;
    if (best === null || score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  if (!best) warnings.push('No matching index found, create an index to optimize query time.');
  return { index: best, warnings };
}
