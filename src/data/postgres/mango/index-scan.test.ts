/**
 * "A _find never scans a doctype when an index covers it": 20,000 documents, Mango indexes created as the store
 * does (pgIndexSql, ANALYZE included), default planner settings; EXPLAIN (FORMAT JSON) of the very SQL that
 * pgRunFind runs reads the index and never scans the table sequentially.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pgMango, postgresForFile, rowsOf } from '../../../../test/helpers/mango-engines.js';
import { parseFindRequest } from '../../mango/index.js';
import type { IndexDef } from '../../mango/types.js';
import { pgFindSql } from './index.js';

const url = postgresForFile();
let engine: ReturnType<typeof pgMango>;
const T = 'big_docs';
const N = 20_000;
const docs = Array.from({ length: N }, (_, i) => ({ _id: `doc${String(i).padStart(6, '0')}`, n: (i * 7919) % N, g: i % 10, label: `l${i % 100}` }));
const byN: IndexDef = { ddoc: '_design/by-n', name: 'n', fields: [{ field: 'n', dir: 'asc' }], sqlName: 'ix_big_n' };
const byGN: IndexDef = { ddoc: '_design/by-gn', name: 'gn', fields: [{ field: 'g', dir: 'asc' }, { field: 'n', dir: 'asc' }], sqlName: 'ix_big_gn' };
const indexes = [byN, byGN];

beforeAll(async () => {
  engine = pgMango(url(), 'mango_scan');
  await engine.table(T);
  await engine.insertRows(T, rowsOf(docs));
  for (const d of indexes) await engine.createIndex(T, d);
});
afterAll(async () => {
  await engine?.close();
});

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

async function planOf(body: Record<string, unknown>): Promise<PlanNode[]> {
  const { sql, params } = pgFindSql(engine.qualified(T), parseFindRequest(body), indexes);
  const r = await engine.pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
  return nodes((r.rows[0]?.['QUERY PLAN'][0] as { Plan: PlanNode }).Plan);
}

describe('20,000 documents with Mango indexes', () => {
  const cases: Array<[string, Record<string, unknown>, string, (d: (typeof docs)[number]) => boolean]> = [
    ['a range on n', { selector: { n: { $gte: 1000, $lt: 1050 } } }, 'ix_big_n', (d) => d.n >= 1000 && d.n < 1050],
    ['an open range, sorted, limited', { selector: { n: { $gt: 100 } }, sort: [{ n: 'asc' }], limit: 25 }, 'ix_big_n', (d) => d.n > 100],
    ['equality then a range, on a two-field index', { selector: { g: 3, n: { $lt: 500 } } }, 'ix_big_gn', (d) => d.g === 3 && d.n < 500],
    ['an index and a $regex left to RE2', { selector: { n: { $gte: 1000, $lt: 1050 }, label: { $regex: '(?i)^L[0-4]' } } }, 'ix_big_n', (d) => d.n >= 1000 && d.n < 1050 && /^l[0-4]/.test(d.label)],
  ];
  for (const [name, body, sqlName, expected] of cases) {
    test(`${name}: read through ${sqlName}, no sequential scan, few documents examined`, async () => {
      const plan = await planOf(body);
      expect(plan.some((n) => /Index( Only)? Scan$/.test(n['Node Type']) && n['Index Name'] === sqlName)).toBe(true);
      expect(plan.filter((n) => n['Node Type'] === 'Seq Scan')).toEqual([]);
      const r = await engine.find(T, parseFindRequest({ limit: 1000, ...body, execution_stats: true }), indexes);
      const want = docs.filter(expected).sort((a, b) => a.n - b.n || (a._id < b._id ? -1 : 1));
      const limit = typeof body.limit === 'number' ? body.limit : 1000;
      expect(r.docs.map((d) => d._id)).toEqual(want.slice(0, limit).map((d) => d._id)); // the index's order: n, then _id
      expect(r.warning).toBeUndefined();
      expect(r.execution_stats?.total_docs_examined).toBeLessThan(Math.max(100, want.length * 2));
    });
  }
  test('without a covering index, the same engine scans (the contrast)', async () => {
    const plan = await planOf({ selector: { label: 'l42' } });
    expect(plan.some((n) => n['Node Type'] === 'Seq Scan')).toBe(true);
    const r = await engine.find(T, parseFindRequest({ selector: { label: 'l42' }, limit: 1000, execution_stats: true }), indexes);
    expect(r.docs).toHaveLength(200);
    expect(r.execution_stats?.total_docs_examined).toBe(N);
  });
});
