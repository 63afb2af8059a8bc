/**
 * cozy-stack-client's collections of the apps platform, as cozy-home, cozy-store and cozy-settings use them, against a
 * real server whose registry is a local folder: AppCollection, KonnectorCollection, AppsRegistryCollection (and the
 * konnectors-by-channel list cozy-client's registry helper reads), PermissionCollection.add on an app.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { CozyStackClient } from '../../test/helpers/stack-client.js';
import { makeTarball } from '../../test/helpers/app-tarball.js';
import { DEFAULTS } from '../config/schema.js';
import { publish } from './registry/publish.js';

const SAMPLE = fileURLToPath(new URL('../../test/fixtures/konnectors/sample/', import.meta.url));
const LIMITS = { maxEntries: DEFAULTS.apps.maxEntries, maxUnpackedBytes: DEFAULTS.apps.maxUnpackedBytes };
let work: string;
let h: TestHearth;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let client: any;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'hearth-apps-client-'));
  const registry = join(work, 'registry');
  const notes = {
    slug: 'notes', name: 'Notes', type: 'webapp', version: '1.2.0', editor: 'Hearth', icon: 'icon.svg',
    permissions: { notes: { type: 'io.cozy.notes', verbs: ['GET'] } },
  };
  await makeTarball(join(work, 'notes.tar.gz'), [
    { name: 'manifest.webapp', body: JSON.stringify(notes) },
    { name: 'index.html', body: '<!doctype html><title>{{.AppName}}</title>' },
    { name: 'icon.svg', body: '<svg xmlns="http://www.w3.org/2000/svg"/>' },
  ]);
  const konnector = { ...JSON.parse(readFileSync(join(SAMPLE, 'manifest.konnector'), 'utf8')), version: '1.0.0' };
  await makeTarball(join(work, 'sample.tar.gz'), [
    { name: 'manifest.konnector', body: JSON.stringify(konnector) },
    ...['index.js', 'package.json'].map((name) => ({ name, body: readFileSync(join(SAMPLE, name)) })),
  ]);
  for (const file of ['notes.tar.gz', 'sample.tar.gz']) await publish(join(work, file), { dir: registry, limits: LIMITS });
  h = await startTestHearth({ apps: { ...DEFAULTS.apps, registries: pathToFileURL(registry).href } });
  const token = await h.cliToken('io.cozy.apps io.cozy.konnectors io.cozy.permissions io.cozy.triggers io.cozy.contacts io.cozy.notes');
  client = new CozyStackClient({ uri: h.url, token });
  for (const [route, slug] of [['apps', 'notes'], ['konnectors', 'sample']] as const) {
    expect((await h.req('POST', `/${route}/${slug}`, { token })).status).toBe(202);
    for (let i = 0; i < 400 && (await h.req('GET', `/${route}/${slug}`, { token })).body.data.attributes.state !== 'ready'; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
});
afterAll(async () => {
  await h?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('cozy-stack-client against the apps platform', () => {
  it('AppCollection lists and gets installed web apps', async () => {
    const apps = client.collection('io.cozy.apps');
    const all = await apps.all();
    expect(all.data.map((a: { slug: string }) => a.slug)).toEqual(['notes']);
    expect(all.data[0]).toMatchObject({ _type: 'io.cozy.apps', _id: 'io.cozy.apps/notes', state: 'ready', version: '1.2.0' });
    const one = await apps.get('io.cozy.apps/notes');
    expect(one.data).toMatchObject({ slug: 'notes', name: 'Notes', source: 'registry://notes/stable' });
    expect(one.data.links.related).toBe(`http://notes.${h.domain}/`);
  });

  it('KonnectorCollection lists installed konnectors', async () => {
    const all = await client.collection('io.cozy.konnectors').all();
    expect(all.data.map((k: { slug: string }) => k.slug)).toEqual(['sample']);
    expect(all.data[0]).toMatchObject({ _type: 'io.cozy.konnectors', state: 'ready', version: '1.0.0' });
  });

  it('AppsRegistryCollection reads the registry with a web app\'s token: one app, and the konnectors of a channel', async () => {
    // the registry answers web apps' and OAuth clients' tokens; a web app's token goes with its session's cookie, which a
    // browser adds to the app's requests (credentials: include) and Node's fetch does not: added here for this origin
    const { token, session_cookie } = await h.hearth.appToken(h.instance, 'notes');
    const nodeFetch = globalThis.fetch;
    globalThis.fetch = (input, init = {}) => {
      const headers = new Headers(init.headers);
      if (String(input).startsWith(h.url)) headers.set('cookie', `cozysessid=${session_cookie}`);
      return nodeFetch(input, { ...init, headers });
    };
    try {
      await readRegistry(new CozyStackClient({ uri: h.url, token }).collection('io.cozy.apps_registry'));
    } finally {
      globalThis.fetch = nodeFetch;
    }
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function readRegistry(registry: any): Promise<void> {
    const notes = await registry.get('notes');
    expect(notes.data).toMatchObject({ slug: 'notes', type: 'webapp' });
    expect(notes.data.latest_version.version).toBe('1.2.0');
    const konnectors = await registry.get('konnectors/stable');
    expect(konnectors.data.map((k: { slug: string }) => k.slug)).toEqual(['sample']);
  }

  it('PermissionCollection.add adds rules to an installed app, which its permission document keeps', async () => {
    const perms = client.collection('io.cozy.permissions');
    const { data } = await perms.add({ _type: 'io.cozy.apps', slug: 'notes' }, { contacts: { type: 'io.cozy.contacts', verbs: ['GET'] } });
    expect(data.attributes.permissions).toMatchObject({ notes: { type: 'io.cozy.notes' }, contacts: { type: 'io.cozy.contacts', verbs: ['GET'] } });
  });
});
