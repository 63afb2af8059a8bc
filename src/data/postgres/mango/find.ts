/**
 * _find, its count and _explain on a PostgreSQL docs table: the same answers as src/data/mango/find.ts (order, ties
 * by _id in UTF-16 order, keyset bookmarks, warnings, use_index, limits), from the same index choice.
 *
 * Selectors holding a `$regex` that PostgreSQL cannot evaluate as RE2 does (regex.ts): the SQL keeps the top-level
 * conditions it can evaluate (so an index still bounds the scan) and JS decides on the whole selector with RE2
 * (match.ts), reading the candidates in keyset-ordered batches until the page is full.
 */
import type { Queryable } from '../../../engines/postgres.js';
import type { Cond } from '../../mango/ast.js';
import { encodeKey } from '../../mango/collate-key.js';
import { after, decodeBookmark, docOf, encodeBookmark, explainResult, type Row } from '../../mango/find.js';
import { chooseIndex, coversSort } from '../../mango/plan.js';
import { parseSelector } from '../../mango/selector.js';
import type { ExecutionStats, ExplainResult, FindRequest, FindResult, IndexDef, SortDirection } from '../../mango/types.js';
import { unescapedText } from '../nul.js';
import { matches } from './match.js';
import { PG_BASE_WHERE, pgPartialOf, pgSortExpr } from './plan.js';
import { PgSqlBuilder, compileCondition, needsJs } from './sql.js';

/** Candidates read per round when JS filters ($regex outside PostgreSQL's reach). */
const JS_BATCH = 500;

interface OrderKey {
  expr: string;
  dir: SortDirection;
}

/** What a find runs: the choice, the order, and the part of the selector left to JS (null: none). */
interface Plan {
  index: IndexDef | null;
  warnings: string[];
  cond: Cond;
  keys: OrderKey[];
  order: OrderKey[];
  byId: boolean;
  /** The conditions that must hold, in SQL. */
  sqlConds: Cond[];
  /** The condition checked in JS on each candidate, when the SQL cannot say it all. */
  js: Cond | null;
}

const conjuncts = (c: Cond): Cond[] => (c.k === 'and' ? c.c : [c]);

function plan(req: FindRequest, indexes: IndexDef[]): Plan {
  const cond = parseSelector(req.selector);
  const { index, warnings } = chooseIndex(cond, req, indexes);
  let keys: OrderKey[];
  if (req.sort && req.sort.length > 0) {
    keys = req.sort.map((s) => ({ expr: pgSortExpr(s.field), dir: s.dir }));
    if (!index || !coversSort(index, req.sort)) warnings.push('The sort is not covered by an index: Hearth sorted without one (CouchDB would refuse this query).');
  } else keys = index ? index.fields.map((f) => ({ expr: pgSortExpr(f.field), dir: f.dir })) : [];
  const byId = keys.length === 0;
  const order = [...keys, { expr: byId ? 'id COLLATE "C"' : 'hearth_fn.strk(id)', dir: keys[0]?.dir ?? 'asc' }];
  const partial = index ? pgPartialOf(index) : null;
  const all = [...(partial?.rest ?? []), ...conjuncts(cond)];
  const js = all.some(needsJs) ? ({ k: 'and', c: all } as Cond) : null;
  return { index, warnings, cond, keys, order, byId, sqlConds: all.filter((c) => !needsJs(c)), js };
}

/** A row as stored (body::text): its strings unescaped (nul.ts). */
function unescapedRow(r: Row): Row {
  const body = unescapedText(r.body);
  return body === r.body ? r : { ...r, body };
}

interface Built {
  sql: string;
  params: unknown[];
}

/** The SELECT of a page: rows after `cursor` (the last row's order values), `limit` of them after `offset`. */
function select(table: string, p: Plan, withTree: boolean, cursor: unknown[] | null, limit: number, offset: number): Built {
  const b = new PgSqlBuilder();
  const where = [PG_BASE_WHERE];
  const partial = p.index ? pgPartialOf(p.index) : null;
  if (partial?.inline) where.push(partial.inline);
  for (const c of p.sqlConds) where.push(compileCondition(c, b));
  if (cursor) where.push(after(p.order.map((o) => o.expr), p.order.map((o) => o.dir), b, cursor));
  const cols = ['id', 'rev', 'body::text AS body', withTree ? 'tree::text AS tree' : 'NULL AS tree', ...p.keys.map((k, i) => `${k.expr} AS k${i}`)];
  const sql = `SELECT ${cols.join(', ')} FROM ${table} WHERE ${where.join(' AND ')} ORDER BY ${p.order.map((o) => `${o.expr} ${o.dir.toUpperCase()}`).join(', ')} LIMIT ${b.param(limit)} OFFSET ${b.param(offset)}`;
  return { sql, params: b.params };
}

function bookmarkCursor(p: Plan, bookmark: string | undefined): unknown[] | null {
  if (bookmark === undefined) return null;
  const bm = decodeBookmark(bookmark, p.keys.length);
  return [...bm.k.map((h) => Buffer.from(h, 'hex')), p.byId ? bm.i : encodeKey(bm.i)];
}

const cursorOf = (p: Plan, r: Row): unknown[] => [...p.keys.map((_, i) => r[`k${i}`]), p.byId ? r.id : encodeKey(r.id)];

/** The SQL that pgRunFind runs for `req` (without JS filtering), for EXPLAIN. */
export function pgFindSql(table: string, req: FindRequest, indexes: IndexDef[]): Built {
  const p = plan(req, indexes);
  return select(table, p, req.conflicts === true, bookmarkCursor(p, req.bookmark), req.limit, req.skip);
}

/** Rows read from the table by a query: output plus filtered out, over the scans of `table` in an EXPLAIN ANALYZE. */
function rowsRead(node: Record<string, unknown>): number {
  let n = 0;
  if (typeof node['Relation Name'] === 'string') {
    const loops = Number(node['Actual Loops'] ?? 1);
    n += (Number(node['Actual Rows'] ?? 0) + Number(node['Rows Removed by Filter'] ?? 0) + Number(node['Rows Removed by Index Recheck'] ?? 0)) * loops;
  }
  for (const child of (node.Plans as Array<Record<string, unknown>> | undefined) ?? []) n += rowsRead(child);
  return n;
}

interface Page {
  rows: Row[];
  examined: number | null;
}

/** Candidates in order, filtered in JS, until `skip + limit` matched or the candidates ran out. */
async function filtered(q: Queryable, table: string, p: Plan, withTree: boolean, cursor: unknown[] | null, limit: number, skip: number): Promise<Page> {
  const rows: Row[] = [];
  let skipped = 0;
  let examined = 0;
  while (rows.length < limit) {
    const { sql, params } = select(table, p, withTree, cursor, JS_BATCH, 0);
    const batch = (await q.query<Row>(sql, params)).rows.map(unescapedRow);
    for (const r of batch) {
      examined++;
      if (!matches(p.js as Cond, { id: r.id, rev: r.rev, body: JSON.parse(r.body) as Record<string, unknown> })) continue;
      if (skipped < skip) skipped++;
      else if (rows.push(r) === limit) break;
    }
    const last = batch[batch.length - 1];
    if (batch.length < JS_BATCH || !last) break;
    cursor = cursorOf(p, last);
  }
  return { rows, examined };
}

async function page(q: Queryable, table: string, p: Plan, req: FindRequest, stats: boolean): Promise<Page> {
  const cursor = bookmarkCursor(p, req.bookmark);
  const withTree = req.conflicts === true;
  if (p.js) return filtered(q, table, p, withTree, cursor, req.limit, req.skip);
  const { sql, params } = select(table, p, withTree, cursor, req.limit, req.skip);
  const rows = (await q.query<Row>(sql, params)).rows.map(unescapedRow);
  if (!stats) return { rows, examined: null };
  const explained = await q.query<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
  const top = explained.rows[0]?.['QUERY PLAN'][0]?.Plan;
  return { rows, examined: top ? rowsRead(top) : 0 };
}

export async function pgRunFind(q: Queryable, table: string, req: FindRequest, indexes: IndexDef[]): Promise<FindResult> {
  const t0 = performance.now();
  const stats = req.execution_stats === true;
  const p = plan(req, indexes);
  const { rows, examined } = await page(q, table, p, req, stats);
  const last = rows[rows.length - 1];
  const result: FindResult = { docs: rows.map((r) => docOf(r, req)), bookmark: last ? encodeBookmark(p.keys.map((_, i) => last[`k${i}`] as Buffer), last.id) : 'nil' };
  if (p.warnings.length) result.warning = p.warnings.join('\n');
  if (stats) {
    const s: ExecutionStats = {
      total_keys_examined: p.index ? (examined ?? 0) : 0,
      total_docs_examined: examined ?? 0,
      total_quorum_docs_examined: 0,
      results_returned: rows.length,
      execution_time_ms: performance.now() - t0,
    };
    result.execution_stats = s;
  }
  return result;
}

/** How many documents match `selector` (an index is used as _find would), without reading them when SQL says it all. */
export async function pgRunCount(q: Queryable, table: string, selector: unknown, indexes: IndexDef[]): Promise<number> {
  const req: FindRequest = { selector: selector as FindRequest['selector'], limit: Number.MAX_SAFE_INTEGER, skip: 0 };
  const p = plan(req, indexes);
  if (p.js) return (await filtered(q, table, p, false, null, req.limit, 0)).rows.length;
  const b = new PgSqlBuilder();
  const where = [PG_BASE_WHERE];
  const partial = p.index ? pgPartialOf(p.index) : null;
  if (partial?.inline) where.push(partial.inline);
  for (const c of p.sqlConds) where.push(compileCondition(c, b));
  const r = await q.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where.join(' AND ')}`, b.params);
  return Number(r.rows[0]?.n ?? 0);
}

export async function pgExplainFind(q: Queryable, table: string, dbname: string, req: FindRequest, indexes: IndexDef[]): Promise<ExplainResult> {
  const p = plan(req, indexes);
  const { sql, params } = select(table, p, req.conflicts === true, bookmarkCursor(p, req.bookmark), p.js ? JS_BATCH : req.limit, p.js ? 0 : req.skip);
  const lines = (await q.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).rows.map((r) => r['QUERY PLAN']);
  return explainResult(dbname, p.index, p.cond, req, p.js ? [...lines, 'then filtered by RE2 in JS ($regex)'] : lines);
}

/** The selector as a WHERE fragment on a docs table, `$n` placeholders from `firstParam` (the changes feed's filter). */
export function pgCompileSelector(selector: unknown, firstParam: number): { sql: string; params: unknown[] } {
  const b = new PgSqlBuilder(firstParam);
  const sql = compileCondition(parseSelector(selector), b);
  return { sql, params: b.params };
}
