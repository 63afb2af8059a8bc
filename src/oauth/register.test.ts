import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { CLIENTS_DOCTYPE, OAuthClients } from './clients.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(async () => h?.close());

const JSON_ACCEPT = { accept: 'application/json' };
const meta = (over: Record<string, unknown> = {}) => ({
  redirect_uris: ['https://app.example/callback', 'cozy://flagship'],
  client_name: 'Test client',
  software_id: 'github.com/hearth/test',
  software_version: '1.2.3',
  client_kind: 'mobile',
  client_uri: 'https://app.example/',
  notification_platform: 'android',
  unknown_field: 'ignored',
  ...over,
});
const register = (body: unknown = meta(), host?: string) => h.req('POST', '/auth/register', { body, headers: JSON_ACCEPT, ...(host ? { host } : {}) });

describe('POST /auth/register (RFC 7591)', () => {
  it('registers a client and answers the cozy-stack fields', async () => {
    const r = await register();
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      client_name: 'Test client', software_id: 'github.com/hearth/test', software_version: '1.2.3', client_kind: 'mobile',
      client_uri: 'https://app.example/', notification_platform: 'android',
      redirect_uris: ['https://app.example/callback', 'cozy://flagship'],
      client_secret_expires_at: 0, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    });
    expect(r.body.client_id).toMatch(/^[0-9a-f]{32}$/);
    expect(r.body.client_secret).toMatch(/^[\w-]{40,}$/);
    expect(r.body.registration_access_token.split('.')).toHaveLength(3);
    expect(r.body.unknown_field).toBeUndefined();
    // Stored with a hashed secret only.
    const doc = await h.hearth.storeOf(h.instance).get(CLIENTS_DOCTYPE, r.body.client_id);
    expect(JSON.stringify(doc)).not.toContain(r.body.client_secret);
    expect(doc.client_secret).toBeUndefined();
    expect(doc.client_secret_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(doc).toMatchObject({ pending: true, client_name: 'Test client' });
    expect(typeof doc.created_at).toBe('string');
  });

  it('accepts http redirect URIs on loopback only', async () => {
    for (const uri of ['http://localhost:8080/cb', 'http://127.0.0.1/cb', 'http://[::1]:3000/cb', 'http://hearth.localhost:8080/cb']) {
      expect((await register(meta({ redirect_uris: [uri] }))).status).toBe(201);
    }
  });

  it.each([
    ['missing redirect_uris', meta({ redirect_uris: undefined })],
    ['empty redirect_uris', meta({ redirect_uris: [] })],
    ['http redirect off localhost', meta({ redirect_uris: ['http://evil.example/cb'] })],
    ['fragment', meta({ redirect_uris: ['https://app.example/cb#frag'] })],
    ['relative URI', meta({ redirect_uris: ['/cb'] })],
    ['javascript: URI', meta({ redirect_uris: ['javascript:alert(1)'] })],
    ['missing client_name', meta({ client_name: undefined })],
    ['oversized client_name', meta({ client_name: 'x'.repeat(256) })],
    ['missing software_id', meta({ software_id: undefined })],
    ['non-string software_version', meta({ software_version: 12 })],
    ['bad client_kind', meta({ client_kind: 'toaster' })],
    ['non-http logo_uri', meta({ logo_uri: 'ftp://x.example/logo.png' })],
    ['an array body', [1, 2]],
  ])('refuses %s with invalid_client_metadata', async (_name, body) => {
    const r = await register(body);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('invalid_client_metadata');
    expect(typeof r.body.error_description).toBe('string');
  });

  it('refuses non-JSON, bad JSON and oversized bodies', async () => {
    const text = await h.req('POST', '/auth/register', { raw: 'client_name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(text.status).toBe(415);
    const bad = await h.req('POST', '/auth/register', { raw: '{"redirect_uris":', headers: { 'content-type': 'application/json' } });
    expect(bad.status).toBe(400);
    const empty = await h.req('POST', '/auth/register', { raw: '', headers: { 'content-type': 'application/json' } });
    expect(empty.body.error).toBe('invalid_client_metadata');
    const big = await register(meta({ notification_device_token: 'x'.repeat(17 * 1024) }));
    expect(big.status).toBe(413);
  });

  it('sends no CORS headers on /auth, even with an Origin (but /data keeps them)', async () => {
    const origin = { ...JSON_ACCEPT, origin: 'https://evil.example' };
    const r = await h.req('POST', '/auth/register', { body: meta(), headers: origin });
    expect(r.status).toBe(201);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.headers['access-control-allow-credentials']).toBeUndefined();
    const bad = await h.req('POST', '/auth/register', { body: {}, headers: origin });
    expect(bad.status).toBe(400);
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();
    const get = await h.req('GET', `/auth/register/${r.body.client_id}`, { token: r.body.registration_access_token, headers: origin });
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await h.req('OPTIONS', '/auth/register', { headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-methods']).toBeUndefined();
    const data = await h.req('GET', '/data/io.cozy.notes/_all_docs', { headers: { origin: 'https://app.example' } });
    expect(data.headers['access-control-allow-origin']).toBe('https://app.example');
  });
});

describe('RFC 7592 client management', () => {
  it('reads, updates, rotates the secret and deletes with the registration token', async () => {
    const { body: c } = await register();
    const auth = { token: c.registration_access_token };
    const path = `/auth/register/${c.client_id}`;

    const read = await h.req('GET', path, auth);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ client_id: c.client_id, client_name: 'Test client', client_secret_expires_at: 0 });
    // RFC 7592 and cozy-stack: the holder of the registration token reads the secret (stored sealed, never in clear)
    expect(read.body.client_secret).toBe(c.client_secret);
    const stored = await h.hearth.storeOf(h.instance).get(CLIENTS_DOCTYPE, c.client_id);
    expect(JSON.stringify(stored)).not.toContain(c.client_secret);

    // PUT replaces the metadata; omitted optional fields go away.
    const upd = await h.req('PUT', path, { ...auth, body: { client_id: c.client_id, redirect_uris: ['https://new.example/cb'], client_name: 'Renamed', software_id: 'sw' } });
    expect(upd.status).toBe(200);
    expect(upd.body).toMatchObject({ client_name: 'Renamed', redirect_uris: ['https://new.example/cb'] });
    expect(upd.body.client_kind).toBeUndefined();
    expect(upd.body.client_secret).toBe(c.client_secret); // unchanged, given back so that the client keeps it

    const noId = await h.req('PUT', path, { ...auth, body: { redirect_uris: ['https://new.example/cb'], client_name: 'x', software_id: 'sw' } });
    expect(noId.status).toBe(400);
    const wrongSecret = await h.req('PUT', path, { ...auth, body: { ...meta(), client_id: c.client_id, client_secret: 'nope' } });
    expect(wrongSecret.status).toBe(400);
    expect(wrongSecret.body.error).toBe('invalid_client');

    const rot = await h.req('PUT', path, { ...auth, body: { ...meta(), client_id: c.client_id, client_secret: c.client_secret } });
    expect(rot.status).toBe(200);
    expect(rot.body.client_secret).toBeTypeOf('string');
    expect(rot.body.client_secret).not.toBe(c.client_secret);
    const svc = new OAuthClients(h.hearth.storeOf, async (i) => (await h.hearth.registry.secrets(i)).session);
    expect(await svc.verifySecret(h.instance, c.client_id, rot.body.client_secret)).toBe(true);
    expect(await svc.verifySecret(h.instance, c.client_id, c.client_secret)).toBe(false);
    const doc = await h.hearth.storeOf(h.instance).get(CLIENTS_DOCTYPE, c.client_id);
    expect(doc).toMatchObject({ pending: true, created_at: expect.any(String) });

    const del = await h.req('DELETE', path, auth);
    expect(del.status).toBe(204);
    expect((await h.req('GET', path, auth)).status).toBe(404);
    expect((await h.req('DELETE', path, auth)).status).toBe(404);
    // The deleted client's token is useless on any other client too.
    const { body: other } = await register();
    expect((await h.req('GET', `/auth/register/${other.client_id}`, auth)).status).toBe(401);
  });

  it('refuses a missing, forged, foreign-instance or other-client token', async () => {
    const { body: a } = await register();
    const { body: b } = await register();
    const path = `/auth/register/${a.client_id}`;
    const none = await h.req('GET', path);
    expect(none.status).toBe(401);

    const otherClient = await h.req('GET', path, { token: b.registration_access_token });
    expect(otherClient.status).toBe(401);
    expect(otherClient.body.error).toBe('invalid_token');
    expect(otherClient.headers['www-authenticate']).toContain('invalid_token');
    expect((await h.req('PUT', path, { token: b.registration_access_token, body: { ...meta(), client_id: a.client_id } })).status).toBe(401);
    expect((await h.req('DELETE', path, { token: b.registration_access_token })).status).toBe(401);

    const [head, , sig] = a.registration_access_token.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: b.client_id, aud: 'registration', iss: h.domain, iat: 1 })).toString('base64url');
    const forged = await h.req('GET', `/auth/register/${b.client_id}`, { token: `${head}.${payload}.${sig}` });
    expect(forged.status).toBe(400);
    expect(forged.body.errors[0].detail).toBe('Invalid JWT token');

    const foreign = await h.hearth.tokens.issue(h.other, { aud: 'registration', sub: a.client_id });
    expect((await h.req('GET', path, { token: foreign })).status).toBe(400);
    // A token of another audience (an access token for that client) is not a registration token.
    const access = await h.hearth.tokens.issue(h.instance, { aud: 'access', sub: a.client_id, scope: 'io.cozy.notes' });
    expect((await h.req('GET', path, { token: access })).status).toBe(400);
    // And a registration token is no access token for /data.
    expect((await h.req('GET', '/data/io.cozy.notes/_all_docs', { token: a.registration_access_token })).status).toBe(400);
  });
});

describe('/settings/clients', () => {
  it('lists clients without secrets and deletes one, with rights on io.cozy.oauth.clients', async () => {
    const { body: c } = await register(meta({ client_name: 'Listed' }));
    const token = await h.cliToken('io.cozy.oauth.clients');
    const list = await h.req('GET', '/settings/clients', { token });
    expect(list.status).toBe(200);
    expect(list.headers['content-type']).toContain('application/vnd.api+json');
    const item = list.body.data.find((d: { id: string }) => d.id === c.client_id);
    expect(item).toMatchObject({ type: CLIENTS_DOCTYPE, attributes: { client_name: 'Listed', pending: true }, links: { self: `/settings/clients/${c.client_id}` } });
    expect(list.text).not.toContain('client_secret');
    expect(list.text).not.toContain(c.client_secret);
    expect(list.body.meta.count).toBe(list.body.data.length);

    const del = await h.req('DELETE', `/settings/clients/${c.client_id}`, { token });
    expect(del.status).toBe(204);
    const after = await h.req('GET', '/settings/clients', { token });
    expect(after.body.data.some((d: { id: string }) => d.id === c.client_id)).toBe(false);
    expect((await h.req('GET', `/auth/register/${c.client_id}`, { token: c.registration_access_token })).status).toBe(404);
    expect((await h.req('DELETE', `/settings/clients/${c.client_id}`, { token })).status).toBe(404);
  });

  it('refuses without a token (401), without rights (403), and keeps instances apart', async () => {
    expect((await h.req('GET', '/settings/clients')).status).toBe(401);
    const notes = await h.cliToken('io.cozy.notes');
    const r = await h.req('GET', '/settings/clients', { token: notes });
    expect(r.status).toBe(403);
    expect(r.body.errors[0].status).toBe('403');
    const readOnly = await h.cliToken('io.cozy.oauth.clients:GET');
    const { body: c } = await register();
    expect((await h.req('DELETE', `/settings/clients/${c.client_id}`, { token: readOnly })).status).toBe(403);
    const otherToken = await h.cliToken('io.cozy.oauth.clients', h.other);
    const other = await h.req('GET', '/settings/clients', { token: otherToken, host: h.otherDomain });
    expect(other.status).toBe(200);
    expect(other.body.data.some((d: { id: string }) => d.id === c.client_id)).toBe(false);
  });
});
