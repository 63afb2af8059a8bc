/**
 * Running _find and _explain on one document table.
 *
 * Order: the requested sort (missing fields sort as null, like PouchDB), ties
 * broken by _id in UTF-16 order (PouchDB's createFieldSorter), the tie-break
 * following the first sort field's direction; mixed directions are honoured
 * (CouchDB refuses them). Without a sort, the chosen index's order, else _id
 * order (UTF-8 bytes, like CouchDB's _all_docs).
 * Bookmarks are keyset cursors: base64url of {k: [hex keys of the last row], i: its _id};
 * the next page starts strictly after that row, so concurrent writes never
 * repeat or skip rows that did not move. "nil" when the page is empty.
 */
import type { Database, Statement } from 'better-sqlite3';
import pouchMerge from 'pouchdb-merge';
import { BadRequest } from '../../common/errors.js';
import type { Cond } from './ast.js';
import { encodeKey } from './collate-key.js';
import { getPath, parseField } from './path.js';
import { BASE_WHERE, chooseIndex, coversSort, ident, partialOf, sortExpr } from './plan.js';
import { parseSelector, toSelector } from './selector.js';
import { SqlBuilder, compileCondition, examined } from './sql.js';
import type { ExecutionStats, ExplainResult, FindRequest, FindResult, IndexDef, SortDirection } from './types.js';

const { collectConflicts } = pouchMerge as unknown as { collectConflicts: (m: { rev_tree: unknown }) => string[] };

interface OrderKey {
  expr: string;
  dir: SortDirection;
}

interface Query {
  sql: string;
  params: unknown[];
  index: IndexDef | null;
  forced: boolean;
  keys: OrderKey[]; // sort keys selected as k0..kn-1 (the tie-break excluded)
  byId: boolean; // tie-break on the id column rather than hearth_idk(id)
  warnings: string[];
  cond: Cond;
}

interface Bookmark {
  k: string[];
  i: string;
}

export function decodeBookmark(s: string, nkeys: number): Bookmark {
  try {
    const b = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Bookmark;
    if (Array.isArray(b.k) && b.k.length === nkeys && b.k.every((x) => typeof x === 'string' && /^([0-9a-f]{2})*$/.test(x)) && typeof b.i === 'string') return b;
  } catch {
    // fall through
  }
  throw new BadRequest('invalid bookmark (it does not come from this query)');
}

export function encodeBookmark(keys: Buffer[], id: string): string {
  return Buffer.from(JSON.stringify({ k: keys.map((k) => k.toString('hex')), i: id })).toString('base64url');
}

/** (a1..an) after (b1..bn) in the given directions, as SQL (`b` gives the placeholders: SQLite's or PostgreSQL's). */
export function after(exprs: string[], dirs: SortDirection[], b: Pick<SqlBuilder, 'param'>, values: unknown[]): string {
  if (dirs.every((d) => d === dirs[0])) {
    const ps = values.map((v) => b.param(v as Buffer | string));
    return `(${exprs.join(', ')}) ${dirs[0] === 'desc' ? '<' : '>'} (${ps.join(', ')})`;
  }
  const ors: string[] = [];
  for (let i = 0; i < exprs.length; i++) {
    const ands: string[] = [];
    for (let j = 0; j < i; j++) ands.push(`${exprs[j]} = ${b.param(values[j] as Buffer)}`);
    ands.push(`${exprs[i]} ${dirs[i] === 'desc' ? '<' : '>'} ${b.param(values[i] as Buffer | string)}`);
    ors.push(`(${ands.join(' AND ')})`);
  }
  return `(${ors.join(' OR ')})`;
}

function buildQuery(table: string, req: FindRequest, indexes: IndexDef[], stats: boolean, forced = true): Query {
  const cond = parseSelector(req.selector);
  const { index, warnings } = chooseIndex(cond, req, indexes);
  const b = new SqlBuilder();
  const where = [BASE_WHERE];
  const partial = index ? partialOf(index) : null;
  if (partial) where.push(partial.inline ?? compileCondition(partial.cond, b));
  if (stats) where.push('hearth_examine()');
  where.push(compileCondition(cond, b));

  let keys: OrderKey[];
  if (req.sort && req.sort.length > 0) {
    keys = req.sort.map((s) => ({ expr: sortExpr(s.field), dir: s.dir }));
    if (!index || !coversSort(index, req.sort)) warnings.push('The sort is not covered by an index: Hearth sorted without one (CouchDB would refuse this query).');
  } else keys = index ? index.fields.map((f) => ({ expr: sortExpr(f.field), dir: f.dir })) : [];
  const byId = keys.length === 0;
  const tie: OrderKey = { expr: byId ? 'id' : 'hearth_idk(id)', dir: keys[0]?.dir ?? 'asc' };
  const order = [...keys, tie];

  if (req.bookmark !== undefined) {
    const bm = decodeBookmark(req.bookmark, keys.length);
    const values: unknown[] = [...bm.k.map((h) => Buffer.from(h, 'hex')), byId ? bm.i : encodeKey(bm.i)];
    where.push(after(order.map((o) => o.expr), order.map((o) => o.dir), b, values));
  }
  const cols = ['id', 'rev', 'body', req.conflicts ? 'tree' : 'NULL AS tree', ...keys.map((k, i) => `${k.expr} AS k${i}`)];
  const from = `${ident(table)}${index && forced ? ` INDEXED BY ${ident(index.sqlName)}` : ''}`;
  const sql = `SELECT ${cols.join(', ')} FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${order.map((o) => `${o.expr} ${o.dir.toUpperCase()}`).join(', ')} LIMIT ${b.param(req.limit)} OFFSET ${b.param(req.skip)}`;
  return { sql, params: b.params, index, forced, keys, byId, warnings, cond };
}

const stmtCache = new WeakMap<Database, Map<string, Statement>>();
function prepare(db: Database, sql: string): Statement {
  let m = stmtCache.get(db);
  if (!m) stmtCache.set(db, (m = new Map()));
  let st = m.get(sql);
  if (!st) {
    st = db.prepare(sql);
    if (m.size >= 200) m.clear();
    m.set(sql, st);
  }
  return st;
}

/** Builds the query, dropping INDEXED BY if SQLite cannot plan with it. */
function prepared(db: Database, table: string, req: FindRequest, indexes: IndexDef[], stats: boolean, explain = false): { q: Query; st: Statement } {
  let q = buildQuery(table, req, indexes, stats);
  try {
    return { q, st: prepare(db, (explain ? 'EXPLAIN QUERY PLAN ' : '') + q.sql) };
  } catch (e) {
    if (!q.index || !/no query solution/.test((e as Error).message)) throw e;
    q = buildQuery(table, req, indexes, stats, false);
    return { q, st: prepare(db, (explain ? 'EXPLAIN QUERY PLAN ' : '') + q.sql) };
  }
}

export interface Row {
  id: string;
  rev: string;
  body: string;
  tree: string | null;
  [k: `k${number}`]: Buffer;
}

export function project(row: Row, fields: string[] | undefined): Record<string, unknown> {
  const body = JSON.parse(row.body) as Record<string, unknown>;
  if (!fields) return { _id: row.id, _rev: row.rev, ...body };
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const segs = parseField(f);
    const v = segs[0] === '_id' || segs[0] === '_rev' ? (segs.length === 1 ? (segs[0] === '_id' ? row.id : row.rev) : undefined) : getPath(body, segs);
    if (v === undefined) continue;
    let o = out;
    for (const s of segs.slice(0, -1)) {
      const next = o[s];
      o = (typeof next === 'object' && next !== null && !Array.isArray(next) ? next : (o[s] = {})) as Record<string, unknown>;
    }
    o[segs[segs.length - 1] as string] = v;
  }
  return out;
}

/** A row as _find answers it: projected on `fields`, with `_conflicts` when asked. */
export function docOf(r: Row, req: FindRequest): Record<string, unknown> {
  const d = project(r, req.fields);
  if (req.conflicts && r.tree) {
    const c = collectConflicts({ rev_tree: JSON.parse(r.tree) });
    if (c.length > 0) d._conflicts = c;
  }
  return d;
}

export function runFind(db: Database, table: string, req: FindRequest, indexes: IndexDef[]): FindResult {
  const t0 = performance.now();
  const stats = req.execution_stats === true;
  const { q, st } = prepared(db, table, req, indexes, stats);
  examined.count = 0;
  const rows = st.all(...q.params) as Row[];
  const seen = examined.count;
  const docs = rows.map((r) => docOf(r, req));
  const last = rows[rows.length - 1];
  const result: FindResult = { docs, bookmark: last ? encodeBookmark(q.keys.map((_, i) => last[`k${i}`] as Buffer), last.id) : 'nil' };
  if (q.warnings.length) result.warning = q.warnings.join('\n');
  if (stats) {
    const s: ExecutionStats = {
      total_keys_examined: q.index ? seen : 0,
      total_docs_examined: seen,
      total_quorum_docs_examined: 0,
      results_returned: docs.length,
      execution_time_ms: performance.now() - t0,
    };
    result.execution_stats = s;
  }
  return result;
}

/** How many documents match `selector` (an index is used as _find would), without reading them. */
export function runCount(db: Database, table: string, selector: unknown, indexes: IndexDef[]): number {
  const cond = parseSelector(selector);
  const build = (forced: boolean) => {
    const { index } = chooseIndex(cond, { selector: selector as FindRequest['selector'], limit: 1, skip: 0 }, indexes);
    const b = new SqlBuilder();
    const where = [BASE_WHERE];
    const partial = index ? partialOf(index) : null;
    if (partial) where.push(partial.inline ?? compileCondition(partial.cond, b));
    where.push(compileCondition(cond, b));
    const from = `${ident(table)}${index && forced ? ` INDEXED BY ${ident(index.sqlName)}` : ''}`;
    return { sql: `SELECT COUNT(*) AS n FROM ${from} WHERE ${where.join(' AND ')}`, params: b.params };
  };
  let q = build(true);
  let st: Statement;
  try {
    st = prepare(db, q.sql);
  } catch (e) {
    if (!/no query solution/.test((e as Error).message)) throw e;
    q = build(false);
    st = prepare(db, q.sql);
  }
  return (st.get(...q.params) as { n: number }).n;
}

export function explainFind(db: Database, table: string, dbname: string, req: FindRequest, indexes: IndexDef[]): ExplainResult {
  const { q, st } = prepared(db, table, req, indexes, false, true);
  const plan = (st.all(...q.params) as Array<{ detail: string }>).map((r) => r.detail);
  return explainResult(dbname, q.index, q.cond, req, plan);
}

/** The _explain answer (CouchDB's shape) for the chosen index, with the engine's plan. */
export function explainResult(dbname: string, idx: IndexDef | null, cond: Cond, req: FindRequest, plan: string[]): ExplainResult {
  const index: ExplainResult['index'] = idx
    ? { ddoc: idx.ddoc, name: idx.name, type: 'json', def: { fields: idx.fields.map((f) => ({ [f.field]: f.dir })), ...(idx.partial_filter_selector ? { partial_filter_selector: idx.partial_filter_selector } : {}) } }
    : { ddoc: null, name: '_all_docs', type: 'special', def: { fields: [{ _id: 'asc' }] } };
  return {
    dbname,
    index,
    partitioned: false,
    selector: toSelector(cond),
    opts: {
      use_index: req.use_index === undefined ? [] : typeof req.use_index === 'string' ? [req.use_index] : req.use_index,
      bookmark: req.bookmark ?? 'nil',
      limit: req.limit,
      skip: req.skip,
      sort: Object.fromEntries((req.sort ?? []).map((s) => [s.field, s.dir])),
      fields: req.fields ?? 'all_fields',
      conflicts: req.conflicts ?? false,
      execution_stats: req.execution_stats ?? false,
      r: [49],
      stable: false,
      update: true,
      stale: false,
    },
    limit: req.limit,
    skip: req.skip,
    fields: req.fields ?? 'all_fields',
    plan,
  };
}

/** The selector as a WHERE fragment on a document table (for the changes feed's _selector filter). */
export function compileSelector(selector: unknown): { sql: string; params: unknown[] } {
  const b = new SqlBuilder();
  const sql = compileCondition(parseSelector(selector), b);
  return { sql, params: b.params };
}
