import { beforeAll, describe, expect, test } from 'vitest';
import { compileSelector, explainFind, indexSql, parseFindRequest, runFind } from './index.js';
import { refMatch } from './reference.js';
import { insertDocs, openTestDb, type TestDb } from './testing.js';
import type { IndexDef } from './types.js';

const DOCS: Array<Record<string, unknown>> = [
  { _id: 'd01', n: 1, s: 'apple', arr: [1, 2, 3], o: { p: 'x', q: { r: 1 } }, items: [{ x: 1 }, { x: 5, y: 'a' }] },
  { _id: 'd02', n: 2, s: 'banana', arr: [], o: { p: null } },
  { _id: 'd03', n: null, s: 'Cherry', arr: ['a', 'b'], o: { p: 'y' }, items: [{ x: 7 }] },
  { _id: 'd04', n: -3.5, s: '', arr: [null], items: [] },
  { _id: 'd05', n: '2', s: 'éclair', arr: [[1], { a: 1 }] },
  { _id: 'd06', n: true, s: '😀 smile', arr: 'not an array', o: { p: [1, 2] } },
  { _id: 'd07', n: false, s: '\ue000 private' },
  { _id: 'd08', n: [1, 2], s: 'apricot', o: { p: { deep: true } } },
  { _id: 'd09', n: { a: 1 }, s: 'avocado', arr: [3, 4] },
  { _id: 'd10', n: 0, arr: [1, 1] },
  { _id: 'd11', n: 10, s: 'apple pie', arr: [2, 'x'], o: 'scalar' },
  { _id: 'd12', n: 1e21, s: 'zz' },
  { _id: 'd13' },
  { _id: 'd14', n: 9, 'a.b': 'dotted key', weird: { 'q"uo\\te': 1, '0': 'zero' }, list: [{ k: 'first' }, 'second'] },
];

let db: TestDb;
beforeAll(() => {
  db = openTestDb();
  insertDocs(db, DOCS);
  insertDocs(db, [{ _id: '_design/idx', n: 1, s: 'apple' }]);
  insertDocs(db, [{ _id: 'gone', n: 1, s: 'apple' }], 'd1_docs', { deleted: true });
});

const ids = (sel: Record<string, unknown>, extra: Record<string, unknown> = {}, indexes: IndexDef[] = []): string[] =>
  runFind(db, 'd1_docs', parseFindRequest({ selector: sel, limit: 1000, ...extra }), indexes).docs.map((d) => d._id as string);
const ref = (sel: Record<string, unknown>): string[] => DOCS.filter((d) => refMatch(d, sel) === true).map((d) => d._id as string);

// Each selector's result must equal pouchdb-selector-core's; the expected ids pin the semantics.
const CASES: Array<[string, Record<string, unknown>, string[]]> = [
  ['$eq number', { n: 1 }, ['d01']],
  ['$eq null (missing does not match)', { n: null }, ['d03']],
  ['$eq array', { n: { $eq: [1, 2] } }, ['d08']],
  ['$eq object', { n: { $eq: { a: 1 } } }, ['d09']],
  ['$ne: missing fields collate as null and match', { n: { $ne: 1 } }, ['d02', 'd03', 'd04', 'd05', 'd06', 'd07', 'd08', 'd09', 'd10', 'd11', 'd12', 'd13', 'd14']],
  ['$ne null excludes missing', { n: { $ne: null } }, ['d01', 'd02', 'd04', 'd05', 'd06', 'd07', 'd08', 'd09', 'd10', 'd11', 'd12', 'd14']],
  ['$gt across types', { n: { $gt: 9 } }, ['d05', 'd08', 'd09', 'd11', 'd12']],
  ['$gte null = exists', { n: { $gte: null } }, ['d01', 'd02', 'd03', 'd04', 'd05', 'd06', 'd07', 'd08', 'd09', 'd10', 'd11', 'd12', 'd14']],
  ['$lt', { n: { $lt: 1 } }, ['d03', 'd04', 'd06', 'd07', 'd10']],
  ['$lte string (upper case sorts first)', { s: { $lte: 'apple' } }, ['d01', 'd03', 'd04']],
  ['$gt on strings uses UTF-16 order', { s: { $gt: '\ud83d' } }, ['d06', 'd07']],
  ['$exists true / false', { o: { $exists: false } }, ['d04', 'd05', 'd07', 'd09', 'd10', 'd12', 'd13', 'd14']],
  ['$type', { n: { $type: 'number' } }, ['d01', 'd02', 'd04', 'd10', 'd11', 'd12', 'd14']],
  ['$type boolean/object/array/null/string', { $or: [{ n: { $type: 'boolean' } }, { n: { $type: 'object' } }, { n: { $type: 'null' } }] }, ['d03', 'd06', 'd07', 'd09']],
  ['$in scalar and array fields; null never matches', { arr: { $in: [2, 'a', null] } }, ['d01', 'd03', 'd04', 'd11']],
  ['$in on non-arrays and arrays', { n: { $in: [1, '2', null] } }, ['d01', 'd05', 'd08']],
  ['$nin: missing and null do not match', { n: { $nin: [1, 2] } }, ['d04', 'd05', 'd06', 'd07', 'd09', 'd10', 'd11', 'd12', 'd14']],
  ['$nin on arrays', { arr: { $nin: [1, 'a'] } }, ['d02', 'd04', 'd05', 'd06', 'd09', 'd11']],
  ['$all', { arr: { $all: [1, 2] } }, ['d01']],
  ['$all [] matches any array', { arr: { $all: [] } }, ['d01', 'd02', 'd03', 'd04', 'd05', 'd09', 'd10', 'd11']],
  ['$size', { arr: { $size: 2 } }, ['d03', 'd05', 'd09', 'd10', 'd11']],
  ['$size 0', { arr: { $size: 0 } }, ['d02']],
  ['$mod (integers only, 1e21 is not)', { n: { $mod: [2, 0] } }, ['d02', 'd10', 'd11']],
  ['$mod', { n: { $mod: [3, 0] } }, ['d10', 'd14']],
  ['$regex', { s: { $regex: '^ap' } }, ['d01', 'd08', 'd11']],
  ['$regex unicode', { s: { $regex: '😀|\ue000' } }, ['d06', 'd07']],
  ['$regex on non-strings', { n: { $regex: '2' } }, ['d05']],
  ['$elemMatch on scalars', { arr: { $elemMatch: { $gt: 2, $type: 'number' } } }, ['d01', 'd09']],
  ['$elemMatch on objects', { items: { $elemMatch: { x: { $gt: 4 } } } }, ['d01', 'd03']],
  ['$elemMatch with $or', { items: { $elemMatch: { $or: [{ y: 'a' }, { x: 7 }] } } }, ['d01', 'd03']],
  ['$allMatch (empty array never matches)', { arr: { $allMatch: { $gt: 0 } } }, ['d01', 'd03', 'd05', 'd09', 'd10', 'd11']],
  ['$allMatch objects', { items: { $allMatch: { x: { $lt: 6 } } } }, ['d01']],
  ['$and (distinct fields)', { $and: [{ n: { $gt: 0 } }, { s: { $regex: 'a' } }] }, ['d01', 'd02', 'd05', 'd08', 'd09', 'd11']],
  ['$or', { $or: [{ n: 1 }, { s: 'zz' }] }, ['d01', 'd12']],
  ['$nor', { $nor: [{ n: { $type: 'number' } }, { s: { $exists: true } }] }, ['d13']],
  ['$not', { $not: { n: { $gt: 1 } } }, ['d01', 'd03', 'd04', 'd06', 'd07', 'd10', 'd13']],
  ['$not with $in', { $not: { arr: { $in: [1] } } }, ['d02', 'd03', 'd04', 'd05', 'd06', 'd07', 'd08', 'd09', 'd11', 'd12', 'd13', 'd14']],
  ['dotted path', { 'o.q.r': 1 }, ['d01']],
  ['nested object shorthand', { o: { p: 'y' } }, ['d03']],
  ['nested with operators', { o: { p: { $in: ['x', 'y'] } } }, ['d01', 'd03']],
  ['path through a scalar is missing', { 'o.p': { $exists: true } }, ['d01', 'd02', 'd03', 'd06', 'd08']],
  ['_id', { _id: { $gt: 'd12' } }, ['d13', 'd14']],
  ['empty selector', {}, DOCS.map((d) => d._id as string)],
];

describe('operators match pouchdb-selector-core', () => {
  for (const [name, sel, expected] of CASES) {
    test(name, () => {
      expect(ids(sel)).toEqual(expected);
      expect(ref(sel)).toEqual(expected);
    });
  }
});

describe('CouchDB operators beyond PouchDB', () => {
  test('escaped dots, array indexes, odd key characters', () => {
    expect(ids({ 'a\\.b': 'dotted key' })).toEqual(['d14']);
    expect(ids({ 'arr.0': 1 })).toEqual(['d01', 'd10']);
    expect(ids({ 'list.0.k': 'first' })).toEqual(['d14']);
    expect(ids({ 'weird.q"uo\\te': 1 })).toEqual(['d14']);
    expect(ids({ 'weird.0': 'zero' })).toEqual(['d14']);
  });
  test('field-level $not / $or, $keyMapMatch, $beginsWith', () => {
    expect(ids({ n: { $not: { $lte: 1 } } })).toEqual(ref({ $not: { n: { $lte: 1 } } }));
    expect(ids({ n: { $or: [{ $eq: 1 }, { $eq: 10 }] } })).toEqual(['d01', 'd11']);
    expect(ids({ weird: { $keyMapMatch: { $regex: 'uo' } } })).toEqual(['d14']);
    expect(ids({ o: { $keyMapMatch: { $eq: 'q' } } })).toEqual(['d01']);
    expect(ids({ s: { $beginsWith: 'ap' } })).toEqual(['d01', 'd08', 'd11']);
    expect(ids({ s: { $beginsWith: '' } }).length).toBe(11);
  });
  test('$elemMatch applies operators to every element (CouchDB); PouchDB mis-handles arrays starting with an object', () => {
    expect(ids({ arr: { $elemMatch: { $gt: 2 } } })).toEqual(['d01', 'd03', 'd05', 'd09', 'd11']);
    expect(ref({ arr: { $elemMatch: { $gt: 2 } } })).toEqual(['d01', 'd03', 'd09', 'd11']);
  });
  test('compileSelector gives a WHERE fragment for the changes feed', () => {
    const { sql, params } = compileSelector({ s: { $regex: '^ap' }, n: { $lt: 5 } });
    expect(sql).not.toContain('ap');
    const rows = db.prepare(`SELECT id FROM d1_docs WHERE deleted = 0 AND ${sql} ORDER BY id`).all(...params) as Array<{ id: string }>;
    expect(rows.map((r) => r.id)).toEqual(['_design/idx', 'd01']);
  });
});

describe('results', () => {
  test('design docs and tombstones are excluded', () => {
    expect(ids({ n: 1 })).toEqual(['d01']);
    expect(ids({ _id: { $gt: null } })).not.toContain('_design/idx');
    expect(ids({ _id: { $gt: null } })).not.toContain('gone');
  });
  test('fields projection (dotted paths, _id/_rev on request, missing fields left out)', () => {
    const r = runFind(db, 'd1_docs', parseFindRequest({ selector: { _id: 'd01' }, fields: ['_id', 'o.q.r', 'n', 'nope', 'arr.1'] }), []);
    expect(r.docs).toEqual([{ _id: 'd01', o: { q: { r: 1 } }, n: 1, arr: { 1: 2 } }]);
    const full = runFind(db, 'd1_docs', parseFindRequest({ selector: { _id: 'd02' } }), []).docs[0];
    expect(Object.keys(full ?? {}).slice(0, 2)).toEqual(['_id', '_rev']);
  });
  test('sort: mixed types in collation order, missing as null, ties by _id; desc reverses', () => {
    const asc = ids({}, { sort: [{ n: 'asc' }] });
    expect(asc).toEqual(['d03', 'd13', 'd07', 'd06', 'd04', 'd10', 'd01', 'd02', 'd14', 'd11', 'd12', 'd05', 'd08', 'd09']);
    expect(ids({}, { sort: [{ n: 'desc' }] })).toEqual([...asc].reverse());
    const r = runFind(db, 'd1_docs', parseFindRequest({ selector: {}, sort: ['n'] }), []);
    expect(r.warning).toMatch(/No matching index found/);
    expect(r.warning).toMatch(/sort is not covered/);
  });
  test('bookmark paging over more than 2 pages, with and without sort', () => {
    for (const extra of [{}, { sort: [{ s: 'desc' }] }, { sort: [{ n: 'asc' }, { s: 'desc' }] }]) {
      const all = ids({}, extra);
      const seen: string[] = [];
      let bookmark: string | undefined;
      let pages = 0;
      for (;;) {
        const r = runFind(db, 'd1_docs', parseFindRequest({ selector: {}, limit: 4, ...extra, ...(bookmark ? { bookmark } : {}) }), []);
        if (r.docs.length === 0) {
          expect(r.bookmark).toBe('nil');
          break;
        }
        pages++;
        seen.push(...r.docs.map((d) => d._id as string));
        bookmark = r.bookmark;
      }
      expect(pages).toBe(4);
      expect(seen).toEqual(all);
    }
    expect(() => runFind(db, 'd1_docs', parseFindRequest({ selector: {}, bookmark: 'garbage' }), [])).toThrow(/invalid bookmark/);
  });
  test('limit, skip, conflicts, execution_stats', () => {
    expect(ids({}, { limit: 2, skip: 3 })).toEqual(['d04', 'd05']);
    db.prepare(`INSERT INTO d1_docs VALUES ('cf', '2-b', 0, 999, '{"c":1}', ?)`).run(JSON.stringify([{ pos: 1, ids: ['a', { status: 'available' }, [['b', { status: 'available' }, []], ['a2', { status: 'available' }, []]]] }]));
    const r = runFind(db, 'd1_docs', parseFindRequest({ selector: { c: 1 }, conflicts: true, execution_stats: true }), []);
    expect(r.docs).toEqual([{ _id: 'cf', _rev: '2-b', c: 1, _conflicts: ['2-a2'] }]);
    expect(r.execution_stats).toMatchObject({ results_returned: 1, total_keys_examined: 0 });
    expect(r.execution_stats?.total_docs_examined).toBeGreaterThanOrEqual(15);
    db.prepare(`DELETE FROM d1_docs WHERE id = 'cf'`).run();
  });
});

describe('indexes', () => {
  const byN: IndexDef = { ddoc: '_design/a', name: 'by-n', fields: [{ field: 'n', dir: 'asc' }], sqlName: 'ix_n' };
  const byS: IndexDef = { ddoc: '_design/b', name: 'by-s', fields: [{ field: 's', dir: 'desc' }], sqlName: 'ix_s' };
  const partial: IndexDef = { ddoc: '_design/c', name: 'partial', fields: [{ field: 's', dir: 'asc' }], partial_filter_selector: { n: { $type: 'number' }, s: { $regex: 'a' } }, sqlName: 'ix_p' };
  const partialSub: IndexDef = { ddoc: '_design/c', name: 'partial-sub', fields: [{ field: 's', dir: 'asc' }], partial_filter_selector: { arr: { $in: [1] } }, sqlName: 'ix_ps' };
  const all = [byN, byS, partial, partialSub];
  beforeAll(() => {
    for (const d of all) for (const s of indexSql('d1_docs', d)) db.exec(s);
  });
  const explain = (body: Record<string, unknown>) => explainFind(db, 'd1_docs', 'db', parseFindRequest(body), all);

  test('index DDL', () => {
    expect(indexSql('d1_docs', byN)).toEqual([`CREATE INDEX IF NOT EXISTS "ix_n" ON "d1_docs" (hearth_ck(body -> '$."n"') ASC, hearth_idk(id) ASC) WHERE deleted = 0 AND substr(id, 1, 8) <> '_design/'`]);
    expect(indexSql('d1_docs', partial)[0]).toMatch(/AND \(json_type\(body -> '\$\."n"'\) IN \('integer', 'real'\) AND hearth_regexp\(CAST\(X'61' AS TEXT\), body -> '\$\."s"'\)\)$/);
    expect(indexSql('d1_docs', partialSub)[0]).toMatch(/<> '_design\/'$/);
  });
  test('the selector picks the index; SQLite uses it for the range and the order', () => {
    const e = explain({ selector: { n: { $gt: 1 } } });
    expect(e.index.name).toBe('by-n');
    expect(e.plan?.join('\n')).toMatch(/USING INDEX ix_n/);
    expect(e.plan?.join('\n')).not.toMatch(/TEMP B-TREE/);
    expect(ids({ n: { $gt: 1 } }, {}, all)).toEqual(['d02', 'd14', 'd11', 'd12', 'd05', 'd08', 'd09']);
  });
  test('sort picks a covering index (reversed direction too)', () => {
    const e = explain({ selector: {}, sort: [{ s: 'asc' }] });
    expect(e.index.name).toBe('by-s');
    expect(e.plan?.join('\n')).toMatch(/USING INDEX ix_s/);
    const r = runFind(db, 'd1_docs', parseFindRequest({ selector: {}, sort: [{ s: 'asc' }] }), all);
    expect(r.warning).toBeUndefined();
    expect(r.docs.map((d) => d._id)).toEqual(ids({}, { sort: [{ s: 'asc' }] }));
  });
  test('no usable index: full scan with a warning; use_index unknown or unusable: warning', () => {
    expect(explain({ selector: { o: 1 } }).index.name).toBe('_all_docs');
    const r = runFind(db, 'd1_docs', parseFindRequest({ selector: { n: 1 }, use_index: 'nope' }), all);
    expect(r.warning).toBe('_design/nope was not used because it does not exist.');
    expect(r.docs.map((d) => d._id)).toEqual(['d01']);
    const r2 = runFind(db, 'd1_docs', parseFindRequest({ selector: { n: 1 }, use_index: ['_design/b', 'by-s'] }), all);
    expect(r2.warning).toMatch(/_design\/b, by-s was not used because it does not contain a valid index/);
    expect(r2.docs.map((d) => d._id)).toEqual(['d01']);
  });
  test('partial indexes are used only through use_index, and their filter applies', () => {
    expect(explain({ selector: { s: { $gt: '' } } }).index.name).not.toBe('partial');
    const e = explain({ selector: { s: { $gt: '' } }, use_index: ['c', 'partial'] });
    expect(e.index.name).toBe('partial');
    expect(e.plan?.join('\n')).toMatch(/USING INDEX ix_p/);
    expect(ids({ s: { $gt: '' } }, { use_index: ['c', 'partial'] }, all)).toEqual(['d01', 'd11', 'd02']); // ordered by the index (s)
    expect(ids({}, { use_index: ['c', 'partial-sub'] }, all)).toEqual(['d10', 'd01']); // d10 has no s: sorts as null
  });
});
