/**
 * The built-in apps (issue 15): the built-in registry is consulted first by every registry read, without duplicates;
 * a new instance gets its apps (the default app first); a start brings existing instances up to date (missing apps
 * installed, newer versions and rebuilt packages updated, with their new permissions), never puts back an app the
 * owner uninstalled, does nothing when nothing changed, and finishes an install that a stop cut short.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appEntries, makeTarball } from '../../../test/helpers/app-tarball.js';
import { testConfig } from '../../../test/helpers/hearth.js';
import { until } from '../../../test/helpers/jobs.js';
import { DEFAULTS } from '../../config/schema.js';
import { createHearth, type Hearth } from '../../server/compose.js';
import { registriesFromConfig } from '../registry/index.js';
import { publish } from '../registry/publish.js';
import { findApp } from '../repo.js';
import type { AppDoc } from '../types.js';

const LIMITS = { maxEntries: 100, maxUnpackedBytes: 1_000_000 };
const tmp = mkdtempSync(join(tmpdir(), 'hearth-builtin-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Fixture { slug: string; version: string; body?: string; permissions?: Record<string, unknown> }

/** A registry folder holding these apps (a fresh folder each time, as `npm run build` makes it). */
async function registryOf(name: string, apps: Fixture[]): Promise<string> {
  const dir = join(tmp, name);
  for (const a of apps) {
    const tarball = join(tmp, `${name}-${a.slug}.tar.gz`);
    const manifest = { slug: a.slug, name: a.slug, type: 'webapp', version: a.version, permissions: a.permissions ?? {} };
    await makeTarball(tarball, appEntries(manifest, { 'index.html': `<!doctype html><title>${a.slug}</title>${a.body ?? ''}` }));
    await publish(tarball, { dir, limits: LIMITS });
  }
  return dir;
}

const warnings: string[] = [];
const logger = { warn: (_o: object, msg: string) => void warnings.push(msg) };
const config = (builtinRegistry: string | null, registries = '', data = 'data') => testConfig(join(tmp, data), { apps: { ...DEFAULTS.apps, builtinRegistry, registries } });
const open = (builtinRegistry: string | null, data?: string) => createHearth(config(builtinRegistry, '', data), pino({ level: 'silent' }));
const appOf = (hearth: Hearth, domain: string, slug: string) => hearth.registry.get(domain).then((i) => findApp(hearth.storeOf(i!), 'webapp', slug));
const settled = async (hearth: Hearth, domain: string, slug: string): Promise<AppDoc | null> => {
  let doc: AppDoc | null = null;
  await until(async () => {
    doc = await appOf(hearth, domain, slug);
    return doc?.state === 'ready';
  }, 30_000);
  return doc;
};

let v1: string;
let v2: string;
beforeAll(async () => {
  v1 = await registryOf('v1', [{ slug: 'home', version: '1.0.0' }, { slug: 'drive', version: '1.0.0', permissions: { files: { type: 'io.cozy.files', description: 'Your files' } } }]);
  // the next Hearth: home 1.1.0 asks one more right, drive is rebuilt (same version, other bytes), store is new
  v2 = await registryOf('v2', [
    { slug: 'home', version: '1.1.0', permissions: { apps: { type: 'io.cozy.apps', verbs: ['GET'], description: 'The apps' } } },
    { slug: 'drive', version: '1.0.0', body: '<p>rebuilt</p>', permissions: { files: { type: 'io.cozy.files', description: 'Your files' } } },
    { slug: 'store', version: '1.0.0' },
  ]);
});

describe('the built-in registry', () => {
  it('comes first in every registry read, once even when apps.registries names it too, and a missing folder is one warning', async () => {
    const other = await registryOf('other', [{ slug: 'home', version: '9.0.0' }, { slug: 'notes', version: '1.0.0' }]);
    const merged = registriesFromConfig(config(v1, `${pathToFileURL(other).href},${pathToFileURL(v1).href}/`), logger);
    expect((await merged.list({ limit: 100 })).data.map((a) => a.slug)).toEqual(['drive', 'home', 'notes']);
    // registry://home resolves in the built-in folder, before the other registry's newer home
    expect((await merged.resolveVersion('home', 'stable')).version).toBe('1.0.0');
    expect((await merged.resolveVersion('notes', 'stable')).version).toBe('1.0.0');

    warnings.length = 0;
    const none = registriesFromConfig(config(join(tmp, 'not-built')), logger);
    expect(warnings).toEqual([expect.stringContaining('does not exist')]);
    expect((await none.list({ limit: 100 })).data).toEqual([]);
    registriesFromConfig(config(''), logger);
    expect(warnings).toHaveLength(1);
  });
});

describe('installing the built-in apps', () => {
  it('a new instance gets them, home first; a start brings existing instances up to date and keeps what the owner removed', async () => {
    // an instance from before the built-in apps
    let hearth = await open(null);
    await hearth.registry.create({ domain: 'old.test' });
    await hearth.close();

    hearth = await open(v1);
    try {
      const fresh = await hearth.registry.create({ domain: 'new.test' });
      const [home, drive] = [await settled(hearth, 'new.test', 'home'), await settled(hearth, 'new.test', 'drive')];
      expect(home!.created_at <= drive!.created_at).toBe(true);
      expect(home!.source).toBe('registry://home/stable');
      expect((await hearth.perms.appPermissions(fresh, 'app', 'drive'))?.permissions).toMatchObject({ files: { type: 'io.cozy.files' } });
      expect(await appOf(hearth, 'old.test', 'home')).toBeNull();
      // through the admin API (what `hearth instances add` calls) too
      const created = await hearth.adminApp.inject({
        method: 'POST', url: '/instances', payload: { domain: 'admin.test' },
        headers: { authorization: `Basic ${Buffer.from(':admin-secret').toString('base64')}` },
      });
      expect(created.statusCode).toBe(201);
      await settled(hearth, 'admin.test', 'home');
      await settled(hearth, 'admin.test', 'drive');

      const pass = await hearth.builtinApps.upgradeAll();
      expect(pass).toMatchObject({ instances: 3, changed: 1, incomplete: 0 });
      expect((await appOf(hearth, 'old.test', 'home'))?.state).toBe('ready');
      expect((await appOf(hearth, 'old.test', 'drive'))?.version).toBe('1.0.0');

      // the owner removes drive from old.test: nothing puts it back
      await hearth.installer.uninstall((await hearth.registry.get('old.test'))!, 'webapp', 'drive');
      expect(await hearth.builtinApps.upgradeAll()).toMatchObject({ changed: 0, incomplete: 0 });
    } finally {
      await hearth.close();
    }

    // the next version of Hearth
    hearth = await open(v2);
    try {
      expect(await hearth.builtinApps.upgradeAll()).toMatchObject({ instances: 3, changed: 3, incomplete: 0 });
      const old = (await hearth.registry.get('old.test'))!;
      for (const domain of ['old.test', 'new.test']) {
        const home = await appOf(hearth, domain, 'home');
        expect(home).toMatchObject({ version: '1.1.0', state: 'ready' });
        expect(home).not.toHaveProperty('available_version');
        expect((await appOf(hearth, domain, 'store'))?.state).toBe('ready');
      }
      expect((await hearth.perms.appPermissions(old, 'app', 'home'))?.permissions).toMatchObject({ apps: { type: 'io.cozy.apps', verbs: ['GET'] } });
      expect(await appOf(hearth, 'old.test', 'drive')).toBeNull();
      const rebuilt = (await hearth.builtinApps.apps()).apps.find((a) => a.slug === 'drive')!;
      expect((await appOf(hearth, 'new.test', 'drive'))?.checksum).toBe(rebuilt.sha256);
      // nothing changed since: one row read per instance
      expect(await hearth.builtinApps.upgradeAll()).toMatchObject({ instances: 3, changed: 0, incomplete: 0 });
    } finally {
      await hearth.close();
    }
  }, 60_000);

  it('finishes at the next start an install that a stop cut short', async () => {
    let hearth = await open(null, 'cut');
    const instance = await hearth.registry.create({ domain: 'cut.test' });
    // what a process killed during the install of home leaves: its doc `installing`, its permission document
    const at = new Date(Date.now() - 60_000).toISOString();
    await hearth.storeOf(instance).put('io.cozy.apps', { _id: 'io.cozy.apps/home', slug: 'home', type: 'webapp', source: 'registry://home/stable', state: 'installing', version: '', checksum: '', created_at: at, updated_at: at });
    await hearth.perms.setAppPermissions(instance, 'app', 'home', {});
    await hearth.close();

    hearth = await open(v1, 'cut');
    try {
      expect(await hearth.builtinApps.upgradeAll()).toMatchObject({ instances: 1, changed: 1, incomplete: 0 });
      expect(await appOf(hearth, 'cut.test', 'home')).toMatchObject({ state: 'ready', version: '1.0.0' });
      expect((await appOf(hearth, 'cut.test', 'drive'))?.state).toBe('ready');
    } finally {
      await hearth.close();
    }
  }, 60_000);

  it('finishes at the next start the installs of a process killed in the middle (SIGKILL)', async () => {
    const data = join(tmp, 'killed');
    const child = spawnSync(process.execPath, ['--import', 'tsx', 'test/fixtures/builtin-crash-main.ts', data, v1], { encoding: 'utf8', timeout: 60_000 });
    expect(child.signal).toBe('SIGKILL');
    expect(child.stdout).toContain('killed');
    const hearth = await createHearth(testConfig(data, { apps: { ...DEFAULTS.apps, builtinRegistry: v1, registries: '' } }), pino({ level: 'silent' }));
    try {
      expect((await appOf(hearth, 'cut.test', 'drive'))?.state).toBe('installing');
      expect(await hearth.builtinApps.upgradeAll()).toMatchObject({ instances: 1, incomplete: 0 });
      expect(await appOf(hearth, 'cut.test', 'home')).toMatchObject({ state: 'ready', version: '1.0.0' });
      expect(await appOf(hearth, 'cut.test', 'drive')).toMatchObject({ state: 'ready', version: '1.0.0' });
    } finally {
      await hearth.close();
    }
  }, 90_000);
});
