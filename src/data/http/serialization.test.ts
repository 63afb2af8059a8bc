/**
 * Serialization by the response schemas (server/validation.ts) must never drop or change a field of a
 * CouchDB document: the same requests against a server that serializes by schema and one that uses
 * JSON.stringify give the same answers, field for field, on every read path the schemas cover.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { DEFAULTS } from '../../config/schema.js';

const DT = 'io.cozy.serialization';
const odd = {
  _id: 'odd', fullname: 'Ada \u2028 "Lovelace"\n', n: 1.5, big: 2 ** 53 - 1, neg: -0.25, nothing: null, yes: true,
  nested: { deep: [1, 'two', { three: [null, false] }], empty: {}, list: [] }, 'é key': 'ü', 'a.b': 'dotted', ok: 'not the ok of a row', id: 42, rev: ['x'],
};

let withSchema: TestHearth;
let withJson: TestHearth;
beforeAll(async () => {
  [withSchema, withJson] = await Promise.all([
    startTestHearth(),
    startTestHearth({ server: { ...DEFAULTS.server, port: 0, serializeResponses: false } }),
  ]);
  for (const h of [withSchema, withJson]) {
    const token = await h.cliToken(DT);
    const created = await h.req('PUT', `/data/${DT}/odd`, { token, body: odd });
    expect(created.status).toBe(200);
    await h.req('PUT', `/data/${DT}/odd`, { token, body: { ...odd, _rev: created.body.rev, fullname: 'second' } });
    await h.req('POST', `/data/${DT}/`, { token, body: { other: { fields: ['kept'] } } });
  }
});
afterAll(() => Promise.all([withSchema?.close(), withJson?.close()]));

/** What a path answers on both servers; the revisions and server-made ids differ between them, so they are masked. */
async function both(method: string, path: string, body?: unknown) {
  const [a, b] = (await Promise.all([withSchema, withJson].map(async (h) => {
    const res = await h.req(method, path, { token: await h.cliToken(DT), ...(body === undefined ? {} : { body }) });
    return { status: res.status, body: JSON.parse(res.text.replace(/"\d+-[0-9a-f]{32}"/g, '"REV"').replace(/"[0-9a-f]{32}"/g, '"ID"').replace(/"\d+-[0-9a-z]+"/g, '"SEQ"')) };
  })))!;
  return { a: a!, b: b! };
}

describe('serialization by schema on /data', () => {
  it('answers exactly what JSON.stringify answers on every read path with a schema', async () => {
    const paths: Array<[string, string, unknown?]> = [
      ['GET', `/data/${DT}/odd`], ['GET', `/data/${DT}/odd?revs=true&conflicts=true`], ['GET', `/data/${DT}/odd?open_revs=all`],
      ['GET', `/data/${DT}/_all_docs?include_docs=true`], ['POST', `/data/${DT}/_all_docs?include_docs=true`, { keys: ['odd', 'missing'] }],
      ['GET', `/data/${DT}/_normal_docs`], ['GET', `/data/${DT}/_changes?include_docs=true&style=all_docs`],
      ['POST', `/data/${DT}/_find`, { selector: { n: { $gt: 1 } } }], ['PUT', `/data/${DT}/new`, { copy: odd.nested }],
    ];
    for (const [method, path, body] of paths) {
      const { a, b } = await both(method, path, body);
      expect(a, `${method} ${path}`).toEqual(b);
      expect(a.status, `${method} ${path}`).toBeLessThan(300);
    }
  });

  it('keeps every field of an odd document', async () => {
    const { a } = await both('GET', `/data/${DT}/odd`);
    const { _id, ...fields } = odd;
    expect(a.body).toEqual({ ...fields, fullname: 'second', _id, _rev: 'REV', _type: DT });
  });
});
