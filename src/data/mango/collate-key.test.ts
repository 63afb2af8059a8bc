import collatePkg from 'pouchdb-collate';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { encodeKey, keyOfJson, prefixRange } from './collate-key.js';

const { collate } = collatePkg as { collate: (a: unknown, b: unknown) => number };
const sign = (n: number): number => (n < 0 ? -1 : n > 0 ? 1 : 0);
const byKey = (a: unknown, b: unknown): number => Buffer.compare(encodeKey(a), encodeKey(b));

const MIXED: unknown[] = [
  null, false, true, -1e308, -5, -1.5, -0, 0, 5e-324, 1, 1.5, 2, 10, 1e21, Number.MAX_VALUE,
  '', '\u0000', '\u0000a', '\u0001', 'A', 'Z', 'a', 'aa', 'ab', 'b', 'é', '\u00ff', '\u0100', '\ud7ff',
  '😀', '😀a', '\ud83d', '\ue000', '\uffff', '\uffff\uffff',
  [], [null], [false], [0], [0, 0], [1], ['a'], [[]], [{}], {}, { a: null }, { a: 1 }, { a: 1, b: 2 }, { a: 2 }, { b: 0 }, { '': 1 },
];

describe('collation keys', () => {
  test('a mixed list sorts identically by key and by pouchdb-collate', () => {
    const shuffled = [...MIXED].reverse();
    const byCollate = [...shuffled].sort(collate);
    const byKeys = [...shuffled].sort(byKey);
    expect(byKeys.map((v) => JSON.stringify(v) ?? String(v))).toEqual(byCollate.map((v) => JSON.stringify(v) ?? String(v)));
    for (const a of MIXED) for (const b of MIXED) expect([a, b, sign(byKey(a, b))]).toEqual([a, b, sign(collate(a, b))]);
  });

  test('strings compare by UTF-16 code units: astral chars sort before U+E000..U+FFFF', () => {
    expect(byKey('😀', '\ue000')).toBeLessThan(0);
    expect('😀' < '\ue000').toBe(true);
    expect(byKey('\uffff', '😀')).toBeGreaterThan(0);
  });

  test('-0 equals 0; NaN and infinities collate as null (as pouchdb-collate normalises)', () => {
    expect(encodeKey(-0)).toEqual(encodeKey(0));
    expect(encodeKey(Infinity)).toEqual(encodeKey(null));
  });

  test('keyOfJson: SQL NULL (missing) gets null key; escaped and plain strings agree', () => {
    expect(keyOfJson(null)).toEqual(encodeKey(null));
    expect(keyOfJson('"a\\u00e9"')).toEqual(encodeKey('aé'));
    expect(keyOfJson('"abc"')).toEqual(encodeKey('abc'));
    expect(keyOfJson('{"b":1,"a":[true]}')).toEqual(encodeKey({ b: 1, a: [true] }));
  });

  test('prefixRange holds exactly the strings with the prefix', () => {
    const [lo, hi] = prefixRange('a\u0000\uffff');
    for (const s of ['a\u0000\uffff', 'a\u0000\uffff\uffff\uffff', 'a\u0000\uffff\u0000', 'a\u0000\ufffe', 'a\u0001', 'a', 'b']) {
      const k = encodeKey(s);
      expect([s, Buffer.compare(k, lo) >= 0 && Buffer.compare(k, hi) < 0]).toEqual([s, s.startsWith('a\u0000\uffff')]);
    }
  });

  test('property: key order equals collate order on random JSON values', () => {
    const str = fc.string({ unit: fc.constantFrom('a', 'b', '\u0000', '\u0001', 'é', '\ud83d', '😀', '\ue000', '\uffff'), maxLength: 4 });
    const json = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), str, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(str, tie('v'), { maxKeys: 3 })),
    })).v;
    fc.assert(
      fc.property(json, json, (a, b) => sign(byKey(a, b)) === sign(collate(a, b))),
      { numRuns: 2000 },
    );
  });
});
