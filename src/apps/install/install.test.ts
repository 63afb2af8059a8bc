/**
 * The installer through the real server (cozy-apps.md §4): install from an http tarball and from file:// (dev),
 * states and their realtime events, SSE progress, one lock per slug, a failed install leaving nothing, and who
 * may install.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DocEvent } from '../../common/bus.js';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { until } from '../../../test/helpers/jobs.js';

let h: TestHearth;
let pkgs: PackageServer;
let token: string;
const SCOPE = 'io.cozy.apps io.cozy.konnectors io.cozy.permissions io.cozy.triggers';
const manifest = (slug: string, extra: Record<string, unknown> = {}) => ({
  slug, name: slug, type: 'webapp', version: '1.0.0', permissions: { contacts: { type: 'io.cozy.contacts', verbs: ['GET'] } }, ...extra,
});
const files = (slug: string, extra: Record<string, unknown> = {}) => ({ 'manifest.webapp': manifest(slug, extra), 'index.html': '<html><body>hi</body></html>' });

beforeAll(async () => {
  h = await startTestHearth({ dev: true });
  pkgs = await startPackageServer();
  token = await h.cliToken(SCOPE);
});
afterAll(async () => {
  await h.close();
  await pkgs.close();
});

async function waitReady(slug: string, route = '/apps') {
  for (let i = 0; i < 200; i++) {
    const res = await h.req('GET', `${route}/${slug}`, { token });
    if (res.status === 404) return res;
    if (!['installing', 'upgrading'].includes(res.body?.data?.attributes?.state)) return res;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${slug} never settled`);
}

describe('install', () => {
  it('installs from an http tarball: 202 installing, then ready, with its permission document and realtime events', async () => {
    const events: DocEvent[] = [];
    const unsubscribe = h.hearth.bus.subscribe(h.domain, 'io.cozy.apps', (e) => events.push(e));
    const url = await pkgs.add('notes', files('notes'));
    const res = await h.req('POST', `/apps/notes?Source=${encodeURIComponent(url)}`, { token });
    expect(res.status).toBe(202);
    expect(res.headers['content-type']).toContain('application/vnd.api+json');
    expect(res.body.data).toMatchObject({ type: 'io.cozy.apps', id: 'io.cozy.apps/notes', attributes: { slug: 'notes', state: 'installing', version: '1.0.0', source: url } });
    const done = await waitReady('notes');
    expect(done.body.data.attributes).toMatchObject({ state: 'ready', version: '1.0.0', name: 'notes', routes: { '/': { folder: '/', index: 'index.html', public: false } } });
    expect(done.body.data.attributes.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(done.body.data.links).toMatchObject({ self: '/apps/notes', icon: '/apps/notes/icon/1.0.0', related: `http://notes.${h.domain}/` });
    // an event is published once its write is durable, which a read can precede a little
    await until(() => events.length >= 2);
    unsubscribe();
    expect(events.map((e) => [e.verb, e.doc.state])).toEqual([['CREATED', 'installing'], ['UPDATED', 'ready']]);
    const perm = await h.hearth.perms.appPermissions(h.instance, 'app', 'notes');
    expect(perm).toMatchObject({ type: 'app', source_id: 'io.cozy.apps/notes', permissions: { contacts: { type: 'io.cozy.contacts', verbs: ['GET'] } } });
    expect(await h.hearth.appCode.refs({ instanceId: h.instance.id })).toEqual([expect.objectContaining({ kind: 'webapp', slug: 'notes' })]);

    const list = await h.req('GET', '/apps/', { token });
    expect(list.status).toBe(200);
    expect(list.body.data.map((d: { id: string }) => d.id)).toEqual(['io.cozy.apps/notes']);
    expect(list.body.links).toBeUndefined();
  });

  it('installs from a folder in dev (file://), with Deactivated ending in "installed"', async () => {
    const dir = join(h.dataDir, 'dev-app');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.webapp'), JSON.stringify(manifest('devapp', { version: '0.1.0' })));
    writeFileSync(join(dir, 'index.html'), '<html></html>');
    const res = await h.req('POST', `/apps/devapp?Deactivated=true&Source=${encodeURIComponent(`file://${dir}`)}`, { token });
    expect(res.status).toBe(202);
    expect((await waitReady('devapp')).body.data.attributes).toMatchObject({ state: 'installed', version: '0.1.0' });
  });

  it('installs code already stored (the same version on another instance) with one write of its doc, still one install at a time', async () => {
    const url = await pkgs.add('stored', files('stored'));
    const first = await (await h.hearth.installer.install(h.other, 'webapp', 'stored', { source: url })).done;
    expect(first.error).toBeNull();
    const sha256 = first.doc!.checksum;
    const events: DocEvent[] = [];
    const unsubscribe = h.hearth.bus.subscribe(h.domain, 'io.cozy.apps', (e) => events.push(e));
    const path = `/apps/stored?Source=${encodeURIComponent(`${url}#${sha256}`)}`;
    const answers = await Promise.all([h.req('POST', path, { token }), h.req('POST', path, { token })]);
    expect(answers.map((r) => r.status).sort()).toEqual([202, 409]);
    expect(answers.find((r) => r.status === 202)!.body.data.attributes).toMatchObject({ state: 'installing', version: '1.0.0', checksum: sha256 });
    const done = await waitReady('stored');
    expect(done.body.data.attributes).toMatchObject({ state: 'ready', checksum: sha256 });
    // `installing` was the answer, not a stored revision: the doc's first revision is `ready`, its one realtime event
    expect(done.body.data.meta.rev).toMatch(/^1-/);
    await until(() => events.length >= 1);
    unsubscribe();
    expect(events.map((e) => [e.verb, e.doc.state])).toEqual([['CREATED', 'ready']]);
    expect(await h.hearth.perms.appPermissions(h.instance, 'app', 'stored')).toMatchObject({ source_id: 'io.cozy.apps/stored', permissions: { contacts: { type: 'io.cozy.contacts' } } });
    expect(await h.hearth.appCode.refs({ sha256 })).toHaveLength(2);
    expect((await h.req('DELETE', '/apps/stored', { token })).status).toBe(200);
  });

  it('streams the states with Accept: text/event-stream', async () => {
    const url = await pkgs.add('photos', files('photos'));
    const res = await h.req('POST', `/apps/photos?Source=${encodeURIComponent(url)}`, { token, headers: { accept: 'text/event-stream' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    const states = [...res.text.matchAll(/event: state\r\ndata: (.*)\r\n\r\n/g)].map((m) => JSON.parse(m[1]!).data.attributes.state);
    expect(states).toEqual(['installing', 'ready']);
    // a web app's page (the Store, on its own host) reads the stream across origins: the CORS headers come with it
    const origin = `http://store.${h.instance.domain}`;
    const cors = await h.req('PUT', `/apps/photos?Source=${encodeURIComponent(url)}`, { token, headers: { accept: 'text/event-stream', origin } });
    expect(cors.headers['content-type']).toContain('text/event-stream');
    expect(cors.headers['access-control-allow-origin']).toBe(origin);
    expect(cors.headers['access-control-allow-credentials']).toBe('true');
    const failed = await h.req('PUT', `/apps/photos?Source=${encodeURIComponent(`${url.replace('photos', 'nothing')}`)}`, { token, headers: { accept: 'text/event-stream' } });
    expect(failed.text).toMatch(/event: error\r\ndata: ".*404/);
  });

  it('lists a page at a time with links.next', async () => {
    const first = await h.req('GET', '/apps/?limit=1', { token });
    expect(first.body.data).toHaveLength(1);
    expect(first.body.links.next).toBe('/apps/?start_key=notes&limit=1');
    const second = await h.req('GET', first.body.links.next, { token });
    expect(second.body.data[0].id).toBe('io.cozy.apps/notes');
  });

  it('lets one of two concurrent installs of a slug win; the other is a 409', async () => {
    const url = await pkgs.add('race', files('race'));
    const [a, b] = await Promise.all([0, 1].map(() => h.req('POST', `/apps/race?Source=${encodeURIComponent(url)}`, { token })));
    expect([a!.status, b!.status].sort()).toEqual([202, 409]);
    expect((await waitReady('race')).body.data.attributes.state).toBe('ready');
    expect((await h.req('POST', `/apps/race?Source=${encodeURIComponent(url)}`, { token })).status).toBe(409);
  });

  it('leaves nothing after a failed install: no doc, no permission document, no code reference', async () => {
    const url = await pkgs.add('wrong', files('other-slug'));
    const before = await h.hearth.appCode.refs({ instanceId: h.instance.id });
    const res = await h.req('POST', `/apps/wrong?Source=${encodeURIComponent(url)}`, { token });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].detail).toMatch(/slug/);
    expect((await h.req('GET', '/apps/wrong', { token })).status).toBe(404);
    expect(await h.hearth.perms.appPermissions(h.instance, 'app', 'wrong')).toBeNull();
    expect(await h.hearth.appCode.refs({ instanceId: h.instance.id })).toEqual(before);
    expect((await h.req('POST', `/apps/wrong?Source=${encodeURIComponent(url.replace('wrong', 'absent'))}`, { token })).status).toBe(404);
  });

  it('refuses bad slugs (422), bad schemes (422) and a konnector manifest on /apps (400)', async () => {
    const slug = await h.req('POST', '/apps/Bad_Slug?Source=http://x/y.tar.gz', { token });
    expect(slug.status).toBe(422);
    expect(slug.body.errors[0].source).toEqual({ parameter: 'slug' });
    const scheme = await h.req('POST', '/apps/okslug?Source=ftp://x/y.tar.gz', { token });
    expect(scheme.status).toBe(422);
    expect(scheme.body.errors[0].source).toEqual({ parameter: 'Source' });
    const url = await pkgs.add('konn', { 'manifest.konnector': { slug: 'konn', type: 'konnector', version: '1.0.0' }, 'index.js': '' });
    expect((await h.req('POST', `/apps/konn?Source=${encodeURIComponent(url)}`, { token })).status).toBe(400);
  });
});

describe('icons', () => {
  it('serves the manifest\'s icon from the installed code, for good with a version; 401 without token nor session', async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>';
    const url = await pkgs.add('iconic', { ...files('iconic', { icon: '/img/icon.svg' }), 'img/icon.svg': svg });
    expect((await h.req('POST', `/apps/iconic?Source=${encodeURIComponent(url)}`, { token })).status).toBe(202);
    await waitReady('iconic');
    const icon = await h.req('GET', '/apps/iconic/icon', { token });
    expect(icon.status).toBe(200);
    expect(icon.headers['content-type']).toContain('image/svg+xml');
    expect(icon.text).toBe(svg);
    expect(icon.headers.etag).toBeTruthy();
    expect((await h.req('GET', '/apps/iconic/icon/1.0.0', { token })).headers['cache-control']).toBe('max-age=31536000, immutable');
    expect((await h.req('GET', '/apps/iconic/icon')).status).toBe(401);
    expect((await h.req('GET', '/apps/notes/icon', { token })).status).toBe(404);
  });
});

describe('download', () => {
  it('builds a gzip tarball of the installed code; another version is a 412', async () => {
    const res = await new Promise<IncomingMessage>((ok, ko) => httpGet({ host: '127.0.0.1', port: h.port, path: '/apps/notes/download/1.0.0', headers: { host: h.domain, authorization: `Bearer ${token}` } }, ok).on('error', ko));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/gzip');
    const names: string[] = [];
    const extract = tarExtract();
    extract.on('entry', (header, stream, next) => {
      names.push(header.name);
      stream.on('end', () => next());
      stream.resume();
    });
    await pipeline(res, createGunzip(), extract);
    expect(names.sort()).toEqual(['index.html', 'manifest.webapp']);
    expect((await h.req('GET', '/apps/notes/download/9.9.9', { token })).status).toBe(412);
    expect((await h.req('GET', '/apps/absent/download', { token })).status).toBe(404);
  });
});

describe('who may install', () => {
  it('refuses no token, another app, a token of another instance, and the store for non-registry sources', async () => {
    const url = await pkgs.add('guarded', files('guarded'));
    const path = `/apps/guarded?Source=${encodeURIComponent(url)}`;
    expect((await h.req('POST', path)).status).toBe(401);
    const app = await h.hearth.appToken(h.instance, 'notes');
    expect((await h.req('POST', path, { token: app.token, headers: { cookie: `cozysessid=${app.session_cookie}` } })).status).toBe(403);
    expect((await h.req('POST', path, { token: await h.cliToken(SCOPE, h.other) })).status).toBe(400);
    await h.hearth.perms.setAppPermissions(h.instance, 'app', 'store', { apps: { type: 'io.cozy.apps' } });
    const store = await h.hearth.appToken(h.instance, 'store');
    const asStore = await h.req('POST', path, { token: store.token, headers: { cookie: `cozysessid=${store.session_cookie}` } });
    expect(asStore.status).toBe(403);
    expect(asStore.body.errors[0].detail).toMatch(/registry/);
    expect((await h.req('GET', '/apps/guarded', { token })).status).toBe(404);
    expect((await h.req('GET', '/apps/', { token: await h.cliToken('io.cozy.contacts') })).status).toBe(403);
  });
});
