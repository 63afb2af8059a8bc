/**
 * The stack's HTML error pages in Chromium (issue 15): an unknown route on an instance, a Host of no instance, an app
 * host whose app is not installed (404) or not ready (503) are pages in the instance's language (else the browser's),
 * light and dark, at 375 px, with no serious accessibility violation and a link back home; API clients and API paths
 * keep cozy's JSON errors.
 */
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible } from '../helpers/a11y.js';
import { launchBrowser } from '../helpers/browser.js';
import { rawRequest } from '../helpers/hearth.js';
import { startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';

let w: WebappsHearth;
let browser: Browser;
let frDomain: string;
beforeAll(async () => {
  [w, browser] = await Promise.all([startWithWebapps({ label: 'errpages', slugs: ['home'] }), launchBrowser()]);
  frDomain = `bob.errpages.localhost:${w.h.port}`;
  await w.h.hearth.registry.create({ domain: frDomain, locale: 'fr', passphrase: 'x' });
  // an app whose last install failed: its host answers 503
  const at = new Date().toISOString();
  await w.h.hearth.storeOf(w.instance).put('io.cozy.apps', { _id: 'io.cozy.apps/notes', slug: 'notes', type: 'webapp', source: 'file:///nowhere', state: 'errored', version: '1.0.0', checksum: '', created_at: at, updated_at: at });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
});

/** Opens `url` in a fresh context; checks the page in light and dark; returns what it shows. */
async function visit(url: string, options: BrowserContextOptions = {}): Promise<{ status: number; h1: string; text: string; links: Array<{ text: string; href: string }> }> {
  const out = { status: 0, h1: '', text: '', links: [] as Array<{ text: string; href: string }> };
  for (const colorScheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', ...options, colorScheme });
    try {
      const page: Page = await context.newPage();
      const res = await page.goto(url);
      out.status = res?.status() ?? 0;
      out.h1 = (await page.locator('h1').textContent()) ?? '';
      out.text = (await page.locator('main').innerText()).replace(/\s+/g, ' ');
      const links = page.locator('main a');
      out.links = [];
      for (let i = 0; i < (await links.count()); i++) out.links.push({ text: (await links.nth(i).textContent()) ?? '', href: (await links.nth(i).getAttribute('href')) ?? '' });
      await expectAccessible(page, `${url} (${colorScheme})`);
    } finally {
      await context.close();
    }
  }
  return out;
}

describe('HTML error pages', () => {
  it('an unknown route on an instance: a page with a link to its home app', async () => {
    const p = await visit(`http://${w.domain}/nothing/here`);
    expect(p).toMatchObject({ status: 404, h1: 'Page not found' });
    expect(p.text).toContain(`There is nothing at this address on ${w.domain}`);
    expect(p.links).toEqual([{ text: 'Back to home', href: `http://home.${w.domain}/` }]);
  });

  it('in the instance\'s language, French here, at 375 px', async () => {
    const p = await visit(`http://${frDomain}/nothing`, { viewport: { width: 375, height: 740 } });
    expect(p).toMatchObject({ status: 404, h1: 'Page introuvable' });
    // no home app on this instance: the link goes to its root
    expect(p.links).toEqual([{ text: 'Retour à l’accueil', href: `http://${frDomain}/` }]);
  });

  it('a Host of no instance, in the browser\'s language', async () => {
    const en = await visit(`http://nobody.errpages.localhost:${w.h.port}/`);
    expect(en).toMatchObject({ status: 404, h1: 'No Hearth here', links: [] });
    expect(en.text).toContain(`No Hearth instance is served at nobody.errpages.localhost:${w.h.port}`);
    const fr = await visit(`http://nobody.errpages.localhost:${w.h.port}/`, { locale: 'fr-FR' });
    expect(fr.h1).toBe('Aucun Hearth ici');
  });

  it('an app host whose app is not installed, and one whose app is not ready (503, try again)', async () => {
    const missing = await visit(`http://drive.${w.domain}/`);
    expect(missing).toMatchObject({ status: 404, h1: 'drive is not installed' });
    expect(missing.text).toContain('Install it from the Store');
    expect(missing.links.map((l) => l.href)).toEqual([`http://home.${w.domain}/`]);

    const broken = await visit(`http://notes.${w.domain}/`);
    expect(broken).toMatchObject({ status: 503, h1: 'notes is not ready' });
    expect(broken.text).toContain('Wait a moment, then try again');
    expect(broken.links).toEqual([{ text: 'Try again', href: '/' }, { text: 'Back to home', href: `http://home.${w.domain}/` }]);
  });

  it('API clients and API paths keep cozy\'s JSON errors', async () => {
    const json = { accept: 'application/json' };
    const html = { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' };
    const route = await rawRequest(w.h.port, 'GET', '/nothing/here', { host: w.domain, headers: json });
    expect(route.status).toBe(404);
    expect(route.body).toEqual({ errors: [{ status: '404', title: 'not_found', detail: 'no route for GET /nothing/here' }] });
    const api = await rawRequest(w.h.port, 'GET', '/files/nothing/here/at/all', { host: w.domain, headers: html });
    expect(api.status).toBe(404);
    expect(api.headers['content-type']).toMatch(/json/);
    const instance = await rawRequest(w.h.port, 'GET', '/', { host: `nobody.errpages.localhost:${w.h.port}`, headers: json });
    expect(instance.status).toBe(404);
    expect(instance.body.errors[0].title).toBe('not_found');
    const app = await rawRequest(w.h.port, 'GET', '/', { host: `drive.${w.domain}` });
    expect(app.status).toBe(404);
    expect(app.body.errors[0].detail).toBe('no app drive is installed on this instance');
    const post = await rawRequest(w.h.port, 'POST', '/nothing', { host: w.domain, headers: html, body: {} });
    expect(post.headers['content-type']).toMatch(/json/);
  });
});
