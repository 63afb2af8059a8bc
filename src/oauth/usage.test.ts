/** POST /settings/synchronized, GET /settings/clients-usage and GET /settings/clients/limit-exceeded on a real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { CozyStackClient } from '../../test/helpers/stack-client.js';
import type { Instance } from '../instances/types.js';

let h: TestHearth;
let cookie = '';
beforeAll(async () => {
  h = await startTestHearth({ settings: { defaultRedirection: 'home/', onboardedRedirection: 'home/', helpLink: null, tosLink: null, flags: '{"cozy.oauthclients.max":2}' } });
  cookie = `cozysessid=${(await h.hearth.appToken(h.instance, 'home')).session_cookie}`;
});
afterAll(() => h.close());

/** A registered OAuth client (a desktop one unless `kind` says otherwise) and an access token of it. */
async function client(kind: string | null, on: { h: TestHearth; host?: string; instance?: Instance }): Promise<{ id: string; token: string; registration: string }> {
  const server = on.h;
  const body = { redirect_uris: ['http://localhost/cb'], client_name: 'Laptop', software_id: 'github.com/cozy-labs/cozy-desktop', ...(kind ? { client_kind: kind } : {}) };
  const res = await server.req('POST', '/auth/register', { body, headers: { accept: 'application/json' }, ...(on.host ? { host: on.host } : {}) });
  expect(res.status, res.text).toBe(201);
  const id = res.body.client_id as string;
  const token = await server.hearth.tokens.issue(on.instance ?? server.instance, { aud: 'access', sub: id, scope: 'io.cozy.files' });
  return { id, token, registration: res.body.registration_access_token as string };
}
const clientDoc = async (id: string) => (await h.req('GET', '/settings/clients', { token: await h.cliToken('io.cozy.oauth.clients') })).body.data.find((c: { id: string }) => c.id === id);

describe('POST /settings/synchronized', () => {
  it('records synchronized_at on the OAuth client of the token (cozy-client\'s updateLastSynced), and a later update keeps it', async () => {
    const c = await client('desktop', { h });
    expect((await clientDoc(c.id)).attributes.synchronized_at).toBeUndefined();
    const before = Date.now();
    await new CozyStackClient({ uri: h.url, token: c.token }).collection('io.cozy.settings').updateLastSynced();
    const at = Date.parse((await clientDoc(c.id)).attributes.synchronized_at);
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now());
    const stored = await h.hearth.storeOf(h.instance).get('io.cozy.oauth.clients', c.id);
    expect(stored.synchronized_at).toBe(new Date(at).toISOString());
    const update = { client_id: c.id, redirect_uris: ['http://localhost/cb'], client_name: 'Laptop (renamed)', software_id: 'github.com/cozy-labs/cozy-desktop', client_kind: 'desktop' };
    const put = await h.req('PUT', `/auth/register/${c.id}`, { token: c.registration, body: update, headers: { accept: 'application/json' } });
    expect(put.status, put.text).toBe(200);
    expect((await clientDoc(c.id)).attributes).toMatchObject({ client_name: 'Laptop (renamed)', synchronized_at: new Date(at).toISOString() });
  });

  it('is refused without a token (401), with a token that is not an OAuth client\'s (400), another instance\'s or a deleted client\'s (400)', async () => {
    expect((await h.req('POST', '/settings/synchronized')).status).toBe(401);
    expect((await h.req('POST', '/settings/synchronized', { headers: { cookie } })).status).toBe(401);
    const cli = await h.req('POST', '/settings/synchronized', { token: await h.cliToken('io.cozy.files') });
    expect(cli.status).toBe(400);
    expect(cli.body.errors[0].detail).toBe('Invalid JWT token');
    const app = await h.hearth.appToken(h.instance, 'drive');
    await h.hearth.perms.grantApp(h.instance, 'drive', 'io.cozy.files');
    expect((await h.req('POST', '/settings/synchronized', { token: app.token, headers: { cookie: `cozysessid=${app.session_cookie}` } })).status).toBe(400);
    const other = await client('desktop', { h, host: h.otherDomain, instance: h.other });
    expect((await h.req('POST', '/settings/synchronized', { token: other.token })).status).toBe(400);
    const gone = await client('desktop', { h });
    expect((await h.req('DELETE', `/settings/clients/${gone.id}`, { token: await h.cliToken('io.cozy.oauth.clients') })).status).toBe(204);
    expect((await h.req('POST', '/settings/synchronized', { token: gone.token })).status).toBe(400);
  });
});

describe('GET /settings/clients-usage and /settings/clients/limit-exceeded', () => {
  it('counts the device clients against cozy.oauthclients.max, and the owner\'s page says so once there are too many', async () => {
    const fresh = await startTestHearth({ settings: { defaultRedirection: 'drive/#/folder', onboardedRedirection: 'home/', helpLink: null, tosLink: null, flags: '{"cozy.oauthclients.max":2}' } });
    try {
      const token = await fresh.cliToken('io.cozy.settings');
      const owner = `cozysessid=${(await fresh.hearth.appToken(fresh.instance, 'home')).session_cookie}`;
      const usage = async () => (await new CozyStackClient({ uri: fresh.url, token }).collection('io.cozy.settings').get('io.cozy.settings.clients-usage')).data;
      const page = (query = '') => fresh.req('GET', `/settings/clients/limit-exceeded${query}`, { headers: { cookie: owner } });
      expect(await usage()).toMatchObject({ limit: 2, count: 0, limitReached: false, limitExceeded: false });
      await client(null, { h: fresh }); // a client without a kind is no device
      await client('desktop', { h: fresh });
      expect(await usage()).toMatchObject({ limit: 2, count: 1, limitReached: false, limitExceeded: false });
      const below = await page();
      expect(below.status).toBe(302);
      expect(below.headers.location).toBe(`http://drive.${fresh.domain}/#/folder`);
      expect((await page(`?redirect=${encodeURIComponent(`http://photos.${fresh.domain}/#/album`)}`)).headers.location).toBe(`http://photos.${fresh.domain}/#/album`);
      expect((await page(`?redirect=${encodeURIComponent('https://evil.example/')}`)).headers.location).toBe(`http://${fresh.domain}/`);
      await client('mobile', { h: fresh });
      expect(await usage()).toMatchObject({ limit: 2, count: 2, limitReached: true, limitExceeded: false });
      expect((await page()).status).toBe(302);
      await client('browser', { h: fresh });
      expect(await usage()).toMatchObject({ limit: 2, count: 3, limitReached: true, limitExceeded: true });
      const over = await page('?isFlagship=true');
      expect(over.status).toBe(200);
      expect(over.headers['content-type']).toContain('text/html');
      expect(over.text).toContain('3 devices are connected to your space, and it allows 2');
      expect(over.text).toContain(`href="http://settings.${fresh.domain}/#/connectedDevices" target="_blank"`);
    } finally {
      await fresh.close();
    }
  });

  it('has no limit without the flag', async () => {
    const free = await startTestHearth();
    try {
      await client('desktop', { h: free });
      const res = await free.req('GET', '/settings/clients-usage', { token: await free.cliToken('io.cozy.settings') });
      expect(res.body.data).toEqual({ type: 'io.cozy.settings', id: 'io.cozy.settings.clients-usage', attributes: { count: 1, limitReached: false, limitExceeded: false }, meta: {}, links: { self: '/settings/clients-usage' } });
      const owner = `cozysessid=${(await free.hearth.appToken(free.instance, 'home')).session_cookie}`;
      expect((await free.req('GET', '/settings/clients/limit-exceeded', { headers: { cookie: owner } })).headers.location).toBe(`http://home.${free.domain}/`);
    } finally {
      await free.close();
    }
  });

  it('refuses: clients-usage 401, 400 another instance\'s token, 403 without GET on the document; limit-exceeded 401 without the owner\'s session', async () => {
    expect((await h.req('GET', '/settings/clients-usage')).status).toBe(401);
    expect((await h.req('GET', '/settings/clients-usage', { token: await h.cliToken('io.cozy.settings', h.other) })).status).toBe(400);
    expect((await h.req('GET', '/settings/clients-usage', { token: await h.cliToken('io.cozy.files') })).status).toBe(403);
    expect((await h.req('GET', '/settings/clients-usage', { token: await h.cliToken('io.cozy.settings:GET:io.cozy.settings.instance') })).status).toBe(403);
    expect((await h.req('GET', '/settings/clients-usage', { token: await h.cliToken('io.cozy.settings:GET:io.cozy.settings.clients-usage') })).status).toBe(200);
    expect((await h.req('GET', '/settings/clients-usage', { headers: { cookie } })).status).toBe(200);
    expect((await h.req('GET', '/settings/clients/limit-exceeded')).status).toBe(401);
    expect((await h.req('GET', '/settings/clients/limit-exceeded', { token: await h.cliToken('io.cozy.settings') })).status).toBe(401);
    expect((await h.req('GET', '/settings/clients/limit-exceeded', { headers: { cookie }, host: h.otherDomain })).status).toBe(401);
  });
});
