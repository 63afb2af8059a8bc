/**
 * The limit of connected devices (`cozy.oauthclients.max`) on a real server: an app page of the owner goes to the limit page,
 * the page lists the devices and disconnects one (CSRF, session, only a device of this instance), then continues; the
 * authorize flow shows the page instead of the consent while the other devices fill the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { appDir, ownerCookie } from '../../test/helpers/apps.js';
import { DEFAULTS } from '../config/schema.js';

const CSRF = 'k'.repeat(43);
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
let h: TestHearth;
let owner = '';

beforeAll(async () => {
  const page = { 'index.html': '<html><head></head><body>{{.AppSlug}}</body></html>' };
  const dirs = `drive:${appDir(page, { slug: 'drive' })},settings:${appDir(page, { slug: 'settings' })}`;
  h = await startTestHearth({ settings: { ...DEFAULTS.settings, flags: '{"cozy.oauthclients.max":2}' }, apps: { ...DEFAULTS.apps, devDirs: dirs } });
  owner = (await ownerCookie(h, h.instance)).cookie;
});
afterAll(() => h.close());

async function device(name: string, kind: string | null, host?: string): Promise<{ id: string; token: string }> {
  const body = { redirect_uris: ['http://localhost/cb'], client_name: name, software_id: 'github.com/cozy-labs/cozy-desktop', ...(kind ? { client_kind: kind } : {}) };
  const res = await h.req('POST', '/auth/register', { body, headers: { accept: 'application/json' }, ...(host ? { host } : {}) });
  expect(res.status, res.text).toBe(201);
  const id = res.body.client_id as string;
  return { id, token: await h.hearth.tokens.issue(host ? h.other : h.instance, { aud: 'access', sub: id, scope: 'io.cozy.files' }) };
}
const disconnect = (fields: Record<string, string>, cookie = `${owner}; hearth_csrf=${CSRF}`) =>
  h.req('POST', '/auth/clients/disconnect', { raw: form({ csrf_token: CSRF, ...fields }), headers: { ...FORM, cookie } });

describe('the limit of connected devices', () => {
  it('sends the owner\'s app page to the limit page, lists the devices, disconnects one and continues', async () => {
    const laptop = await device('Laptop', 'desktop');
    await device('Phone <b>', 'mobile');
    await device('Script', null); // no kind: not a device, never counted nor listed
    const drive = await h.req('GET', '/', { host: `drive.${h.domain}`, headers: { cookie: owner } });
    expect(drive.status).toBe(200);
    await device('Browser', 'browser');

    const blocked = await h.req('GET', '/', { host: `drive.${h.domain}`, headers: { cookie: owner } });
    expect(blocked.status).toBe(303);
    const back = `http://drive.${h.domain}/`;
    expect(blocked.headers.location).toBe(`http://${h.domain}/settings/clients/limit-exceeded?redirect=${encodeURIComponent(back)}`);
    expect((await h.req('GET', '/', { host: `settings.${h.domain}`, headers: { cookie: owner } })).status).toBe(200); // settings lets the owner manage them
    expect((await h.req('GET', '/', { host: `drive.${h.domain}` })).status).toBe(302); // no session: the login, as before

    const page = await h.req('GET', `/settings/clients/limit-exceeded?redirect=${encodeURIComponent(back)}`, { headers: { cookie: owner, origin: `http://drive.${h.domain}` } });
    expect(page.status).toBe(200);
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
    expect(page.headers['content-security-policy']).toContain("form-action 'self'");
    expect([page.headers['set-cookie'] ?? []].flat().join()).toMatch(/hearth_csrf=.*Path=\/auth/);
    expect(page.text).toContain('3 devices are connected to your space, and it allows 2');
    expect(page.text.match(/<li>/g)).toHaveLength(3);
    expect(page.text).toContain('aria-label="Disconnect Phone &lt;b&gt;"');
    expect(page.text).not.toContain('Script');
    expect(page.text).toContain(`name="back" value="/settings/clients/limit-exceeded?redirect=${encodeURIComponent(back).replace(/&/g, '&amp;')}"`);

    const before = await h.req('POST', '/settings/synchronized', { token: laptop.token });
    expect(before.status).toBe(204);
    const done = await disconnect({ client_id: laptop.id, back: `/settings/clients/limit-exceeded?redirect=${encodeURIComponent(back)}` });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe(`/settings/clients/limit-exceeded?redirect=${encodeURIComponent(back)}`);
    expect((await h.req('POST', '/settings/synchronized', { token: laptop.token })).status).toBe(400); // its tokens stop
    const then = await h.req('GET', done.headers.location as string, { headers: { cookie: owner } });
    expect([then.status, then.headers.location]).toEqual([302, back]);
    expect((await h.req('GET', '/', { host: `drive.${h.domain}`, headers: { cookie: owner } })).status).toBe(200);
  });

  it('shows the page instead of the consent while the other devices fill the limit, and comes back to the consent', async () => {
    const tablet = await device('Tablet', 'mobile');
    const authorize = `/auth/authorize?${form({ client_id: tablet.id, redirect_uri: 'http://localhost/cb', state: 's1', response_type: 'code', scope: 'io.cozy.files' })}`;
    const page = await h.req('GET', authorize, { headers: { cookie: owner } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('3 devices are connected to your space, and it allows 2');
    expect(page.text).not.toContain('>Tablet<');
    const listed = [...page.text.matchAll(/name="client_id" value="([0-9a-f]+)"/g)].map((m) => m[1]!);
    expect(listed).toHaveLength(2);
    const done = await disconnect({ client_id: listed[0]!, back: authorize });
    expect([done.status, done.headers.location]).toEqual([303, authorize]);
    const consent = await h.req('GET', authorize, { headers: { cookie: owner } });
    expect(consent.status).toBe(200);
    expect(consent.text).toContain('Tablet');
    expect(consent.text).not.toContain('devices are connected');
  });

  it('refuses a disconnection without the form\'s token (403), without the owner\'s session (401), of a non-device or another instance\'s client (404), and never goes back elsewhere', async () => {
    const watch = await device('Watch', 'mobile');
    const script = await device('Cron', null);
    const foreign = await device('Other laptop', 'desktop', h.otherDomain);
    expect((await disconnect({ client_id: watch.id }, owner)).status).toBe(403);
    expect((await disconnect({ client_id: watch.id, csrf_token: 'x'.repeat(43) })).status).toBe(403);
    expect((await disconnect({ client_id: watch.id }, `hearth_csrf=${CSRF}`)).status).toBe(401);
    expect((await disconnect({ client_id: script.id })).status).toBe(404);
    expect((await disconnect({ client_id: foreign.id })).status).toBe(404);
    expect((await disconnect({ client_id: '../../x' })).status).toBe(404);
    for (const back of ['//evil.example/', 'https://evil.example/auth/authorize', '/auth/login', '/auth/authorize#x']) {
      const other = await device('Spare', 'desktop');
      const res = await disconnect({ client_id: other.id, back });
      expect([back, res.status, res.headers.location]).toEqual([back, 303, '/settings/clients/limit-exceeded']);
    }
    expect((await h.req('POST', '/settings/synchronized', { token: watch.token })).status).toBe(204);
  });
});
