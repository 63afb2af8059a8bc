/**
 * The Mango conformance suite: every engine (test/helpers/mango-engines.ts) gives the same answers to the same
 * _find requests on the same documents: operators with pouchdb-selector-core's semantics, CouchDB's beyond PouchDB,
 * projection, sort, bookmarks, limits, conflicts, execution_stats, the changes-feed fragment, index choice,
 * use_index and partial indexes read in order through the engine's SQL index.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseFindRequest } from '../../src/data/mango/index.js';
import { refMatch } from '../../src/data/mango/reference.js';
import type { IndexDef } from '../../src/data/mango/types.js';
import { rowsOf, type MangoEngine } from './mango-engines.js';

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

export function describeMango(name: string, make: () => MangoEngine): void {
describe(`Mango on ${name}`, () => {
const T = 'd1_docs';
let engine: MangoEngine;
beforeAll(async () => {
  engine = make();
  await engine.table(T);
  await engine.insertRows(T, rowsOf(DOCS));
  await engine.insertRows(T, rowsOf([{ _id: '_design/idx', n: 1, s: 'apple' }]));
  await engine.insertRows(T, rowsOf([{ _id: 'gone', n: 1, s: 'apple' }], { deleted: true }));
});
afterAll(async () => {
  await engine?.close();
});
const find = (body: Record<string, unknown>, indexes: IndexDef[] = []) => engine.find(T, parseFindRequest(body), indexes);
const ids = async (sel: Record<string, unknown>, extra: Record<string, unknown> = {}, indexes: IndexDef[] = []): Promise<string[]> =>
  (await find({ selector: sel, limit: 1000, ...extra }, indexes)).docs.map((d) => d._id as string);

describe('operators match pouchdb-selector-core', () => {
  for (const [name, sel, expected] of CASES) {
    test(name, async () => {
      expect(await ids(sel)).toEqual(expected);
      expect(ref(sel)).toEqual(expected);
    });
  }
});

describe('CouchDB operators beyond PouchDB', () => {
  test('escaped dots, array indexes, odd key characters', async () => {
    expect(await ids({ 'a\\.b': 'dotted key' })).toEqual(['d14']);
    expect(await ids({ 'arr.0': 1 })).toEqual(['d01', 'd10']);
    expect(await ids({ 'list.0.k': 'first' })).toEqual(['d14']);
    expect(await ids({ 'weird.q"uo\\te': 1 })).toEqual(['d14']);
    expect(await ids({ 'weird.0': 'zero' })).toEqual(['d14']);
    expect(await ids({ 'arr.00': 1 })).toEqual([]); // not an array index: a key of an object
  });
  test('field-level $not / $or, $keyMapMatch, $beginsWith', async () => {
    expect(await ids({ n: { $not: { $lte: 1 } } })).toEqual(ref({ $not: { n: { $lte: 1 } } }));
    expect(await ids({ n: { $or: [{ $eq: 1 }, { $eq: 10 }] } })).toEqual(['d01', 'd11']);
    expect(await ids({ weird: { $keyMapMatch: { $regex: 'uo' } } })).toEqual(['d14']);
    expect(await ids({ o: { $keyMapMatch: { $eq: 'q' } } })).toEqual(['d01']);
    expect(await ids({ s: { $beginsWith: 'ap' } })).toEqual(['d01', 'd08', 'd11']);
    expect((await ids({ s: { $beginsWith: '' } })).length).toBe(11);
  });
  test('$regex beyond the syntax every SQL engine shares (flags, \\b, classes), alone and under $not / $or / $elemMatch', async () => {
    expect(await ids({ s: { $regex: '(?i)^A' } })).toEqual(['d01', 'd08', 'd09', 'd11']);
    expect(await ids({ s: { $regex: '\\bpie\\b' } })).toEqual(['d11']);
    expect(await ids({ s: { $not: { $regex: '(?i)^a' } }, n: { $type: 'number' } })).toEqual(['d02', 'd04', 'd10', 'd12', 'd14']);
    expect(await ids({ $or: [{ s: { $regex: '(?i)^c' } }, { n: 10 }] })).toEqual(['d03', 'd11']);
    expect(await ids({ items: { $elemMatch: { y: { $regex: '(?i)A' } } } })).toEqual(['d01']);
    expect(await engine.count(T, { s: { $regex: '(?i)^A' }, n: { $gt: 1 } }, [])).toBe(3);
    const paged: string[] = [];
    let bookmark: string | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await find({ selector: { s: { $regex: '(?i)[aeiou]' } }, limit: 3, ...(bookmark ? { bookmark } : {}) });
      if (r.docs.length === 0) break;
      paged.push(...r.docs.map((d) => d._id as string));
      bookmark = r.bookmark;
    }
    expect(paged).toEqual(['d01', 'd02', 'd03', 'd05', 'd06', 'd07', 'd08', 'd09', 'd11']);
    expect(await ids({ s: { $regex: '(?i)[aeiou]' } })).toEqual(paged);
    expect(await ids({ s: { $regex: '(?i)[aeiou]' } }, { skip: 2, limit: 2 })).toEqual(paged.slice(2, 4));
  });
  test('$elemMatch applies operators to every element (CouchDB); PouchDB mis-handles arrays starting with an object', async () => {
    expect(await ids({ arr: { $elemMatch: { $gt: 2 } } })).toEqual(['d01', 'd03', 'd05', 'd09', 'd11']);
    expect(ref({ arr: { $elemMatch: { $gt: 2 } } })).toEqual(['d01', 'd03', 'd09', 'd11']);
  });
  test('the changes feed selector: a WHERE fragment over the docs table, values bound as parameters', async () => {
    expect(await engine.selectorIds(T, { s: { $regex: '^ap' }, n: { $lt: 5 } })).toEqual(['_design/idx', 'd01']);
    expect(await engine.selectorIds(T, { arr: { $in: [1, 'a'] }, o: { $exists: true } })).toEqual(['d01', 'd03']);
  });
});

describe('results', () => {
  test('design docs and tombstones are excluded', async () => {
    expect(await ids({ n: 1 })).toEqual(['d01']);
    expect(await ids({ _id: { $gt: null } })).not.toContain('_design/idx');
    expect(await ids({ _id: { $gt: null } })).not.toContain('gone');
  });
  test('fields projection (dotted paths, _id/_rev on request, missing fields left out)', async () => {
    const r = await find({ selector: { _id: 'd01' }, fields: ['_id', 'o.q.r', 'n', 'nope', 'arr.1'] });
    expect(r.docs).toEqual([{ _id: 'd01', o: { q: { r: 1 } }, n: 1, arr: { 1: 2 } }]);
    const full = (await find({ selector: { _id: 'd02' } })).docs[0];
    expect(Object.keys(full ?? {}).slice(0, 2)).toEqual(['_id', '_rev']);
  });
  test('sort: mixed types in collation order, missing as null, ties by _id; desc reverses', async () => {
    const asc = await ids({}, { sort: [{ n: 'asc' }] });
    expect(asc).toEqual(['d03', 'd13', 'd07', 'd06', 'd04', 'd10', 'd01', 'd02', 'd14', 'd11', 'd12', 'd05', 'd08', 'd09']);
    expect(await ids({}, { sort: [{ n: 'desc' }] })).toEqual([...asc].reverse());
    const r = await find({ selector: {}, sort: ['n'] });
    expect(r.warning).toMatch(/No matching index found/);
    expect(r.warning).toMatch(/sort is not covered/);
  });
  test('bookmark paging over more than 2 pages, with and without sort', async () => {
    for (const extra of [{}, { sort: [{ s: 'desc' }] }, { sort: [{ n: 'asc' }, { s: 'desc' }] }]) {
      const all = await ids({}, extra);
      const seen: string[] = [];
      let bookmark: string | undefined;
      let pages = 0;
      for (;;) {
        const r = await find({ selector: {}, limit: 4, ...extra, ...(bookmark ? { bookmark } : {}) });
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
    await expect(find({ selector: {}, bookmark: 'garbage' })).rejects.toThrow(/invalid bookmark/);
  });
  test('limit, skip, conflicts, execution_stats, count', async () => {
    expect(await ids({}, { limit: 2, skip: 3 })).toEqual(['d04', 'd05']);
    expect(await ids({}, { limit: 0 })).toEqual([]);
    const tree = [{ pos: 1, ids: ['a', { status: 'available' }, [['b', { status: 'available' }, []], ['a2', { status: 'available' }, []]]] }];
    await engine.insertRows(T, [{ id: 'cf', rev: '2-b', deleted: false, body: { c: 1 }, tree }]);
    const r = await find({ selector: { c: 1 }, conflicts: true, execution_stats: true });
    expect(r.docs).toEqual([{ _id: 'cf', _rev: '2-b', c: 1, _conflicts: ['2-a2'] }]);
    expect(r.execution_stats).toMatchObject({ results_returned: 1, total_keys_examined: 0 });
    expect(r.execution_stats?.total_docs_examined).toBeGreaterThanOrEqual(15);
    await engine.deleteRow(T, 'cf');
    expect(await engine.count(T, { n: { $type: 'number' } }, [])).toBe(7);
    expect(await engine.count(T, {}, [])).toBe(DOCS.length);
  });
});

describe('indexes', () => {
  const byN: IndexDef = { ddoc: '_design/a', name: 'by-n', fields: [{ field: 'n', dir: 'asc' }], sqlName: 'ix_n' };
  const byS: IndexDef = { ddoc: '_design/b', name: 'by-s', fields: [{ field: 's', dir: 'desc' }], sqlName: 'ix_s' };
  const partial: IndexDef = { ddoc: '_design/c', name: 'partial', fields: [{ field: 's', dir: 'asc' }], partial_filter_selector: { n: { $type: 'number' }, s: { $regex: 'a' } }, sqlName: 'ix_p' };
  const partialSub: IndexDef = { ddoc: '_design/c', name: 'partial-sub', fields: [{ field: 's', dir: 'asc' }, { field: 'n', dir: 'asc' }], partial_filter_selector: { arr: { $in: [1] } }, sqlName: 'ix_ps' };
  const partialRe: IndexDef = { ddoc: '_design/c', name: 'partial-re', fields: [{ field: 's', dir: 'asc' }, { field: 'n', dir: 'asc' }], partial_filter_selector: { s: { $regex: '(?i)^A' } }, sqlName: 'ix_pr' };
  const partialMixed: IndexDef = { ddoc: '_design/c', name: 'partial-mixed', fields: [{ field: 'n', dir: 'desc' }], partial_filter_selector: { arr: { $in: [1, 'a'] }, n: { $type: 'number' } }, sqlName: 'ix_pm' };
  const all = [byN, byS, partial, partialSub, partialRe, partialMixed];
  beforeAll(async () => {
    for (const d of all) await engine.createIndex(T, d);
  });
  const explain = (body: Record<string, unknown>) => engine.explain(T, parseFindRequest(body), all);

  test('the selector picks the index; the engine reads it for the range and the order', async () => {
    const e = await explain({ selector: { n: { $gt: 1 } } });
    expect(e.index.name).toBe('by-n');
    expect(engine.readsIndexInOrder(e.plan ?? [], 'ix_n')).toBe(true);
    expect(await ids({ n: { $gt: 1 } }, {}, all)).toEqual(['d02', 'd14', 'd11', 'd12', 'd05', 'd08', 'd09']);
    const stats = (await find({ selector: { n: { $gt: 1 } }, execution_stats: true }, all)).execution_stats;
    expect(stats).toMatchObject({ results_returned: 7, total_docs_examined: 7, total_keys_examined: 7 });
    expect(await engine.count(T, { n: { $gt: 1 } }, all)).toBe(7);
  });
  test('sort picks a covering index (reversed direction too)', async () => {
    const e = await explain({ selector: {}, sort: [{ s: 'asc' }] });
    expect(e.index.name).toBe('by-s');
    expect(engine.readsIndexInOrder(e.plan ?? [], 'ix_s')).toBe(true);
    const r = await find({ selector: {}, sort: [{ s: 'asc' }] }, all);
    expect(r.warning).toBeUndefined();
    expect(r.docs.map((d) => d._id)).toEqual(await ids({}, { sort: [{ s: 'asc' }] }));
  });
  test('no usable index: full scan with a warning; use_index unknown or unusable: warning', async () => {
    expect((await explain({ selector: { o: 1 } })).index.name).toBe('_all_docs');
    const r = await find({ selector: { n: 1 }, use_index: 'nope' }, all);
    expect(r.warning).toBe('_design/nope was not used because it does not exist.');
    expect(r.docs.map((d) => d._id)).toEqual(['d01']);
    const r2 = await find({ selector: { n: 1 }, use_index: ['_design/b', 'by-s'] }, all);
    expect(r2.warning).toMatch(/_design\/b, by-s was not used because it does not contain a valid index/);
    expect(r2.docs.map((d) => d._id)).toEqual(['d01']);
  });
  test('partial indexes are used only through use_index, and their filter applies', async () => {
    expect((await explain({ selector: { s: { $gt: '' } } })).index.name).not.toBe('partial');
    const e = await explain({ selector: { s: { $gt: '' } }, use_index: ['c', 'partial'] });
    expect(e.index.name).toBe('partial');
    expect(engine.readsIndexInOrder(e.plan ?? [], 'ix_p')).toBe(true);
    expect(await ids({ s: { $gt: '' } }, { use_index: ['c', 'partial'] }, all)).toEqual(['d01', 'd11', 'd02']); // ordered by the index (s)
    expect(await ids({}, { use_index: ['c', 'partial-sub'] }, all)).toEqual(['d10', 'd01']); // d10 has no s: sorts as null
    expect(await ids({ n: { $gt: 1 } }, { use_index: ['c', 'partial-re'] }, all)).toEqual(['d11', 'd08', 'd09']); // a partial $regex any engine may leave to RE2
    expect(await ids({ n: { $lt: 5 } }, { use_index: ['c', 'partial-mixed'] }, all)).toEqual(['d01', 'd10']); // $in with a subquery, $type inlinable
  });
});

describe('indexed values of any length (a B-tree entry holds ~2.7 kB on PostgreSQL)', () => {
  const TL = 'd2_docs';
  // pseudo-random text (10 kB of UTF-8): PostgreSQL compresses index entries, repeated text would fit without a bound
  const noise = (seed: number, n: number, base = 0x61, span = 26): string => {
    let x = seed;
    let out = '';
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      out += String.fromCharCode(base + ((x >>> 16) % span));
    }
    return out;
  };
  const A = `a${noise(1, 9_999)}`;
  const B = `b${noise(2, 9_999)}`;
  const LONG: Array<Record<string, unknown>> = [
    { _id: 'l1', s: `${A}1`, n: 1 }, { _id: 'l2', s: `${A}2`, n: 2 }, { _id: 'l3', s: B, n: 3 }, { _id: 'l4', s: 'a', n: 4 },
    { _id: 'l5', s: 'b', n: 5 }, { _id: 'l6', s: noise(3, 3_400, 0x4e00, 20_000), n: 6 }, { _id: 'l7', s: `a{${noise(4, 9_998)}`, n: 7 },
  ];
  const byS: IndexDef = { ddoc: '_design/l', name: 'by-s', fields: [{ field: 's', dir: 'asc' }], sqlName: 'ix_ls' };
  const bySN: IndexDef = { ddoc: '_design/l', name: 'by-s-n', fields: [{ field: 's', dir: 'asc' }, { field: 'n', dir: 'asc' }], sqlName: 'ix_lsn' };
  const both = [byS, bySN];
  const longIds = async (sel: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    (await engine.find(TL, parseFindRequest({ selector: sel, limit: 1000, ...extra }), both)).docs.map((d) => d._id as string);
  beforeAll(async () => {
    await engine.table(TL);
    await engine.insertRows(TL, rowsOf(LONG.slice(0, 3)));
    for (const d of both) await engine.createIndex(TL, d); // over long values already there, then written after it
    await engine.insertRows(TL, rowsOf(LONG.slice(3)));
  });
  const inOrder = ['l4', 'l1', 'l2', 'l7', 'l5', 'l3', 'l6'];
  test('equality, ranges and $beginsWith on 10 kB strings give exact results, through the index', async () => {
    const e = await engine.explain(TL, parseFindRequest({ selector: { s: { $gt: `${A}1` } } }), both);
    expect(e.index.name).toBe('by-s');
    expect(engine.readsIndexInOrder(e.plan ?? [], 'ix_ls')).toBe(true);
    expect(await longIds({ s: `${A}2` })).toEqual(['l2']);
    expect(await longIds({ s: A })).toEqual([]);
    expect(await longIds({ s: { $gt: `${A}1` } })).toEqual(['l2', 'l7', 'l5', 'l3', 'l6']);
    expect(await longIds({ s: { $gte: `${A}1` } })).toEqual(['l1', 'l2', 'l7', 'l5', 'l3', 'l6']);
    expect(await longIds({ s: { $lt: `${A}2` } })).toEqual(['l4', 'l1']);
    expect(await longIds({ s: { $lte: `${A}2` } })).toEqual(['l4', 'l1', 'l2']);
    expect(await longIds({ s: { $gt: 'a', $lt: B } })).toEqual(['l1', 'l2', 'l7', 'l5']);
    expect(await longIds({ s: { $beginsWith: A.slice(0, 9_000) } })).toEqual(['l1', 'l2']);
    expect(await longIds({ s: { $ne: `${A}1` } })).toEqual(['l2', 'l3', 'l4', 'l5', 'l6', 'l7']);
    expect(await longIds({ s: { $gte: `${A}1` }, n: { $lte: 2 } }, { use_index: ['l', 'by-s-n'] })).toEqual(['l1', 'l2']);
    expect(await engine.count(TL, { s: { $gt: `${A}1` } }, both)).toBe(5);
  });
  test('sorted through the index, and paged by bookmark, in collation order', async () => {
    expect(await longIds({ s: { $gte: null } }, { sort: [{ s: 'asc' }] })).toEqual(inOrder);
    expect(await longIds({ s: { $gte: null } }, { sort: [{ s: 'desc' }] })).toEqual([...inOrder].reverse());
    const seen: string[] = [];
    let bookmark: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await engine.find(TL, parseFindRequest({ selector: { s: { $gte: null } }, sort: [{ s: 'asc' }], limit: 2, ...(bookmark ? { bookmark } : {}) }), both);
      if (r.docs.length === 0) break;
      seen.push(...r.docs.map((d) => d._id as string));
      bookmark = r.bookmark;
    }
    expect(seen).toEqual(inOrder);
  });
});
});
}
