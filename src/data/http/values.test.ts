/**
 * Values every document engine stores and queries alike (this file also runs in the postgres-docs project, on the
 * PostgreSQL engine): indexed strings longer than a B-tree entry (~2.7 kB on PostgreSQL), and U+0000 (which jsonb
 * cannot hold) in values and member names.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';

const DT = 'io.cozy.values';
let t: TestHearth;
let token: string;
beforeAll(async () => {
  t = await startTestHearth();
  token = await t.cliToken(DT);
});
afterAll(async () => {
  await t?.close();
});
const req = (method: string, path: string, body?: unknown) => t.req(method, `/data/${DT}${path}`, { token, ...(body === undefined ? {} : { body }) });

describe('indexed values longer than a B-tree entry', () => {
  it('stores documents with a 10 kB indexed string, before and after the index, and finds them by it', async () => {
    // random text (base64 of random bytes): PostgreSQL compresses index entries, so repeated text would fit anyway
    const long = (tail: string) => `${randomBytes(7_500).toString('base64')}${tail}`;
    const [a, b] = [long('a'), long('b')];
    expect((await req('PUT', '/before', { title: a, n: 1 })).status).toBe(200);
    const index = await req('POST', '/_index', { index: { fields: ['title'] }, ddoc: 'by-title' });
    expect(index.status).toBe(200);
    expect((await req('PUT', '/after', { title: b, n: 2 })).status).toBe(200);
    expect((await req('PUT', '/short', { title: 'short', n: 3 })).status).toBe(200);
    const found = await req('POST', '/_find', { selector: { title: b }, fields: ['_id', 'n'] });
    expect(found.status).toBe(200);
    expect(found.body.docs).toEqual([{ _id: 'after', n: 2 }]);
    const sorted = await req('POST', '/_find', { selector: { title: { $gt: null } }, sort: [{ title: 'asc' }], fields: ['_id'] });
    expect(sorted.body.warning).toBeUndefined();
    expect(sorted.body.docs.map((d: { _id: string }) => d._id)).toEqual([['before', a], ['after', b], ['short', 'short']].sort((x, y) => (x[1]! < y[1]! ? -1 : 1)).map((x) => x[0]));
    const explained = await req('POST', '/_explain', { selector: { title: { $gte: a } } });
    expect(explained.body.index.ddoc).toBe('_design/by-title');
  });
});

describe('U+0000 in values and member names', () => {
  const odd = { text: 'a\u0000b', 'key\u0000': ['\u0000', { '\u0000': '\u0001' }], mark: '\u0001 \u0001\u0001 \u0001\u0002 \u0002', plain: 'x' };
  it('stores and gives back every character, on every read path, and finds by such a value', async () => {
    const put = await req('PUT', '/nul', odd);
    expect(put.status).toBe(200);
    expect((await req('POST', '/', { text: '\u0000', n: 2 })).status).toBe(201);
    const got = await req('GET', '/nul');
    expect(got.body).toMatchObject(odd);
    expect(JSON.parse(got.text).text).toBe('a\u0000b');
    const all = await req('GET', '/_all_docs?include_docs=true&keys=["nul"]');
    expect(all.body.rows[0].doc).toMatchObject(odd);
    const changes = await req('GET', '/_changes?include_docs=true');
    expect(changes.body.results.find((r: { id: string }) => r.id === 'nul').doc).toMatchObject(odd);
    const found = await req('POST', '/_find', { selector: { text: 'a\u0000b' } });
    expect(found.body.docs.map((d: { _id: string }) => d._id)).toEqual(['nul']);
    expect((await req('POST', '/_find', { selector: { text: { $beginsWith: 'a\u0000' }, 'key\u0000': { $size: 2 } } })).body.docs).toHaveLength(1);
    // in collation order: U+0000 sorts below every other character
    const ordered = await req('POST', '/_find', { selector: { text: { $gt: 'a', $lt: 'aa' } } });
    expect(ordered.body.docs.map((d: { _id: string }) => d._id)).toEqual(['nul']);
    const updated = await req('PUT', '/nul', { ...odd, _rev: put.body.rev, text: '\u0000\u0000' });
    expect(updated.status).toBe(200);
    expect((await req('GET', '/nul')).body.text).toBe('\u0000\u0000');
    const local = await req('PUT', '/_local/nul', { text: 'c\u0000' });
    expect(local.status).toBeLessThan(300);
    expect((await req('GET', '/_local/nul')).body.text).toBe('c\u0000');
  });
});
