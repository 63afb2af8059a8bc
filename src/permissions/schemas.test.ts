/** The schemas of /permissions: documented, and what they check refused before the token is looked at, with the handlers' messages. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { badRequestDetail } from '../../test/helpers/refusals.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());

const detail = badRequestDetail(() => h);

describe('/permissions schemas', () => {
  it('refuse a bad share-link body before the token check, with the messages of the handlers', async () => {
    expect(await detail('POST', '/permissions', { attributes: {} })).toBe('send {"data": {"type": "io.cozy.permissions", "attributes": {…}}}');
    expect(await detail('POST', '/permissions', { data: { attributes: [] } })).toBe('send {"data": {"type": "io.cozy.permissions", "attributes": {…}}}');
    expect(await detail('POST', '/permissions', { data: { attributes: {} } })).toBe('attributes.permissions must be a map {key: rule}');
    expect(await detail('POST', '/permissions', { data: { attributes: { permissions: [] } } })).toBe('attributes.permissions must be a map {key: rule}');
    expect(await detail('POST', '/permissions', { data: { attributes: { permissions: {} } } })).toBe('attributes.permissions is empty');
    const rules = { files: { type: 'io.cozy.files', verbs: ['GET'] } };
    expect(await detail('POST', '/permissions', { data: { attributes: { permissions: rules, password: 12 } } })).toBe('password must be a string');
    expect(await detail('PATCH', '/permissions/some-id', { data: { attributes: { expires_at: 1 } } })).toBe('expires_at must be a string');
    const many = Array.from({ length: 1001 }, (_, i) => ({ type: 'io.cozy.files', id: String(i) }));
    expect(await detail('POST', '/permissions/exists', { data: many })).toBe('send {"data": [{"type": "<doctype>", "id": "<id>"}, …]} (1000 at most)');
    // a good body goes on to the token check
    expect((await h.req('POST', '/permissions', { body: { data: { attributes: { permissions: rules } } } })).status).toBe(401);
  });

  it('still make a link with a token, its password shown as true', async () => {
    const token = await h.cliToken('io.cozy.files');
    const res = await h.req('POST', '/permissions?codes=bob', { token, body: { data: { type: 'io.cozy.permissions', attributes: { permissions: { files: { type: 'io.cozy.files', verbs: ['GET'] } }, password: 'secret', expires_at: null } } } });
    expect(res.status).toBe(201);
    expect(res.body.data.attributes).toMatchObject({ password: true, codes: { bob: expect.any(String) } });
    expect(res.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
  });

  it('are in the OpenAPI document', async () => {
    const doc = (await h.req('GET', '/openapi.json')).body;
    const create = doc.paths['/permissions'].post;
    expect(create.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['codes', 'ttl', 'tinycode']));
    expect(create.requestBody.content['application/json'].schema.required).toEqual(['data']);
    expect(doc.paths['/permissions/doctype/{doctype}/shared-by-link'].get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['doctype', 'page[limit]']));
  });
});
