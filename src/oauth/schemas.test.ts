/**
 * The registration schemas of RFC 7591: their refusals are answered in RFC 7591's shape (invalid_client_metadata),
 * before the registration token is looked at, and the document shows the fields they require.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());

const meta = (over: Record<string, unknown> = {}) => ({ redirect_uris: ['https://app.example/cb'], client_name: 'App', software_id: 'github.com/me/app', ...over });
const refusal = async (method: string, path: string, body: unknown) => {
  const res = await h.req(method, path, { body });
  expect(res.status).toBe(400);
  expect(res.body.error).toBe('invalid_client_metadata');
  expect(res.headers['access-control-allow-origin']).toBeUndefined();
  return res.body.error_description as string;
};

describe('OAuth registration schemas', () => {
  it('refuse bad metadata with invalid_client_metadata and the field\'s sentence', async () => {
    expect(await refusal('POST', '/auth/register', [1])).toBe('the body must be a JSON object');
    expect(await refusal('POST', '/auth/register', meta({ redirect_uris: [] }))).toBe('redirect_uris is required: a non-empty array of URIs');
    expect(await refusal('POST', '/auth/register', meta({ redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example/${i}`) }))).toBe('redirect_uris holds at most 20 URIs');
    expect(await refusal('POST', '/auth/register', meta({ redirect_uris: [''] }))).toBe('redirect_uris must hold strings of 1 to 2048 characters');
    expect(await refusal('POST', '/auth/register', meta({ client_name: 'x'.repeat(256) }))).toBe('client_name must be a string of 1 to 255 characters');
    expect(await refusal('POST', '/auth/register', meta({ client_name: undefined }))).toBe('"client_name" is missing');
    expect(await refusal('POST', '/auth/register', meta({ software_version: 12 }))).toBe('software_version must be a string of 1 to 255 characters');
    expect(await refusal('POST', '/auth/register', meta({ client_kind: 'toaster' }))).toBe('client_kind must be one of web, desktop, mobile, browser');
    // the meaning of a URI is the domain's (metadata.ts), in the same shape
    expect(await refusal('POST', '/auth/register', meta({ redirect_uris: ['http://evil.example/cb'] }))).toBe('http redirect URIs are only allowed for localhost: use https');
  });

  it('take "" and null as absent optional fields, as cozy-stack-client sends them', async () => {
    const res = await h.req('POST', '/auth/register', { body: meta({ client_kind: '', logo_uri: null, software_version: '' }) });
    expect(res.status).toBe(201);
    expect(res.body).not.toHaveProperty('client_kind');
    expect(res.body).not.toHaveProperty('logo_uri');
  });

  it('refuse a bad update before the registration token check', async () => {
    expect(await refusal('PUT', '/auth/register/0123456789abcdef0123456789abcdef', meta({ client_id: '0123456789abcdef0123456789abcdef', redirect_uris: 'https://a.example/cb' })))
      .toBe('redirect_uris is required: a non-empty array of URIs');
    expect((await h.req('PUT', '/auth/register/0123456789abcdef0123456789abcdef', { body: meta({ client_id: '0123456789abcdef0123456789abcdef' }) })).status).toBe(401);
  });

  it('are in the OpenAPI document', async () => {
    const doc = (await h.req('GET', '/openapi.json')).body;
    const body = doc.paths['/auth/register'].post.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(['redirect_uris', 'client_name', 'software_id']);
    expect(body.properties.client_kind.enum).toEqual(expect.arrayContaining(['web', 'mobile']));
  });
});
