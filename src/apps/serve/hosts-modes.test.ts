/** App hosts in flat mode (the session cookie on the parent domain, one per instance), GET / and the logout from an app host. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../../test/helpers/hearth.js';
import { appDir, ownerCookie } from '../../../test/helpers/apps.js';
import { DEFAULTS } from '../../config/schema.js';
import { derivePassphrase } from '../../auth/passphrase.js';
import type { Instance } from '../../instances/types.js';

const ITER = 1000;
const CSRF = 'c'.repeat(43);
let h: TestHearth;
let alice: Instance;
let bob: Instance;

async function login(instance: Instance, redirect: string): Promise<Res> {
  const good = await derivePassphrase('pass', instance.domain, ITER);
  await h.hearth.registry.setDerivedPassphrase(instance, good, ITER);
  return h.req('POST', '/auth/login', {
    host: instance.domain, raw: new URLSearchParams({ csrf_token: CSRF, passphrase: good, redirect }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `hearth_csrf=${CSRF}` },
  });
}

beforeAll(async () => {
  const home = appDir({ 'index.html': '<p data-token="{{.Token}}">{{.SubDomain}}</p>' }, { slug: 'home', name: 'Home', routes: { '/': { folder: '/', index: 'index.html', public: false }, '/public': { folder: '/', index: 'index.html', public: true } } });
  h = await startTestHearth({ apps: { ...DEFAULTS.apps, subdomains: 'flat', devDirs: `home:${home}` } });
  alice = await h.hearth.registry.create({ domain: `alice.localhost:${h.port}`, passphrase: 'x' });
  bob = await h.hearth.registry.create({ domain: `bob.localhost:${h.port}`, passphrase: 'x' });
});
afterAll(() => h.close());

describe('flat app hosts', () => {
  it('says so in /settings/capabilities', async () => {
    const res = await h.req('GET', '/settings/capabilities', { token: await h.cliToken('io.cozy.settings') });
    expect(res.body.data.attributes.flat_subdomains).toBe(true);
  });

  it('logs in back to <first>-<slug>.<rest> with a cookie per instance on the parent domain, refused on another instance', async () => {
    const app = `http://alice-home.localhost:${h.port}/#/x`;
    const res = await login(alice, app);
    expect([res.status, res.headers.location]).toEqual([303, app]);
    const setCookie = [res.headers['set-cookie'] ?? []].flat()[0]!;
    expect(setCookie).toMatch(new RegExp(`^sess-${alice.id}=[^;]+; Path=/; Max-Age=\\d+; Domain=localhost; HttpOnly; SameSite=Lax$`));
    const cookie = setCookie.split(';')[0]!;
    const page = await h.req('GET', '/', { host: `alice-home.localhost:${h.port}`, headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/^<p data-token="[\w.-]{40,}">flat<\/p>$/);
    // the parent-domain cookie reaches bob's app hosts too, but it is not bob's (another name, another secret)
    const onBob = await h.req('GET', '/', { host: `bob-home.localhost:${h.port}`, headers: { cookie } });
    expect(onBob.status).toBe(302);
    const renamed = cookie.replace(`sess-${alice.id}`, `sess-${bob.id}`);
    expect((await h.req('GET', '/', { host: `bob-home.localhost:${h.port}`, headers: { cookie: renamed } })).status).toBe(302);
    // a redirect to another instance's flat app host is not followed
    const other = await login(alice, `http://bob-home.localhost:${h.port}/`);
    expect(other.headers.location).toBe(`http://${alice.domain}/`);
  });

  it('sends the owner from / to the default app once it is installed, and to onboarding before', async () => {
    const { cookie } = await ownerCookie(h, alice, `sess-${alice.id}`);
    const res = await h.req('GET', '/', { host: alice.domain, headers: { cookie } });
    expect([res.status, res.headers.location]).toEqual([303, `http://alice-home.localhost:${h.port}/`]);
    const fresh = await h.hearth.registry.create({ domain: `carol.localhost:${h.port}` });
    const onboarding = await h.req('GET', '/?registerToken=abc', { host: fresh.domain });
    expect([onboarding.status, onboarding.headers.location]).toEqual([303, '/auth/passphrase?registerToken=abc']);
    expect((await h.req('GET', '/', { host: `carol-home.localhost:${h.port}` })).headers.location).toBe(`http://${fresh.domain}/`);
  });
});

describe('protected share links on flat app hosts', () => {
  it('sets the password cookie on the parent domain, from the app host\'s page, so that the link opens there', async () => {
    const doc = await h.hearth.perms.docs.create(alice, { sourceId: 'io.cozy.apps/home', permissions: { files: { type: 'io.cozy.files', verbs: ['GET'], values: ['y'] } }, codes: ['link'], password: 'secret' });
    const jwt = (doc.codes as Record<string, string>).link!;
    const appHost = `alice-home.localhost:${h.port}`;
    const locked = await h.req('GET', `/public?sharecode=${jwt}`, { host: appHost });
    expect(locked.status).toBe(401);
    expect(locked.text).toContain(`action="http://${alice.domain}/auth/share-by-link/password"`);
    // what the password page's script posts, from the app host's origin
    const unlock = (origin: string) => h.req('POST', '/auth/share-by-link/password', {
      host: alice.domain, raw: new URLSearchParams({ perm_id: String(doc._id), password: 'secret' }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    });
    const pass = await unlock(`http://${appHost}`);
    expect([pass.status, pass.headers['access-control-allow-origin']]).toEqual([200, `http://${appHost}`]);
    const setCookie = [pass.headers['set-cookie'] ?? []].flat()[0]!;
    expect(setCookie).toMatch(new RegExp(`^pass${String(doc._id)}=[\\w-]{43}; Path=/; Domain=localhost; HttpOnly; SameSite=Lax$`));
    const cookie = setCookie.split(';')[0]!;
    const page = await h.req('GET', `/public?sharecode=${jwt}`, { host: appHost, headers: { cookie } });
    expect([page.status, page.text]).toEqual([200, `<p data-token="${jwt}">flat</p>`]);
    // another instance's app host is not an origin of alice's
    expect((await unlock(`http://bob-home.localhost:${h.port}`)).status).toBe(403);
  });
});

describe('logging out from an app host', () => {
  it('answers the preflights of DELETE /auth/login for the app hosts of the instance only', async () => {
    const origin = `http://alice-home.localhost:${h.port}`;
    for (const path of ['/auth/login', '/auth/login/others']) {
      const ok = await h.req('OPTIONS', path, { host: alice.domain, headers: { origin, 'access-control-request-method': 'DELETE' } });
      expect([ok.status, ok.headers['access-control-allow-origin'], ok.headers['access-control-allow-credentials']]).toEqual([204, origin, 'true']);
      expect(ok.headers['access-control-allow-methods']).toContain('DELETE');
      for (const evil of ['http://evil.example', `http://bob-home.localhost:${h.port}`]) {
        const no = await h.req('OPTIONS', path, { host: alice.domain, headers: { origin: evil, 'access-control-request-method': 'DELETE' } });
        expect([no.status, no.headers['access-control-allow-origin']]).toEqual([204, undefined]);
      }
    }
  });

  it('logs out with the app token from the app host, and not with the cookie alone', async () => {
    const origin = `http://alice-home.localhost:${h.port}`;
    const { cookie } = await ownerCookie(h, alice, `sess-${alice.id}`);
    const page = await h.req('GET', '/', { host: `alice-home.localhost:${h.port}`, headers: { cookie } });
    const token = /data-token="([^"]+)"/.exec(page.text)![1]!;
    await h.hearth.perms.grant(alice, 'app', 'home', null);
    const bare = await h.req('DELETE', '/auth/login', { host: alice.domain, headers: { cookie, origin } });
    expect(bare.status).toBe(403);
    const res = await h.req('DELETE', '/auth/login', { host: alice.domain, token, headers: { cookie, origin } });
    expect([res.status, res.headers['access-control-allow-origin'], res.headers['access-control-allow-credentials']]).toEqual([204, origin, 'true']);
    expect((await h.req('GET', '/', { host: `alice-home.localhost:${h.port}`, headers: { cookie } })).status).toBe(302);
  });
});
