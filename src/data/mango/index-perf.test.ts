import { expect, test } from 'vitest';
import { explainFind, indexSql, parseFindRequest, runFind } from './index.js';
import { insertDocs, openTestDb } from './testing.js';
import type { IndexDef } from './types.js';

test('20k documents: the index is used, a range query is correct, p50 reported', () => {
  const db = openTestDb('big_docs');
  const docs = Array.from({ length: 20_000 }, (_, i) => ({ _id: `doc${String(i).padStart(6, '0')}`, n: (i * 7919) % 20_000, g: i % 10, label: `l${i % 100}` }));
  insertDocs(db, docs, 'big_docs');
  const def: IndexDef = { ddoc: '_design/by-n', name: 'n', fields: [{ field: 'n', dir: 'asc' }], sqlName: 'ix_big_n' };
  for (const s of indexSql('big_docs', def)) db.exec(s);
  const body = { selector: { n: { $gte: 1000, $lt: 1050 } }, limit: 1000 };

  const e = explainFind(db, 'big_docs', 'big', parseFindRequest(body), [def]);
  expect(e.index.name).toBe('n');
  expect(e.plan?.join('\n')).toMatch(/USING INDEX ix_big_n/);

  const r = runFind(db, 'big_docs', parseFindRequest({ ...body, execution_stats: true }), [def]);
  const expected = docs.filter((d) => d.n >= 1000 && d.n < 1050).sort((a, b) => a.n - b.n);
  expect(r.docs.map((d) => d._id)).toEqual(expected.map((d) => d._id));
  expect(r.warning).toBeUndefined();
  expect(r.execution_stats?.total_docs_examined).toBeLessThan(100);

  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const lo = (i * 97) % 19_000;
    const t = performance.now();
    runFind(db, 'big_docs', parseFindRequest({ selector: { n: { $gte: lo, $lt: lo + 50 } }, limit: 1000 }), [def]);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const t0 = performance.now();
  const scan = runFind(db, 'big_docs', parseFindRequest({ selector: { label: 'l42' }, limit: 1000 }), [def]);
  const scanMs = performance.now() - t0;
  expect(scan.docs.length).toBe(200);
  console.log(`indexed find over 20k docs (50 results): p50 ${times[100]?.toFixed(2)} ms, p95 ${times[190]?.toFixed(2)} ms; full scan: ${scanMs.toFixed(1)} ms`);
  db.close();
});
