/** App passwords on a real server: created by the owner, used as Basic passwords within their scope, revoked. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
let cookie = '';
beforeAll(async () => {
  h = await startTestHearth();
  await h.hearth.perms.grantApp(h.instance, 'settings', 'io.cozy.settings');
  cookie = `cozysessid=${(await h.hearth.appToken(h.instance, 'settings')).session_cookie}`;
});
afterAll(() => h.close());

const basic = (password: string) => ({ authorization: `Basic ${Buffer.from(`any-user:${password}`).toString('base64')}` });
const create = (body: unknown, headers: Record<string, string> = { cookie }) => h.req('POST', '/settings/app-passwords', { body, headers });

describe('app passwords', () => {
  it('are created once by the owner, listed without the secret, used as Basic passwords within their scope, and revoked', async () => {
    const res = await create({ label: 'rclone on my laptop', scope: 'io.cozy.notes' });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const { id, attributes } = res.body.data;
    expect(attributes).toMatchObject({ label: 'rclone on my laptop', scope: 'io.cozy.notes', last_used_at: null });
    expect(attributes.password).toMatch(/^hap_[A-Za-z0-9_-]{43}$/);
    const list = await h.req('GET', '/settings/app-passwords', { headers: { cookie } });
    expect(list.body.data.map((p: { id: string }) => p.id)).toContain(id);
    expect(list.text).not.toContain(attributes.password);
    expect(list.text).not.toContain('hash');

    const note = await h.req('POST', '/data/io.cozy.notes/', { headers: basic(attributes.password), body: { t: 'from a Basic-auth client' } });
    expect(note.status).toBe(201);
    expect((await h.req('GET', '/data/io.cozy.contacts/_all_docs', { headers: basic(attributes.password) })).status).toBe(403);
    expect((await h.req('GET', '/data/io.cozy.notes/_all_docs', { headers: basic(attributes.password), host: h.otherDomain })).body.reason).toBe('Invalid token');
    const used = await h.req('GET', '/settings/app-passwords', { headers: { cookie } });
    expect(used.body.data.find((p: { id: string }) => p.id === id).attributes.last_used_at).toEqual(expect.any(String));

    expect((await h.req('DELETE', `/settings/app-passwords/${id}`, { headers: { cookie } })).status).toBe(204);
    const after = await h.req('GET', '/data/io.cozy.notes/_all_docs', { headers: basic(attributes.password) });
    expect(after.status).toBe(400);
    expect(after.body.reason).toBe('Invalid token');
    expect((await h.req('DELETE', `/settings/app-passwords/${id}`, { headers: { cookie } })).status).toBe(404);
  });

  it('default to the files (WebDAV takes them as its password), and cannot make more app passwords', async () => {
    const res = await create({ data: { type: 'io.cozy.hearth.app_passwords', attributes: { label: 'WebDAV' } } });
    expect(res.body.data.attributes.scope).toBe('io.cozy.files');
    const dav = await h.req('PROPFIND', '/dav/files/', { headers: { ...basic(res.body.data.attributes.password), depth: '0' } });
    expect(dav.status).toBe(207);
    expect(dav.text).toContain('multistatus');
    const again = await create({ label: 'sneaky' }, basic(res.body.data.attributes.password));
    expect(again.status).toBe(403);
  });

  it('refuse a missing label, a bad scope, a cookie from another origin, a forged password, and stay out of /data', async () => {
    expect((await create({ scope: 'io.cozy.files' })).status).toBe(400);
    expect((await create({ label: 'x', scope: 'io.cozy.files:FLY' })).status).toBe(400);
    expect((await create({ label: 'x' }, { cookie, origin: `http://drive.localhost:${h.port}` })).status).toBe(403);
    expect((await h.req('GET', '/data/io.cozy.notes/_all_docs', { headers: basic(`hap_${'A'.repeat(43)}`) })).body.reason).toBe('Invalid token');
    expect((await h.req('GET', '/data/io.cozy.hearth.app_passwords/_all_docs', { token: await h.cliToken('io.cozy.hearth.app_passwords') })).status).toBe(403);
  });
});

describe('CORS on the settings routes', () => {
  it('answers an app with a settings token from its subdomain, and /auth never', async () => {
    const settings = await h.hearth.appToken(h.instance, 'settings');
    const origin = `http://settings.localhost:${h.port}`;
    const res = await h.req('GET', '/settings/app-passwords', { token: settings.token, headers: { cookie: `cozysessid=${settings.session_cookie}`, origin } });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    expect((await h.req('GET', '/auth/login', { headers: { origin } })).headers['access-control-allow-origin']).toBeUndefined();
    expect((await h.req('GET', '/settings/sessions', { headers: { cookie, origin } })).status).toBe(403);
  });
});
