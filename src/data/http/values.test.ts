/**
 * Values every document engine stores and queries alike (this file also runs in the postgres-docs project, on the
 * PostgreSQL engine): indexed strings longer than a B-tree entry (~2.7 kB on PostgreSQL).
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
