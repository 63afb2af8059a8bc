import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { appDir, ownerCookie } from '../../../test/helpers/apps.js';
import { FolderFileSource } from './folder-source.js';

const INDEX = `<!doctype html><html><head><title>{{.AppName}}</title>{{.CozyBar}}</head>
<body data-cozy="{{.CozyData}}" data-cozy-token="{{.Token}}" data-cozy-domain="{{.Domain}}"><script>window.x = {{.Locale}};</script></body></html>`;
const MANIFEST = { slug: 'drive', name: 'Drive', editor: 'Cozy', version: '1.2.3', routes: {
  '/': { folder: '/', index: 'index.html', public: false },
  '/public': { folder: '/pub', index: 'index.html', public: true },
  '/admin': { folder: '/adm', index: 'admin.html', public: false },
} };
const JS = 'console.log("drive");\n';

let h: TestHearth;
let notesDir: string;
const host = (slug: string) => `${slug}.${h.domain}`;

beforeAll(async () => {
  const drive = appDir({ 'index.html': INDEX, 'app.badf00dbadf00d.js': JS, 'plain.js': JS, 'pub/index.html': '<p>{{.Token}}|{{.AppSlug}}</p>', 'adm/admin.html': 'admin {{.AppSlug}}', 'adm/x.css': 'a{}' }, MANIFEST);
  const home = appDir({ 'index.html': 'home' }, { slug: 'home', name: 'Home' });
  const broken = appDir({ 'index.html': '<p>{{.Token broken</p>' }, { slug: 'broken' });
  notesDir = appDir({ 'index.html': 'notes {{.AppName}}' });
  h = await startTestHearth(
    { apps: { ...(await import('../../config/schema.js')).DEFAULTS.apps, devDirs: `drive:${drive},home:${home},broken:${broken}` } },
    { appFiles: new FolderFileSource(new Map([['notes', notesDir]])) },
  );
});
afterAll(() => h.close());

describe('serving an app on its host (nested)', () => {
  it('sends a visitor without a session to the login page and back, refuses private files, answers robots.txt', async () => {
    const res = await h.req('GET', '/?x=1', { host: host('drive') });
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`http://${h.domain}/auth/login?redirect=${encodeURIComponent(`http://${host('drive')}/?x=1`)}`);
    expect((await h.req('GET', '/app.badf00dbadf00d.js', { host: host('drive') })).status).toBe(401);
    const robots = await h.req('GET', '/robots.txt', { host: host('drive') });
    expect([robots.status, robots.text]).toEqual([200, 'User-agent: *\nDisallow: /\n']);
    // the login accepts the app URL back
    const { cookie } = await ownerCookie(h, h.instance);
    const back = await h.req('GET', `/auth/login?redirect=${encodeURIComponent(`http://${host('drive')}/#/folder`)}`, { headers: { cookie } });
    expect([back.status, back.headers.location]).toEqual([303, `http://${host('drive')}/#/folder`]);
  });

  it('answers 405 to other methods, 404 for an app not installed, 301 for collect', async () => {
    const post = await h.req('POST', '/', { host: host('drive'), body: {} });
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    expect((await h.req('GET', '/', { host: host('nope') })).status).toBe(404);
    const collect = await h.req('GET', '/', { host: host('collect') });
    expect([collect.status, collect.headers.location]).toEqual([301, `http://${host('home')}/`]);
  });

  it('templates the index for the owner: an app token bound to the session, the variables, the headers', async () => {
    const { cookie, sessionId } = await ownerCookie(h, h.instance);
    const res = await h.req('GET', '/', { host: host('drive'), headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=UTF-8');
    expect(res.headers['cache-control']).toBe('private, no-store, must-revalidate');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    const data = JSON.parse(/data-cozy="([^"]*)"/.exec(res.text)![1]!.replace(/&#34;/g, '"').replace(/&#43;/g, '+').replace(/&amp;/g, '&')) as Record<string, unknown>;
    expect(data).toMatchObject({ domain: h.domain, subdomain: 'nested', locale: 'en', isLoggedIn: true, tracking: false, app: { slug: 'drive', name: 'Drive', editor: 'Cozy' } });
    const claims = decodeJwt(String(data.token));
    expect(claims).toMatchObject({ aud: 'app', sub: 'drive', session_id: sessionId, iss: h.domain });
    expect(res.text).toContain(`data-cozy-token="${String(data.token)}"`);
    expect(res.text).toContain('<title>Drive</title>');
    expect(res.text).toContain('window.x = "en";');
    expect(res.text).toMatch(new RegExp(`<script src="//${h.domain}/assets/js/cozy-bar\\.min\\.[0-9a-f]{16}\\.js"></script>`));
    // the token works on the API with this session's cookie, and only with it (the installer writes the permission doc)
    await h.hearth.perms.grant(h.instance, 'app', 'drive', null);
    const settings = await h.req('GET', '/settings/instance', { token: String(data.token), headers: { cookie } });
    expect(settings.status).toBe(200);
    const other = await ownerCookie(h, h.instance);
    expect((await h.req('GET', '/settings/instance', { token: String(data.token), headers: { cookie: other.cookie } })).status).toBe(400);
  });

  it('serves files: immutable hashed names, ETag and 304, types, Vary, the most specific route', async () => {
    const { cookie } = await ownerCookie(h, h.instance);
    const hashed = await h.req('GET', '/app.badf00dbadf00d.js', { host: host('drive'), headers: { cookie } });
    expect(hashed.status).toBe(200);
    expect(hashed.text).toBe(JS);
    expect(hashed.headers['cache-control']).toBe('max-age=31536000, immutable');
    expect(hashed.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(hashed.headers.vary).toContain('Accept-Encoding');
    const again = await h.req('GET', '/app.badf00dbadf00d.js', { host: host('drive'), headers: { cookie, 'if-none-match': String(hashed.headers.etag) } });
    expect(again.status).toBe(304);
    const plain = await h.req('GET', '/plain.js', { host: host('drive'), headers: { cookie } });
    expect([plain.status, plain.headers['cache-control']]).toEqual([200, undefined]);
    expect((await h.req('GET', '/admin', { host: host('drive'), headers: { cookie } })).text).toBe('admin drive');
    const css = await h.req('GET', '/admin/x.css', { host: host('drive'), headers: { cookie } });
    expect([css.status, css.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8']);
    expect((await h.req('GET', '/missing.js', { host: host('drive'), headers: { cookie } })).status).toBe(404);
    expect((await h.req('GET', '/%2e%2e/%2e%2e/etc/passwd', { host: host('drive'), headers: { cookie } })).status).toBe(404);
  });

  it('answers HEAD as GET without a body', async () => {
    const { cookie } = await ownerCookie(h, h.instance);
    const index = await h.req('HEAD', '/', { host: host('drive'), headers: { cookie } });
    expect([index.status, index.headers['content-type'], index.text]).toEqual([200, 'text/html; charset=UTF-8', '']);
    const asset = await h.req('HEAD', '/app.badf00dbadf00d.js', { host: host('drive'), headers: { cookie } });
    expect([asset.status, asset.headers['content-length'], asset.text]).toEqual([200, String(JS.length), '']);
  });

  it('serves a public route without a session, with an empty token', async () => {
    const res = await h.req('GET', '/public', { host: host('drive') });
    expect([res.status, res.text]).toEqual([200, '<p>|drive</p>']);
  });

  it('serves a template it cannot parse as it is, never a 500', async () => {
    const { cookie } = await ownerCookie(h, h.instance);
    const res = await h.req('GET', '/', { host: host('broken'), headers: { cookie } });
    expect([res.status, res.text]).toEqual([200, '<p>{{.Token broken</p>']);
  });

  it('serves an installed app from its document and its code, 503 while it is not ready', async () => {
    const store = h.hearth.storeOf(h.instance);
    const doc = { _id: 'io.cozy.apps/notes', slug: 'notes', name: 'Notes', source: 'registry://notes', state: 'installing', version: '1.0.0', checksum: 'abc', created_at: '', updated_at: '' };
    const put = await store.put('io.cozy.apps', doc);
    const { cookie } = await ownerCookie(h, h.instance);
    expect((await h.req('GET', '/', { host: host('notes'), headers: { cookie } })).status).toBe(503);
    await store.put('io.cozy.apps', { ...doc, _rev: put.rev, state: 'ready' });
    const res = await h.req('GET', '/', { host: host('notes'), headers: { cookie } });
    expect([res.status, res.text]).toEqual([200, 'notes Notes']);
  });

  it('gives no CORS grant on app hosts: another app of the instance cannot read the page and its token', async () => {
    const { cookie } = await ownerCookie(h, h.instance);
    for (const path of ['/', '/app.badf00dbadf00d.js', '/missing.js']) {
      const res = await h.req('GET', path, { host: host('drive'), headers: { cookie, origin: `http://${host('photos')}` } });
      expect([path, res.headers['access-control-allow-origin'], res.headers['access-control-allow-credentials']]).toEqual([path, undefined, undefined]);
    }
    // the API keeps its CORS for apps
    const api = await h.req('GET', '/settings/capabilities', { token: await h.cliToken('io.cozy.settings'), headers: { origin: `http://${host('photos')}` } });
    expect(api.headers['access-control-allow-origin']).toBe(`http://${host('photos')}`);
  });

  it('refuses the cookie of an instance on the app hosts of another', async () => {
    const bob = await h.hearth.registry.create({ domain: `bob.${h.domain}`, passphrase: 'bob-pass' });
    const alice = await ownerCookie(h, h.instance);
    // Alice's cookie (Domain=localhost) reaches drive.bob.localhost, but it is not a session of bob's
    const res = await h.req('GET', '/', { host: `drive.${bob.domain}`, headers: { cookie: alice.cookie } });
    expect(res.status).toBe(302);
    const page = await h.req('GET', '/', { host: host('drive'), headers: { cookie: alice.cookie } });
    const token = /data-cozy-token="([^"]*)"/.exec(page.text)![1]!;
    expect((await h.req('GET', '/settings/instance', { host: bob.domain, token, headers: { cookie: alice.cookie } })).status).toBe(400);
  });
});
