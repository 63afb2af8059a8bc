/**
 * A Mango index as a real PostgreSQL index (the port of src/data/mango/plan.ts; the choice of index, chooseIndex,
 * is the SQLite engine's, engine-neutral):
 *   CREATE INDEX … ON <docs> (hearth_fn.ck(<f1>) [DESC], …, hearth_fn.strk(id) [DESC]) WHERE <live, non-design> [AND <partial>]
 * The trailing strk(id) gives (sort keys, _id) order straight from the index. A partial_filter_selector that
 * compiles without subqueries is inlined in the index predicate (and repeated, the very same text, by the queries
 * through that index, so that the planner proves the implication); otherwise the index is a full one, and the
 * queries through it AND the partial selector as parameters. Missing fields are in the index too, with null's key.
 */
import type { Cond } from '../../mango/ast.js';
import { parseField } from '../../mango/path.js';
import { ident } from '../../mango/plan.js';
import { parseSelector } from '../../mango/selector.js';
import type { IndexDef } from '../../mango/types.js';
import { PgSqlBuilder, ck, compileCondition, docFieldExpr, needsJs } from './sql.js';

export const PG_BASE_WHERE = `NOT deleted AND id NOT LIKE '\\_design/%'`;

export const pgSortExpr = (field: string): string => ck(docFieldExpr(parseField(field)));

export interface PgPartial {
  cond: Cond;
  /** The inlined SQL of the partial selector, or null when it cannot be inlined. */
  inline: string | null;
}

export function pgPartialOf(def: IndexDef): PgPartial | null {
  if (!def.partial_filter_selector) return null;
  const cond = parseSelector(def.partial_filter_selector, 'partial_filter_selector');
  if (needsJs(cond)) return { cond, inline: null };
  const b = new PgSqlBuilder(1, true);
  const sql = compileCondition(cond, b);
  return { cond, inline: b.subquery ? null : sql };
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
