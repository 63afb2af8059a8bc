/**
 * Property test: SQL results equal pouchdb-selector-core's on random documents
 * and selectors (same id sets; same order when sorting; bookmark pages
 * concatenate to the full result).
 *
 * Generators stay inside the domain where PouchDB is well-defined and agrees
 * with CouchDB (see selector.ts / path.ts for the documented divergences):
 * path prefixes ("o", "o.q") are objects, truthy scalars or missing, never
 * falsy; implicit equality only at the top level (PouchDB reads nested falsy
 * literals as "match all"); $and only at the top level (PouchDB's merge is
 * lossy, also inside $not: at most one bound of each side per field); no array operand for $ne (PouchDB reads {$ne: [x]} as {$ne: x}); $elemMatch/$allMatch use operators on "arr" (scalars) and field
 * conditions on "items" (objects); regexes from a subset both engines read alike (with \b, which the PostgreSQL
 * engine leaves to RE2 in JS). Engines whose strings cannot hold U+0000 or lone surrogates (jsonb) get documents
 * without them (selectors keep them); the reference sees documents and selectors as the engine stores them
 * (jsonb's key order).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseFindRequest } from '../../src/data/mango/index.js';
import { refMatch, refSort } from '../../src/data/mango/reference.js';
import { rowsOf, type MangoEngine } from './mango-engines.js';

type J = unknown;
const str = fc.string({ unit: fc.constantFrom('a', 'b', 'A', 'é', '\u0000', '\ue000', '\uffff', '😀', '\ud83d', ' '), maxLength: 4 });
/** A JSON value without U+0000 and lone surrogates (for engines whose strings cannot hold them). */
function storable(v: J): J {
  // eslint-disable-next-line no-control-regex -- U+0000 is what jsonb refuses
  if (typeof v === 'string') return v.replace(/\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '');
  if (Array.isArray(v)) return v.map(storable);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, storable(x)]));
  return v;
}
const num = fc.oneof(fc.integer({ min: -4, max: 4 }), fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), fc.constantFrom(-0, 0.5, -2.5, 1e21));
const common = fc.constantFrom<J>(null, true, false, 0, 1, -1, 2.5, 'a', 'b', 'A', '', 'é', '😀', '\ue000');
const scalar: fc.Arbitrary<J> = fc.oneof(common, common, fc.boolean(), num, str);
const small: fc.Arbitrary<J> = fc.oneof({ weight: 5, arbitrary: scalar }, { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) }, { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('a', 'b'), scalar, { maxKeys: 2 }) });
const truthy = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.constantFrom('s', true));
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 4 });

const docArb = fc.record(
  {
    n: opt(small),
    s: opt(fc.oneof(str, str, scalar)),
    arr: opt(fc.oneof(fc.array(scalar, { maxLength: 4 }), scalar)),
    items: opt(fc.array(fc.record({ x: opt(scalar), y: opt(scalar) }, { requiredKeys: [] }), { maxLength: 3 })),
    o: opt(fc.oneof(truthy, fc.record({ p: opt(small), q: opt(fc.oneof(truthy, fc.record({ r: opt(scalar) }, { requiredKeys: [] }))) }, { requiredKeys: [] }))),
  },
  { requiredKeys: [] },
);

const FIELDS = ['n', 's', 'arr', 'o.p', 'o.q.r', 'missing', '_id'];
const field = fc.constantFrom(...FIELDS);
// No `.` or negated classes: RE2 (like CouchDB's PCRE) matches code points, JS RegExp
// without the u flag matches UTF-16 code units, so they differ on astral characters.
const REGEXES = ['a', '^a', 'b$', 'a|b', '[ab]+', '^$', 'é', '😀', 'A*b', '^(a|é)+$', 'b{2}', '\\ba', 'a\\b'];

/** Operator objects, applicable to a field or (inside $elemMatch) to an element. */
const opObj: fc.Arbitrary<Record<string, J>> = fc.oneof(
  fc.record({ op: fc.constantFrom('$eq', '$gt', '$gte', '$lt', '$lte'), v: small }).map(({ op, v }) => ({ [op]: v })),
  fc.oneof(scalar, small.filter((v) => !Array.isArray(v))).map((v) => ({ $ne: v })), // PouchDB reads $ne: [x] as $ne: x
  fc.boolean().map((b) => ({ $exists: b })),
  fc.constantFrom('null', 'boolean', 'number', 'string', 'array', 'object').map((t) => ({ $type: t })),
  fc.record({ op: fc.constantFrom('$in', '$nin', '$all'), v: fc.array(small, { maxLength: 3 }) }).map(({ op, v }) => ({ [op]: v })),
  fc.integer({ min: 0, max: 3 }).map((n) => ({ $size: n })),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: -3, max: 3 })).map(([d, r]) => ({ $mod: [d, r] })),
  fc.constantFrom(...REGEXES).map((r) => ({ $regex: r })),
  fc.tuple(fc.constantFrom('$gt', '$gte'), small, fc.constantFrom('$ne', '$lt', '$lte'), scalar).map(([a, x, b, y]) => ({ [a]: x, [b]: y })),
);

const fieldCond: fc.Arbitrary<Record<string, J>> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(field, opObj).map(([f, o]) => ({ [f]: o })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('$elemMatch', '$allMatch'), opObj).map(([op, o]) => ({ arr: { [op]: o } })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('$elemMatch', '$allMatch'), fc.constantFrom('x', 'y'), opObj).map(([op, f, o]) => ({ items: { [op]: { [f]: o } } })) },
);

/** Selectors whose nested levels only use explicit operators. */
const nested: fc.Arbitrary<Record<string, J>> = fc.letrec<{ s: Record<string, J> }>((tie) => ({
  s: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fieldCond,
    fc.array(tie('s'), { minLength: 1, maxLength: 3 }).map((c) => ({ $or: c })),
    fc.array(tie('s'), { minLength: 1, maxLength: 2 }).map((c) => ({ $nor: c })),
    tie('s').map((c) => ({ $not: c })),
  ),
})).s;

const topLevel: fc.Arbitrary<Record<string, J>> = fc.oneof(
  nested,
  fc.tuple(field, scalar).map(([f, v]) => ({ [f]: v })), // implicit $eq
  fc.array(nested, { minLength: 2, maxLength: 3 }).map((c) => ({ $and: c })),
  fc.tuple(nested, fieldCond).map(([a, b]) => ({ ...b, ...a })),
);

const sortArb = fc.option(
  fc.tuple(fc.uniqueArray(fc.constantFrom('n', 's', 'o.p', 'arr', '_id'), { minLength: 1, maxLength: 2 }), fc.constantFrom('asc', 'desc') as fc.Arbitrary<'asc' | 'desc'>).map(([fs, dir]) => fs.map((f) => ({ [f]: dir }))),
  { nil: undefined },
);

/** Runs the property test on an engine, `runs` times (MANGO_PROPERTY_RUNS overrides). */
export function mangoPropertyTest(name: string, make: () => MangoEngine, defaultRuns: number): void {
let engine: MangoEngine;
beforeAll(async () => {
  engine = make();
  await engine.table('p_docs');
});
afterAll(async () => {
  await engine?.close();
});
let runs = 0;
const stats = { partial: 0, throws: 0, sorted: 0 };

describe(`${name} Mango == pouchdb-selector-core`, () => {
  test('random documents and selectors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(docArb, { minLength: 3, maxLength: 25, size: "medium" }), topLevel, sortArb, fc.integer({ min: 1, max: 6 }), async (bodies, rawSelector, sort, pageSize) => {
        runs++;
        const docs = bodies.map((b, i) => engine.stored({ _id: `id${String.fromCharCode(0x61 + (i % 26))}${i % 3 === 0 ? '😀' : i % 3 === 1 ? '\ue000' : ''}${i}`, _rev: '1-a', ...(JSON.parse(JSON.stringify(engine.storesAnyString ? b : storable(b))) as Record<string, unknown>) }) as Record<string, unknown>);
        const selector = engine.stored(rawSelector) as Record<string, J>;
        await engine.table('p_docs');
        await engine.insertRows('p_docs', rowsOf(docs));
        const verdicts = docs.map((d) => refMatch(d, selector));
        const defined = new Set(docs.filter((_, i) => verdicts[i] !== 'throws').map((d) => d._id));
        const expected = docs.filter((_, i) => verdicts[i] === true);
        if (expected.length > 0 && expected.length < docs.length) stats.partial++;
        if (defined.size < docs.length) stats.throws++;
        if (sort) stats.sorted++;
        const req = parseFindRequest({ selector, limit: 1000, ...(sort ? { sort } : {}) });
        const all = (await engine.find('p_docs', req, [])).docs.map((d) => d._id as string);
        // the same selector AND a $regex true of every _id that an engine may leave to RE2 in JS (\b): same answer
        const viaRe2 = await engine.find('p_docs', parseFindRequest({ selector: { $and: [selector, { _id: { $regex: '\\b|\\B' } }] }, limit: 1000, ...(sort ? { sort } : {}) }), []);
        expect(viaRe2.docs.map((d) => d._id as string)).toEqual(all);
        const got = all.filter((id) => defined.has(id));
        if (sort) {
          expect(got).toEqual(refSort(expected, sort).map((d) => d._id));
          // keyset bookmarks: pages concatenate to the whole answer
          const paged: string[] = [];
          let bookmark: string | undefined;
          for (let i = 0; i < 50; i++) {
            const r = await engine.find('p_docs', parseFindRequest({ selector, sort, limit: pageSize, ...(bookmark ? { bookmark } : {}) }), []);
            if (r.docs.length === 0) break;
            paged.push(...r.docs.map((d) => d._id as string));
            bookmark = r.bookmark;
          }
          expect(paged.filter((id) => defined.has(id))).toEqual(got);
        } else {
          expect([...got].sort()).toEqual(expected.map((d) => d._id as string).sort());
        }
      }),
      { numRuns: Number(process.env.MANGO_PROPERTY_RUNS ?? defaultRuns) },
    );
    console.log(`property test on ${name}: ${runs} runs, ${stats.partial} with a proper subset matching, ${stats.sorted} sorted, ${stats.throws} where PouchDB threw on some doc`);
    expect(stats.partial).toBeGreaterThan(runs / 8);
  }, 600_000); // thousands of queries: minutes on a loaded 2-core machine
});
}
