/** The app hosts' CSP (contract §3), its `?intent=` grant, `?sharecode=` and the password page, the API's closed CSP. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { appDir, ownerCookie } from '../../../test/helpers/apps.js';
import { DEFAULTS } from '../../config/schema.js';
import { appCsp, parseCspAllowlist } from './csp.js';

let h: TestHearth;
const app = (slug: string) => `${slug}.${h.domain}`;

beforeAll(async () => {
  const drive = appDir({ 'index.html': '<p>{{.Token}}</p>' }, { slug: 'drive', routes: { '/': { folder: '/', index: 'index.html', public: true } } });
  h = await startTestHearth({ apps: { ...DEFAULTS.apps, devDirs: `drive:${drive}`, cspAllowlist: '{"img":"http://tiles.example.org","script":"https://cdn.example.org"}' } });
});
afterAll(() => h.close());

describe('the CSP of app hosts', () => {
  it('is cozy-stack\'s policy, with the allow-lists, in dev http/ws', async () => {
    const res = await h.req('GET', '/', { host: app('drive') });
    const P = `http://${h.domain}`;
    const W = `ws://${h.domain}`;
    const base = `'self' ${P} ${W}`;
    expect(res.headers['content-security-policy']).toBe([
      `default-src ${base}`,
      `script-src 'wasm-unsafe-eval' https://matomo.cozycloud.cc https://errors.cozycloud.cc https://api.pwnedpasswords.com https://cdn.example.org ${base}`,
      `frame-src http://*.${h.domain} cozydrive: cozybanks: ${base}`,
      `connect-src blob: https://matomo.cozycloud.cc https://errors.cozycloud.cc https://api.pwnedpasswords.com ${base}`,
      `font-src data: ${base}`,
      `img-src data: blob: https://matomo.cozycloud.cc https://*.tile.openstreetmap.org https://*.tile.osm.org http://tiles.example.org ${base}`,
      "object-src 'none'", `style-src 'unsafe-inline' ${base}`, "worker-src 'self' blob:", "frame-ancestors 'self'", "base-uri 'self'", `form-action ${P};`,
    ].join('; '));
  });

  it('turns http sources to https and ws to wss outside dev; a source may not carry a directive', () => {
    const csp = appCsp({ scheme: 'https', instanceHost: 'alice.example.org', siblingsParent: 'example.org', allowlist: parseCspAllowlist('{"connect":"ws://x.example.org http://y.example.org"}') });
    expect(csp).toContain('connect-src blob: https://matomo.cozycloud.cc https://errors.cozycloud.cc https://api.pwnedpasswords.com wss://x.example.org https://y.example.org \'self\' https://alice.example.org wss://alice.example.org;');
    expect(csp).toContain('frame-src https://*.example.org ');
    expect(() => parseCspAllowlist('{"img":"a; script-src *"}')).toThrow(/may not hold/);
    expect(() => parseCspAllowlist('{"nope":"a"}')).toThrow(/must be one of/);
  });

  it('is off with apps.cspDisabled', async () => {
    const t = await startTestHearth({ apps: { ...DEFAULTS.apps, devDirs: (h.hearth.config.apps.devDirs), cspDisabled: true } });
    try {
      const res = await t.req('GET', '/', { host: `drive.${t.domain}` });
      expect([res.status, res.headers['content-security-policy']]).toEqual([200, undefined]);
    } finally {
      await t.close();
    }
  });

  it('lets the client app of an intent frame the page when this app is one of its services', async () => {
    const store = h.hearth.storeOf(h.instance);
    await store.put('io.cozy.intents', { _id: 'i1', action: 'PICK', type: ['io.cozy.files'], client: 'io.cozy.apps/photos', services: [{ slug: 'drive', href: `http://${app('drive')}/?intent=i1` }] });
    await store.put('io.cozy.intents', { _id: 'i2', action: 'PICK', type: ['io.cozy.files'], client: 'io.cozy.apps/photos', services: [{ slug: 'notes', href: 'x' }] });
    const granted = await h.req('GET', '/?intent=i1', { host: app('drive') });
    expect(granted.headers['content-security-policy']).toContain(`frame-ancestors 'self' http://${app('photos')};`);
    for (const id of ['i2', 'unknown']) {
      expect((await h.req('GET', `/?intent=${id}`, { host: app('drive') })).headers['content-security-policy']).toContain("frame-ancestors 'self';");
    }
  });

  it('leaves the API host its closed CSP and the login page its own', async () => {
    expect((await h.req('GET', '/settings/capabilities', { token: await h.cliToken('io.cozy.settings') })).headers['content-security-policy'])
      .toBe("default-src 'none'; frame-src 'none'; frame-ancestors 'none'; base-uri 'none';");
    expect((await h.req('GET', '/auth/login')).headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'nonce-/);
  });
});

describe('?sharecode= on an app page', () => {
  it('puts the share token in the page (a shortcode becomes its JWT), nothing for a bad code', async () => {
    const doc = await h.hearth.perms.docs.create(h.instance, { sourceId: 'io.cozy.apps/drive', permissions: { files: { type: 'io.cozy.files', verbs: ['GET'], values: ['x'] } }, codes: ['email'] });
    const jwt = (doc.codes as Record<string, string>).email!;
    const short = (doc.shortcodes as Record<string, string>).email!;
    expect((await h.req('GET', `/?sharecode=${jwt}`, { host: app('drive') })).text).toBe(`<p>${jwt}</p>`);
    expect((await h.req('GET', `/?sharecode=${short}`, { host: app('drive') })).text).toBe(`<p>${jwt}</p>`);
    expect((await h.req('GET', '/?sharecode=nope', { host: app('drive') })).text).toBe('<p></p>');
    // the owner gets the app token, not the share token
    const { cookie } = await ownerCookie(h, h.instance);
    expect((await h.req('GET', `/?sharecode=${jwt}`, { host: app('drive'), headers: { cookie } })).text).not.toContain(jwt);
  });

  it('shows the password page of a protected link: 401, a form for the instance\'s password route', async () => {
    const doc = await h.hearth.perms.docs.create(h.instance, { sourceId: 'io.cozy.apps/drive', permissions: { files: { type: 'io.cozy.files', verbs: ['GET'], values: ['y'] } }, codes: ['link'], password: 'secret' });
    const jwt = (doc.codes as Record<string, string>).link!;
    const res = await h.req('GET', `/?sharecode=${jwt}`, { host: app('drive') });
    expect(res.status).toBe(401);
    expect(res.text).toContain(`action="http://${h.domain}/auth/share-by-link/password"`);
    expect(res.text).toContain(`name="perm_id" value="${String(doc._id)}"`);
    expect(res.headers['content-security-policy']).toMatch(new RegExp(`^default-src 'none'; script-src 'nonce-([^']+)'; style-src 'nonce-\\1'; img-src http://${h.domain}; connect-src http://${h.domain};`));
    // with the password's cookie, the page and its token
    const pass = await h.req('POST', '/auth/share-by-link/password', { body: { perm_id: doc._id, password: 'secret' } });
    const cookie = [pass.headers['set-cookie'] ?? []].flat()[0]!.split(';')[0]!;
    expect((await h.req('GET', `/?sharecode=${jwt}`, { host: app('drive'), headers: { cookie } })).text).toBe(`<p>${jwt}</p>`);
  });
});
