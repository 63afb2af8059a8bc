/**
 * A Mango index as a real PostgreSQL index (the port of src/data/mango/plan.ts; the choice of index, chooseIndex,
 * is the SQLite engine's, engine-neutral):
 *   CREATE INDEX … ON <docs> (hearth_fn.ckb(<f1>) [DESC], …, hearth_fn.strk(id) [DESC]) WHERE <live, non-design> [AND <partial>]
 * The trailing strk(id) gives (sort keys, _id) order straight from the index. A partial_filter_selector that
 * compiles without subqueries is inlined in the index predicate (and repeated, the very same text, by the queries
 * through that index, so that the planner proves the implication); otherwise its top-level conditions that do are,
 * and the queries through the index AND the others as parameters (or RE2 in JS). Missing fields are in the index too,
 * with null's key.
 * The keys are cut to INDEX_KEY_BYTES (functions.ts `ckb`), so that values of any length can be indexed; the order is
 * the collation order, except between values whose keys share those first bytes (170 Latin-1 characters, 256 of
 * other UTF-16 units), which compare equal there and so come by the next field, then by _id. The results are exact.
 */
import type { Cond } from '../../mango/ast.js';
import { parseField } from '../../mango/path.js';
import { ident } from '../../mango/plan.js';
import { parseSelector } from '../../mango/selector.js';
import type { IndexDef } from '../../mango/types.js';
import { PgSqlBuilder, ckb, compileCondition, docFieldExpr, needsJs } from './sql.js';

export const PG_BASE_WHERE = `NOT deleted AND id NOT LIKE '\\_design/%'`;

export const pgSortExpr = (field: string): string => ckb(docFieldExpr(parseField(field)));

export interface PgPartial {
  /** The inlined SQL of the top-level conditions of the partial selector that can be, or null when none can. */
  inline: string | null;
  /** The other top-level conditions, that the queries through the index add. */
  rest: Cond[];
}

export function pgPartialOf(def: IndexDef): PgPartial | null {
  if (!def.partial_filter_selector) return null;
  const cond = parseSelector(def.partial_filter_selector, 'partial_filter_selector');
  const inlined: string[] = [];
  const rest: Cond[] = [];
  for (const c of cond.k === 'and' ? cond.c : [cond]) {
    const b = new PgSqlBuilder(1, true);
    const sql = needsJs(c) ? null : compileCondition(c, b);
    if (sql === null || b.subquery) rest.push(c);
    else inlined.push(sql);
  }
  return { inline: inlined.length ? inlined.join(' AND ') : null, rest };
}

/**
 * The statements creating the PostgreSQL index of a Mango index (idempotent), then ANALYZE of the table, so that
 * the planner knows the new expressions' statistics from the first query on.
 */
export function pgIndexSql(table: string, def: IndexDef): string[] {
  const first = (def.fields[0]?.dir ?? 'asc').toUpperCase();
  const cols = def.fields.map((f) => `${pgSortExpr(f.field)} ${f.dir.toUpperCase()}`);
  cols.push(`hearth_fn.strk(id) ${first}`);
  const p = pgPartialOf(def);
  const where = p?.inline ? `${PG_BASE_WHERE} AND ${p.inline}` : PG_BASE_WHERE;
  return [`CREATE INDEX IF NOT EXISTS ${ident(def.sqlName)} ON ${table} (${cols.join(', ')}) WHERE ${where}`, `ANALYZE ${table}`];
}
