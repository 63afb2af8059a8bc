/** /intents against a real server: matching, services' hrefs (nested and flat), availableApps, refusals. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../config/schema.js';
import type { Doc } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import type { AppIntent } from '../types.js';
import { createIntent } from './intents.js';
import { findIntent, serviceHref } from './match.js';
import { sessionCookieSpec } from '../../auth/session-http.js';

/** Writes the install document of a web app, as the installer does. */
async function install(h: TestHearth, instance: Instance, slug: string, extra: Record<string, unknown> = {}): Promise<void> {
  const now = new Date().toISOString();
  await h.hearth.storeOf(instance).put('io.cozy.apps', {
    _id: `io.cozy.apps/${slug}`, slug, name: slug.toUpperCase(), type: 'webapp', state: 'ready', version: '1.0.0', source: `registry://${slug}`,
    checksum: '0'.repeat(64), created_at: now, updated_at: now, ...extra,
  } as unknown as Doc);
  await h.hearth.perms.grant(instance, 'app', slug, 'io.cozy.files:GET');
}

/** An app token with its session cookie, as an app's page holds them. */
async function appAuth(h: TestHearth, instance: Instance, slug: string): Promise<{ token: string; headers: Record<string, string> }> {
  const { token, session_cookie } = await h.hearth.appToken(instance, slug);
  const { name } = sessionCookieSpec(instance, h.hearth.config.apps.subdomains, '');
  return { token, headers: { cookie: `${name}=${session_cookie}` } };
}

const body = (attributes: Record<string, unknown>) => ({ data: { type: 'io.cozy.intents', attributes } });

describe('findIntent (cozy-stack FindIntent)', () => {
  const intents: AppIntent[] = [
    { action: 'PICK', type: ['io.cozy.files', 'image/*'], href: '/pick' },
    { action: 'open', type: ['text/plain'], href: '/open' },
  ];
  it('matches the action whatever its case, the type exactly or by its MIME major type', () => {
    expect(findIntent({ intents }, 'pick', 'io.cozy.files')?.href).toBe('/pick');
    expect(findIntent({ intents }, 'Pick', 'image/png')?.href).toBe('/pick');
    expect(findIntent({ intents }, 'OPEN', 'text/plain')?.href).toBe('/open');
  });
  it('refuses another action, another type, and a major type that only starts the same', () => {
    expect(findIntent({ intents }, 'EDIT', 'io.cozy.files')).toBeNull();
    expect(findIntent({ intents }, 'PICK', 'io.cozy.contacts')).toBeNull();
    expect(findIntent({ intents }, 'PICK', 'imagex/png')).toBeNull();
    expect(findIntent({ intents }, 'PICK', 'image')).toBeNull();
    expect(findIntent({ intents }, 'OPEN', 'text/*')).toBeNull();
    expect(findIntent({}, 'PICK', 'io.cozy.files')).toBeNull();
  });
});

describe('/intents, nested app hosts', () => {
  let h: TestHearth;
  let contacts: { token: string; headers: Record<string, string> };
  let drive: { token: string; headers: Record<string, string> };

  beforeAll(async () => {
    h = await startTestHearth();
    await install(h, h.instance, 'drive', { intents: [{ action: 'PICK', type: ['io.cozy.files'], href: '/pick#/files' }] });
    await install(h, h.instance, 'photos', { intents: [{ action: 'OPEN', type: ['image/*'], href: '/' }] });
    await install(h, h.instance, 'notes', { intents: [{ action: 'EDIT', type: ['io.cozy.notes'], href: '/edit' }] });
    await install(h, h.instance, 'contacts');
    contacts = await appAuth(h, h.instance, 'contacts');
    drive = await appAuth(h, h.instance, 'drive');
  });
  afterAll(() => h.close());

  it('lists the installed apps that serve the intent, with their URLs, and the client app as an origin', async () => {
    const res = await h.req('POST', '/intents', { ...contacts, body: body({ action: 'pick', type: 'io.cozy.files', permissions: ['GET'] }) });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/vnd.api+json');
    const { data } = res.body;
    expect(data.type).toBe('io.cozy.intents');
    expect(data.id).toMatch(/^[0-9a-f]{32}$/);
    expect(data.attributes).toMatchObject({ action: 'pick', type: 'io.cozy.files', permissions: ['GET'], client: `http://contacts.${h.domain}` });
    expect(data.attributes.services).toEqual([{ slug: 'drive', href: `http://drive.${h.domain}/pick?intent=${data.id}#/files` }]);
    expect(data.attributes.availableApps).toBeUndefined();
    expect(data.links).toEqual({ self: `/intents/${data.id}`, permissions: '/permissions/io.cozy.apps/contacts' });
    // stored in the instance as io.cozy.intents, the client as io.cozy.apps/<slug>
    const stored = await h.hearth.storeOf(h.instance).get('io.cozy.intents', data.id);
    expect(stored).toMatchObject({ client: 'io.cozy.apps/contacts', action: 'pick', services: data.attributes.services });
  });

  it('matches a MIME type by its major type (image/*)', async () => {
    const res = await h.req('POST', '/intents', { ...contacts, body: body({ action: 'OPEN', type: 'image/jpeg' }) });
    expect(res.status).toBe(200);
    expect(res.body.data.attributes.services).toEqual([{ slug: 'photos', href: `http://photos.${h.domain}/?intent=${res.body.data.id}` }]);
    expect(res.body.data.attributes.permissions).toEqual([]);
  });

  it('gives the intent to the token of one of its services only', async () => {
    const { body: created } = await h.req('POST', '/intents', { ...contacts, body: body({ action: 'PICK', type: 'io.cozy.files' }) });
    const id = created.data.id as string;
    const ok = await h.req('GET', `/intents/${id}`, drive);
    expect(ok.status).toBe(200);
    expect(ok.body.data.attributes.client).toBe(`http://contacts.${h.domain}`);
    expect(ok.body.data.attributes.services[0].slug).toBe('drive');
    expect((await h.req('GET', `/intents/${id}`, contacts)).status).toBe(403);
    expect((await h.req('GET', `/intents/${id}`, { token: await h.cliToken('io.cozy.files') })).status).toBe(403);
    expect((await h.req('GET', `/intents/${id}`)).status).toBe(403);
    const unknown = await h.req('GET', '/intents/0123456789abcdef0123456789abcdef', drive);
    expect(unknown.status).toBe(404);
    // as cozy-stack, whatever the token's kind, its source decides: a share link drive made reads it, contacts' does not
    const link = async (source: string) => ((await h.hearth.perms.docs.create(h.instance, { sourceId: source, permissions: { files: { type: 'io.cozy.files', verbs: ['GET'] } }, codes: ['bob'] })).codes as Record<string, string>).bob;
    const byLink = await h.req('GET', `/intents/${id}`, { token: await link('io.cozy.apps/drive') });
    expect(byLink.status, byLink.text).toBe(200);
    expect(byLink.body.data.id).toBe(id);
    expect((await h.req('GET', `/intents/${id}`, { token: await link('io.cozy.apps/contacts') })).status).toBe(403);
    expect((await h.req('GET', '/intents/0123456789abcdef0123456789abcdef', { token: await h.cliToken('io.cozy.files') })).status).toBe(404);
  });

  it('refuses a request without a token, or with a token of another instance (403)', async () => {
    const none = await h.req('POST', '/intents', { body: body({ action: 'PICK', type: 'io.cozy.files' }) });
    expect(none.status).toBe(403);
    expect(none.body.errors[0].status).toBe('403');
    await install(h, h.other, 'contacts');
    const foreign = await appAuth(h, h.other, 'contacts');
    expect((await h.req('POST', '/intents', { ...foreign, body: body({ action: 'PICK', type: 'io.cozy.files' }) })).status).toBe(403);
    // the same token on its own instance works
    expect((await h.req('POST', '/intents', { ...foreign, host: h.otherDomain, body: body({ action: 'PICK', type: 'io.cozy.files' }) })).status).toBe(200);
    const { body: created } = await h.req('POST', '/intents', { ...contacts, body: body({ action: 'PICK', type: 'io.cozy.files' }) });
    await install(h, h.other, 'drive');
    const otherDrive = await appAuth(h, h.other, 'drive');
    expect((await h.req('GET', `/intents/${created.data.id}`, otherDrive)).status).toBe(403);
  });

  it('takes any valid token, as cozy-stack: the client is the source of its rights, none for the CLI', async () => {
    const pick = body({ action: 'PICK', type: 'io.cozy.files' });
    const store = h.hearth.storeOf(h.instance);
    const cli = await h.req('POST', '/intents', { token: await h.cliToken('io.cozy.files'), body: pick });
    expect(cli.status).toBe(200);
    expect(cli.body.data.attributes.client).toBe('');
    expect(cli.body.data.links).toEqual({ self: `/intents/${cli.body.data.id}` });
    expect(cli.body.data.attributes.services.map((s: { slug: string }) => s.slug)).toEqual(['drive']);
    expect(await store.get('io.cozy.intents', cli.body.data.id)).toMatchObject({ client: '' });
    // a konnector: its source, whose slug cozy-stack resolves as an app's
    await h.hearth.perms.grant(h.instance, 'konnector', 'bank', 'io.cozy.files:GET');
    const konn = await h.req('POST', '/intents', { token: await h.hearth.tokens.issue(h.instance, { aud: 'konn', sub: 'bank' }), body: pick });
    expect([konn.status, konn.body.data.attributes.client]).toEqual([200, `http://bank.${h.domain}`]);
    expect(await store.get('io.cozy.intents', konn.body.data.id)).toMatchObject({ client: 'io.cozy.konnectors/bank' });
    // a share link: the app that shared it
    const share = await h.hearth.perms.docs.create(h.instance, { sourceId: 'io.cozy.apps/contacts', permissions: { files: { type: 'io.cozy.files', verbs: ['GET'], values: ['x'] } }, codes: ['bob'] });
    const shared = await h.req('POST', '/intents', { token: (share.codes as Record<string, string>).bob!, body: pick });
    expect([shared.status, shared.body.data.attributes.client]).toEqual([200, `http://contacts.${h.domain}`]);
    expect(shared.body.data.links.permissions).toBe('/permissions/io.cozy.apps/contacts');
  });

  it('takes the client of an OAuth token from its software_id registry://<slug>', async () => {
    const id = 'abcdef0123456789abcdef0123456789';
    await h.hearth.storeOf(h.instance).put('io.cozy.oauth.clients', { _id: id, client_name: 'Contacts mobile', software_id: 'registry://contacts', redirect_uris: ['http://localhost/'] });
    const token = await h.hearth.tokens.issue(h.instance, { aud: 'access', sub: id, scope: 'io.cozy.contacts' });
    const res = await h.req('POST', '/intents', { token, body: body({ action: 'PICK', type: 'io.cozy.files' }) });
    expect(res.status).toBe(200);
    expect(res.body.data.attributes.client).toBe(`http://contacts.${h.domain}`);
    const other = 'bbbbbb0123456789abcdef0123456789';
    await h.hearth.storeOf(h.instance).put('io.cozy.oauth.clients', { _id: other, client_name: 'A desktop client', software_id: 'github.com/cozy-labs/cozy-desktop', redirect_uris: ['http://localhost/'] });
    const desktop = await h.hearth.tokens.issue(h.instance, { aud: 'access', sub: other, scope: 'io.cozy.files' });
    // another client: its own source, as cozy-stack (which then resolves the client's id as an app's slug)
    const fromDesktop = await h.req('POST', '/intents', { token: desktop, body: body({ action: 'PICK', type: 'io.cozy.files' }) });
    expect([fromDesktop.status, fromDesktop.body.data.attributes.client]).toEqual([200, `http://${other}.${h.domain}`]);
    expect(await h.hearth.storeOf(h.instance).get('io.cozy.intents', fromDesktop.body.data.id)).toMatchObject({ client: `io.cozy.oauth.clients/${other}` });
  });

  it('answers 422 when the action or the type is missing, 400 on a body that is not an intent', async () => {
    const noAction = await h.req('POST', '/intents', { ...contacts, body: body({ type: 'io.cozy.files' }) });
    expect(noAction.status).toBe(422);
    expect(noAction.body.errors[0].detail).toMatch(/Action is missing/);
    const noType = await h.req('POST', '/intents', { ...contacts, body: body({ action: 'PICK', type: '' }) });
    expect(noType.status).toBe(422);
    expect(noType.body.errors[0].detail).toMatch(/Type is missing/);
    expect((await h.req('POST', '/intents', { ...contacts, body: { action: 'PICK' } })).status).toBe(400);
    expect((await h.req('POST', '/intents', { ...contacts, body: body({ action: 'PICK', type: 'x', permissions: 'GET' }) })).status).toBe(400);
    expect((await h.req('POST', '/intents', { ...contacts, body: { data: { type: 'io.cozy.files', attributes: { action: 'PICK', type: 'x' } } } })).status).toBe(400);
  });

  it('offers the registry web apps that could serve it, not installed ones, when no installed app does', async () => {
    const fixture = [
      { slug: 'photos', name: 'Photos', manifest: { slug: 'photos', intents: [{ action: 'EDIT', type: ['io.cozy.notes'], href: '/' }] } },
      { slug: 'notes', name: 'Notes', manifest: { slug: 'notes', intents: [{ action: 'EDIT', type: ['io.cozy.notes'], href: '/' }] } },
      { slug: 'writer', name: 'Writer', manifest: { slug: 'writer', intents: [{ action: 'edit', type: ['text/*'], href: '/' }] } },
      { slug: 'pad', name: 'Pad', manifest: { slug: 'pad', intents: [{ action: 'EDIT', type: ['text/markdown'], href: '/' }] } },
      { slug: 'viewer', name: 'Viewer', manifest: { slug: 'viewer', intents: [{ action: 'OPEN', type: ['text/*'], href: '/' }] } },
    ];
    const deps = { storeOf: h.hearth.storeOf, mode: 'nested' as const, registryWebapps: async () => fixture };
    const set = { type: 'app' as const, sourceId: 'io.cozy.apps/contacts', rules: [] };
    const doc = await createIntent(deps, h.instance, set, { action: 'EDIT', type: 'text/plain', permissions: [] }, 'http');
    expect(doc.services).toEqual([]);
    expect(doc.availableApps).toEqual([{ slug: 'writer', name: 'Writer' }]);
    // an installed app serves it: the registry is not asked
    const served = await createIntent({ ...deps, registryWebapps: async () => { throw new Error('the registry must not be asked'); } }, h.instance, set, { action: 'EDIT', type: 'io.cozy.notes', permissions: [] }, 'http');
    expect(served.services.map((s) => s.slug)).toEqual(['notes']);
    expect(served.availableApps).toBeUndefined();
    // what the server wires without a registry: services, else an empty list
    const res = await h.req('POST', '/intents', { ...contacts, body: body({ action: 'EDIT', type: 'text/plain' }) });
    expect(res.body.data.attributes).toMatchObject({ services: [], availableApps: [] });
    // a registry that fails offers nothing, the intent is still made
    const down = await createIntent({ ...deps, registryWebapps: async () => { throw new Error('registry unreachable'); } }, h.instance, set, { action: 'EDIT', type: 'text/plain', permissions: [] }, 'http');
    expect(down.availableApps).toEqual([]);
  });

  it('builds hrefs from the manifest\'s path and fragment, whatever they hold', () => {
    const href = (h: string) => serviceHref({ instanceHost: 'alice.example.org', slug: 'drive', mode: 'nested', scheme: 'https', href: h, intentId: 'abc' });
    expect(href('/')).toBe('https://drive.alice.example.org/?intent=abc');
    expect(href('')).toBe('https://drive.alice.example.org/?intent=abc');
    expect(href('pick')).toBe('https://drive.alice.example.org/pick?intent=abc');
    expect(href('/pick?mode=x#/files/a b')).toBe('https://drive.alice.example.org/pick?intent=abc#/files/a%20b');
    expect(serviceHref({ instanceHost: '[::1]:8080', slug: 'drive', mode: 'nested', scheme: 'http', href: '/', intentId: 'abc' })).toBe('http://drive.[::1]:8080/?intent=abc');
  });
});

describe('/intents, flat app hosts and client_url_flag', () => {
  let h: TestHearth;
  let alice: Instance;
  const host = () => `alice.localhost:${h.port}`;

  beforeAll(async () => {
    h = await startTestHearth({
      apps: { ...DEFAULTS.apps, subdomains: 'flat' },
      settings: { ...DEFAULTS.settings, flags: JSON.stringify({ 'mespapiers.url': 'https://papers.example.net/app' }) },
    });
    alice = await h.hearth.registry.create({ domain: `alice.localhost:${h.port}` });
    await install(h, alice, 'drive', { intents: [{ action: 'PICK', type: ['io.cozy.files'], href: '/#/picker' }] });
    await install(h, alice, 'contacts');
    await install(h, alice, 'mespapiers', { client_url_flag: 'mespapiers.url' });
  });
  afterAll(() => h.close());

  it('builds the services\' URLs on flat app hosts', async () => {
    const auth = await appAuth(h, alice, 'contacts');
    const res = await h.req('POST', '/intents', { ...auth, host: host(), body: body({ action: 'PICK', type: 'io.cozy.files' }) });
    expect(res.status).toBe(200);
    const id = res.body.data.id as string;
    expect(res.body.data.attributes.services).toEqual([{ slug: 'drive', href: `http://alice-drive.localhost:${h.port}/?intent=${id}#/picker` }]);
    expect(res.body.data.attributes.client).toBe(`http://alice-contacts.localhost:${h.port}`);
  });

  it('gives the URL of the client app\'s client_url_flag as its client', async () => {
    const auth = await appAuth(h, alice, 'mespapiers');
    const res = await h.req('POST', '/intents', { ...auth, host: host(), body: body({ action: 'PICK', type: 'io.cozy.files' }) });
    expect(res.status).toBe(200);
    expect(res.body.data.attributes.client).toBe('https://papers.example.net/app');
  });
});
