/**
 * The /registry proxy routes on a real Hearth whose apps.registries are a local folder (built with
 * publish) and a real HTTP registry speaking cozy's API: auth rules, JSON shapes, caching, gzip.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ICON_SVG, startFixtureRegistry, type FixtureRegistry } from '../../../test/helpers/app-registry.js';
import { makeTarball } from '../../../test/helpers/app-tarball.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { DEFAULTS } from '../../config/schema.js';
import { publish } from './publish.js';

let tmp = '';
let remote: FixtureRegistry;
let h: TestHearth;
let app = { token: '', cookie: '' };

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'hearth-registry-routes-'));
  const file = join(tmp, 'notes.tar.gz');
  await makeTarball(file, [
    { name: 'manifest.webapp', body: JSON.stringify({ slug: 'notes', version: '1.0.0', editor: 'me', icon: 'icon.png', screenshots: ['s/1.png'] }) },
    { name: 'icon.png', body: 'PNGDATA' }, { name: 's/1.png', body: 'SHOT' },
  ]);
  await publish(file, { dir: join(tmp, 'local'), limits: { maxEntries: 100, maxUnpackedBytes: 1e6 } });
  remote = await startFixtureRegistry([
    { slug: 'drive', type: 'webapp', editor: 'cozy', versions: { '1.0.0': '2026-01-01T00:00:00Z', '1.1.0-beta.1': '2026-01-02T00:00:00Z' }, maintenance_activated: true },
    { slug: 'banks', type: 'konnector', editor: 'cozy', versions: { '3.0.0': '2026-01-01T00:00:00Z' } },
  ]);
  h = await startTestHearth({ apps: { ...structuredClone(DEFAULTS.apps), registries: `${pathToFileURL(join(tmp, 'local')).href},${remote.url}` } });
  await h.hearth.perms.grantApp(h.instance, 'store', 'io.cozy.apps');
  const t = await h.hearth.appToken(h.instance, 'store');
  app = { token: t.token, cookie: `cozysessid=${t.session_cookie}` };
});
afterAll(async () => {
  await h?.close();
  await remote?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const asApp = (path: string, headers: Record<string, string> = {}) => h.req('GET', path, { token: app.token, headers: { cookie: app.cookie, ...headers } });

/** A GET with Accept-Encoding, the body left as it came. */
function rawGet(path: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: h.port, path, headers: { host: h.domain, ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
}

describe('who may read the registry', () => {
  it('an app token reads the lists and objects; no token is 401, a CLI token 403', async () => {
    expect((await asApp('/registry')).status).toBe(200);
    for (const path of ['/registry', '/registry/', '/registry/maintenance', '/registry/drive', '/registry/drive/1.0.0', '/registry/drive/stable/latest']) {
      expect((await h.req('GET', path)).status, path).toBe(401);
      expect((await h.req('GET', path, { token: await h.cliToken('io.cozy.apps') })).status, path).toBe(403);
    }
  });

  it('an OAuth client\'s token reads them too; a konnector\'s is 403', async () => {
    const reg = await h.req('POST', '/auth/register', { headers: { accept: 'application/json' }, body: { redirect_uris: ['https://app.example/cb'], client_name: 'Store', software_id: 'github.com/hearth/store' } });
    expect(reg.status).toBe(201);
    const oauth = await h.hearth.tokens.issue(h.instance, { aud: 'access', sub: reg.body.client_id as string, scope: 'io.cozy.apps:GET' });
    const list = await h.req('GET', '/registry?limit=1', { token: oauth });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(1);
    await h.hearth.perms.grant(h.instance, 'konnector', 'banks', 'io.cozy.apps');
    const konnector = await h.hearth.tokens.issue(h.instance, { aud: 'konn', sub: 'banks' });
    expect((await h.req('GET', '/registry', { token: konnector })).status).toBe(403);
  });

  it('icons and screenshots: the session or GET on io.cozy.apps, else 403', async () => {
    expect((await h.req('GET', '/registry/drive/icon')).status).toBe(403);
    expect((await h.req('GET', '/registry/drive/icon', { token: await h.cliToken('io.cozy.files') })).status).toBe(403);
    expect((await h.req('GET', '/registry/drive/icon', { token: await h.cliToken('io.cozy.apps:GET') })).status).toBe(200);
    const bySession = await h.req('GET', '/registry/drive/icon', { headers: { cookie: app.cookie } });
    expect(bySession.status).toBe(200);
    expect(bySession.text).toBe(ICON_SVG);
  });
});

describe('answers', () => {
  it('lists the merged registries in cozy\'s shape, with a multi-cursor', async () => {
    const all = await asApp('/registry?limit=2');
    expect(all.headers['content-type']).toMatch(/^application\/json/);
    expect(all.body.data.map((a: { slug: string }) => a.slug)).toEqual(['banks', 'drive']);
    expect(all.body.meta).toEqual({ count: 2, next_cursor: expect.stringMatching(/^-?\d+\|-?\d+$/) as unknown });
    const next = await asApp(`/registry?limit=2&cursor=${encodeURIComponent(all.body.meta.next_cursor as string)}`);
    expect(next.body).toMatchObject({ data: [{ slug: 'notes', type: 'webapp', latest_version: { version: '1.0.0' } }], meta: { count: 1 } });
    expect(next.body.meta.next_cursor).toBeUndefined();
    const filtered = await asApp('/registry?filter[type]=konnector&versionsChannel=stable&latestChannelVersion=beta&sort=-slug');
    expect(filtered.body.data.map((a: { slug: string }) => a.slug)).toEqual(['banks']);
    const beta = await asApp('/registry?latestChannelVersion=beta&versionsChannel=stable');
    expect(beta.body.data.find((a: { slug: string }) => a.slug === 'drive')).toMatchObject({ latest_version: { version: '1.1.0-beta.1' }, versions: { stable: ['1.0.0'] } });
  });

  it('refuses bad list parameters (400)', async () => {
    for (const q of ['limit=x', 'sort=password', 'versionsChannel=nightly', 'cursor=a|b']) expect((await asApp(`/registry?${q}`)).status, q).toBe(400);
  });

  it('answers an application, a version (immutable), a channel\'s latest (not cached), the maintenance list', async () => {
    const drive = await asApp('/registry/drive');
    expect(drive.body).toMatchObject({ slug: 'drive', type: 'webapp', editor: 'cozy', versions: { stable: ['1.0.0'], beta: ['1.1.0-beta.1'] }, latest_version: { version: '1.0.0' } });
    const v = await asApp('/registry/notes/1.0.0');
    expect(v.headers['cache-control']).toBe('max-age=31536000, immutable');
    expect(Object.keys(v.body).sort()).toEqual(['created_at', 'manifest', 'sha256', 'size', 'slug', 'tar_prefix', 'type', 'url', 'version']);
    const latest = await asApp('/registry/drive/beta/latest');
    expect(latest.body.version).toBe('1.1.0-beta.1');
    expect(latest.headers['cache-control']).toBeUndefined();
    expect((await asApp('/registry/maintenance')).body.map((a: { slug: string }) => a.slug)).toEqual(['drive']);
    for (const path of ['/registry/nothing', '/registry/drive/9.9.9', '/registry/drive/not-a-version', '/registry/nothing/stable/latest']) {
      const res = await asApp(path);
      expect(res.status, path).toBe(404);
      expect(res.body.errors[0].status).toBe('404');
    }
    expect((await asApp('/registry/notes/dev/latest')).body.version).toBe('1.0.0');
    expect((await asApp('/registry/notes/nightly/latest')).status).toBe(400);
  });

  it('streams icons and screenshots with their cache headers', async () => {
    const icon = await asApp('/registry/notes/icon');
    expect(icon.status).toBe(200);
    expect(icon.text).toBe('PNGDATA');
    expect(icon.headers['content-type']).toBe('image/png');
    expect(icon.headers['cache-control']).toBe('max-age=86400');
    const versioned = await asApp('/registry/notes/1.0.0/screenshots/s/1.png');
    expect(versioned.text).toBe('SHOT');
    expect(versioned.headers['cache-control']).toBe('max-age=31536000, immutable');
    expect((await asApp('/registry/drive/1.0.0/partnership_icon')).text).toBe(ICON_SVG);
    expect((await asApp('/registry/notes/1.0.0/screenshots/..%2F1.0.0.json')).status).toBe(404);
    expect((await asApp('/registry/notes/screenshots/manifest.webapp')).status).toBe(404);
  });

  it('gzips the list, an application and the maintenance list when accepted', async () => {
    const auth = { authorization: `Bearer ${app.token}`, cookie: app.cookie };
    for (const path of ['/registry', '/registry/drive', '/registry/maintenance']) {
      const zipped = await rawGet(path, { ...auth, 'accept-encoding': 'gzip, deflate' });
      expect(zipped.headers['content-encoding'], path).toBe('gzip');
      expect(zipped.headers.vary, path).toMatch(/Accept-Encoding/i);
      const plain = await rawGet(path, auth);
      expect(plain.headers['content-encoding'], path).toBeUndefined();
      expect(JSON.parse(gunzipSync(zipped.body).toString('utf8')), path).toEqual(JSON.parse(plain.body.toString('utf8')));
    }
    const refused = await rawGet('/registry', { ...auth, 'accept-encoding': 'gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();
  });
});
