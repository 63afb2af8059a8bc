/**
 * The built-in web apps (webapps/) in tests: built by scripts/build-webapps.mjs into a registry folder kept while their
 * sources stay the same (webapps-build.ts), a Hearth whose registry is that folder, an instance named under a parent
 * domain (so that its app hosts are the same site as its API; Chromium resolves *.localhost to loopback by itself)
 * with the five apps installed, and a logged-in page on one app.
 */
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { rawRequest, startTestHearth, type Res, type TestHearth } from './hearth.js';
import { until } from './jobs.js';
import { DEFAULTS } from '../../src/config/schema.js';
import type { HearthConfig } from '../../src/config/types.js';
import type { HearthOptions } from '../../src/server/compose.js';
import { derivePassphrase } from '../../src/auth/passphrase.js';
import type { Instance } from '../../src/instances/types.js';
// @ts-expect-error: the build script is plain JavaScript (it runs before any compilation)
import { BUILTIN } from '../../scripts/build-webapps.mjs';
import { cachedWebappsBuild, type BuiltWebapps } from './webapps-build.js';

export type { BuiltWebapp } from './webapps-build.js';

export const BUILTIN_SLUGS: string[] = BUILTIN;
export const OWNER_PASSPHRASE = 'owner-pass';
const ITER = 1000;

let built: Promise<BuiltWebapps> | undefined;

/** The five apps built and published into a registry folder (webapps-build.ts: once while their sources stay the same). */
export function builtWebapps(): Promise<BuiltWebapps> {
  built ??= cachedWebappsBuild();
  return built;
}

export interface WebappsHearth {
  h: TestHearth;
  instance: Instance;
  /** `alice.<label>.localhost:<port>` */
  domain: string;
  /** A CLI token on the instance for `scope`. */
  token(scope: string): Promise<string>;
  api(method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>): Promise<Res>;
  appUrl(slug: string, path?: string): string;
  close(): Promise<void>;
}

/**
 * A Hearth with the built-in registry and an owner instance (passphrase OWNER_PASSPHRASE, locale `locale`) on which
 * `slugs` are installed (all five by default) and ready. With `on`, the instance is another one on `on`'s Hearth (its
 * config; no Hearth of its own to start, and the apps' code already stored there): its close() leaves that Hearth up.
 */
export async function startWithWebapps(opts: { label?: string; locale?: string; slugs?: string[]; config?: Partial<HearthConfig> & { apps?: Partial<HearthConfig['apps']> }; options?: HearthOptions; on?: WebappsHearth } = {}): Promise<WebappsHearth> {
  if (opts.on && (opts.config || opts.options)) throw new Error('an instance on another Hearth takes that Hearth\'s config');
  const h = opts.on?.h ?? (await startHearth(opts));
  const domain = `alice.${opts.label ?? 'webapps'}.localhost:${h.port}`;
  await h.hearth.registry.create({ domain, passphrase: 'x', ...(opts.locale ? { locale: opts.locale } : {}) });
  const instance = await h.hearth.registry.setDerivedPassphrase((await h.hearth.registry.get(domain))!, await derivePassphrase(OWNER_PASSPHRASE, domain, ITER), ITER);
  const w: WebappsHearth = {
    h, instance, domain,
    token: (scope) => h.cliToken(scope, instance),
    api: (method, path, token, body, headers) => rawRequest(h.port, method, path, { host: domain, token, ...(headers ? { headers } : {}), ...(body === undefined ? {} : { body }) }),
    appUrl: (slug, path = '') => `http://${slug}.${domain}/${path}`,
    close: () => (opts.on ? Promise.resolve() : h.close()),
  };
  const token = await w.token('io.cozy.apps');
  for (const slug of opts.slugs ?? BUILTIN_SLUGS) {
    const got = await w.api('GET', `/apps/${slug}`, token);
    if (got.status !== 200) {
      const started = await w.api('POST', `/apps/${slug}`, token);
      if (started.status !== 202) throw new Error(`installing ${slug}: ${started.status} ${started.text}`);
    }
    let state = '';
    await until(async () => {
      state = (await w.api('GET', `/apps/${slug}`, token)).body?.data?.attributes?.state ?? '';
      return state === 'ready' || state === 'errored';
    }, 60_000);
    if (state !== 'ready') throw new Error(`${slug} did not install: ${state}`);
  }
  return w;
}

/** A Hearth whose registries are the built-in one, then the test's (a folder with fixture apps for the Store…). */
async function startHearth(opts: { config?: Partial<HearthConfig> & { apps?: Partial<HearthConfig['apps']> }; options?: HearthOptions }): Promise<TestHearth> {
  const { registryDir } = await builtWebapps();
  const extra = opts.config?.apps?.registries;
  const registries = [pathToFileURL(registryDir).href, ...(extra ? [extra] : [])].join(',');
  return startTestHearth({ ...opts.config, apps: { ...DEFAULTS.apps, ...opts.config?.apps, registries } }, opts.options);
}

/**
 * A new browser context logged in as the owner, on `slug`'s page: goes to the app, follows the redirect to the login
 * page, types the passphrase, and comes back to the app.
 */
export async function openApp(browser: Browser, w: WebappsHearth, slug: string, opts: BrowserContextOptions & { path?: string } = {}): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const { path, ...contextOptions } = opts;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', ...contextOptions });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const target = w.appUrl(slug, path);
  await page.goto(target);
  if (new URL(page.url()).host === w.domain) {
    await page.locator('input[type=password]').first().fill(OWNER_PASSPHRASE);
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.host === new URL(target).host);
  }
  return { context, page, errors };
}
