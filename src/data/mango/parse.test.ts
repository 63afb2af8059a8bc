import { describe, expect, test } from 'vitest';
import { BadRequest } from '../../common/errors.js';
import { parseFindRequest, parseIndexRequest } from './parse.js';

function reason(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(BadRequest);
    return (e as BadRequest).reason;
  }
  throw new Error('expected a BadRequest');
}
const find = (body: unknown) => () => parseFindRequest(body);

describe('parseFindRequest', () => {
  test('defaults and accepted options', () => {
    const r = parseFindRequest({ selector: { a: 1 }, r: 1, stable: true, update: false, conflicts: true, execution_stats: true, use_index: ['_design/x', 'y'] });
    expect(r).toMatchObject({ selector: { a: 1 }, limit: 100, skip: 0, conflicts: true, execution_stats: true, use_index: ['_design/x', 'y'] });
    expect(parseFindRequest({ selector: {}, use_index: ['x'] }).use_index).toBe('x');
    expect(parseFindRequest({ selector: {}, bookmark: 'nil' }).bookmark).toBeUndefined();
  });
  test('limit: clamped to 1000, absurd / non-integer / negative refused', () => {
    expect(parseFindRequest({ selector: {}, limit: 5000 }).limit).toBe(1000);
    expect(parseFindRequest({ selector: {}, limit: 0 }).limit).toBe(0);
    for (const limit of [1e9, -1, 1.5, '10', null]) expect(reason(find({ selector: {}, limit }))).toMatch(/^limit must be an integer between 0 and 1000/);
    expect(reason(find({ selector: {}, skip: -3 }))).toMatch(/^skip must be an integer/);
  });
  test('sort', () => {
    expect(parseFindRequest({ selector: {}, sort: ['a', { 'b.c': 'desc' }] }).sort).toEqual([{ field: 'a', dir: 'asc' }, { field: 'b.c', dir: 'desc' }]);
    expect(reason(find({ selector: {}, sort: [{ a: 'up' }] }))).toMatch(/direction for "a" must be "asc" or "desc"/);
    expect(reason(find({ selector: {}, sort: [{ a: 'asc', b: 'asc' }] }))).toMatch(/sort must be an array/);
    expect(reason(find({ selector: {}, sort: 'a' }))).toMatch(/sort must be an array/);
    expect(reason(find({ selector: {}, sort: [''] }))).toMatch(/must not be empty/);
  });
  test('selector refusals', () => {
    expect(reason(find({}))).toBe('selector is required');
    expect(reason(find({ selector: [] }))).toBe('selector must be a JSON object');
    expect(reason(find({ selector: 'a' }))).toBe('selector must be a JSON object');
    expect(reason(find({ selector: { a: { $foo: 1 } } }))).toBe('unknown operator "$foo"');
    expect(reason(find({ selector: { $gt: 1 } }))).toMatch(/must be applied to a field/);
    expect(reason(find({ selector: { a: { $in: 3 } } }))).toMatch(/\$in: expected an array/);
    expect(reason(find({ selector: { a: { $exists: 1 } } }))).toMatch(/\$exists/);
    expect(reason(find({ selector: { a: { $type: 'int' } } }))).toMatch(/\$type/);
    expect(reason(find({ selector: { a: { $size: -1 } } }))).toMatch(/\$size/);
    expect(reason(find({ selector: { a: { $mod: [0, 1] } } }))).toMatch(/divisor/);
    expect(reason(find({ selector: { a: { $mod: [2.5, 1] } } }))).toMatch(/\$mod/);
    expect(reason(find({ selector: { $or: {} } }))).toMatch(/\$or: expected an array/);
    expect(reason(find({ selector: { a: { $regex: '(a' } } }))).toMatch(/^invalid \$regex pattern/);
    expect(reason(find({ selector: { a: { $regex: '(?=a)' } } }))).toMatch(/^invalid \$regex pattern/); // lookahead: not RE2
    expect(reason(find({ selector: { a: { $regex: 1 } } }))).toMatch(/\$regex: expected a string/);
    expect(reason(find({ selector: { a: 1 }, foo: 1 }))).toBe('invalid key "foo" for a _find request');
  });
  test('hostile selectors: depth, size', () => {
    let deep: Record<string, unknown> = { a: 1 };
    for (let i = 0; i < 40; i++) deep = { $or: [deep] };
    expect(reason(find({ selector: deep }))).toBe('selector is nested deeper than 32 levels');
    let deepValue: unknown = 1;
    for (let i = 0; i < 40; i++) deepValue = [deepValue];
    expect(reason(find({ selector: { a: { $eq: deepValue } } }))).toBe('selector is nested deeper than 32 levels');
    const wide = Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`f${i}`, i]));
    expect(reason(find({ selector: wide }))).toBe('selector has more than 500 conditions');
    expect(reason(find({ selector: { a: { $in: Array.from({ length: 1001 }, (_, i) => i) } } }))).toMatch(/more than 1000 values/);
    expect(reason(find({ selector: { [Array.from({ length: 40 }, () => 'a').join('.')]: 1 } }))).toMatch(/more than 32 segments/);
  });
  test('fields, bookmark, use_index, booleans', () => {
    expect(reason(find({ selector: {}, fields: 'a' }))).toBe('fields must be an array of field names');
    expect(reason(find({ selector: {}, fields: [1] }))).toBe('fields must be an array of field names');
    expect(reason(find({ selector: {}, bookmark: 3 }))).toBe('bookmark must be a string');
    expect(reason(find({ selector: {}, use_index: ['a', 'b', 'c'] }))).toMatch(/use_index/);
    expect(reason(find({ selector: {}, conflicts: 'yes' }))).toBe('conflicts must be true or false');
  });
});

describe('parseIndexRequest', () => {
  test('accepts CouchDB shapes', () => {
    expect(parseIndexRequest({ index: { fields: ['a', { b: 'desc' }], partial_filter_selector: { t: 'x' } }, ddoc: 'd', name: 'n', type: 'json' })).toEqual({
      fields: [{ field: 'a', dir: 'asc' }, { field: 'b', dir: 'desc' }],
      partial_filter_selector: { t: 'x' },
      ddoc: 'd',
      name: 'n',
    });
  });
  test('refusals', () => {
    const r = (b: unknown) => reason(() => parseIndexRequest(b));
    expect(r({ index: { fields: ['a'] }, type: 'text' })).toMatch(/only "json" indexes/);
    expect(r({ index: { fields: [] } })).toBe('index.fields must not be empty');
    expect(r({ index: {} })).toMatch(/index.fields must be an array/);
    expect(r({ fields: ['a'] })).toMatch(/invalid key "fields"/);
    expect(r({ index: { fields: ['a'], partial_filter_selector: { a: { $bad: 1 } } } })).toBe('unknown operator "$bad"');
    expect(r({ index: { fields: ['a'] }, name: '' })).toBe('name must be a non-empty string');
  });
});
