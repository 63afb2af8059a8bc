/**
 * The five built-in apps open in Chromium on their own hosts, logged in, with their name in their app bar, no script
 * error and no serious axe-core violation. Home, Drive and Settings show their first data without loading cozy-client
 * (webapps/shared/client.ts: it comes on first use).
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { axeViolations, expectAccessible } from '../helpers/a11y.js';
import { BUILTIN_SLUGS, openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';

let w: WebappsHearth;
let browser: Browser;
beforeAll(async () => {
  [w, browser] = await Promise.all([startWithWebapps({ label: 'smoke' }), launchBrowser()]);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
});

describe('built-in apps', () => {
  it.each(BUILTIN_SLUGS)('%s opens on its own host with its app bar, with no serious accessibility violation', async (slug) => {
    const { context, page, errors } = await openApp(browser, w, slug);
    try {
      await page.locator('header.appbar').waitFor();
      const manifest = JSON.parse((await w.api('GET', `/apps/${slug}`, await w.token('io.cozy.apps'))).text).data.attributes;
      expect(await page.locator('header.appbar .brand span').textContent()).toBe(manifest.name);
      expect(errors).toEqual([]);
      await expectAccessible(page, `${slug}'s first page`);
    } finally {
      await context.close();
    }
  });

  it('the accessibility check catches a violation (a button without a name)', async () => {
    const { context, page } = await openApp(browser, w, 'home');
    try {
      await page.locator('header.appbar').waitFor();
      await page.evaluate('document.querySelector("main").append(document.createElement("button"))');
      expect((await axeViolations(page)).map((v) => v.id)).toContain('button-name');
      await expect(expectAccessible(page, 'home with a nameless button')).rejects.toThrow(/button-name/);
    } finally {
      await context.close();
    }
  });

  it.each([
    ['home', '.launcher .tile'],
    ['drive', '[role=grid], .empty'],
    ['settings', '#p-name'],
  ])('%s shows its first data without loading cozy-client', async (slug, first) => {
    const { context, page, errors } = await openApp(browser, w, slug);
    try {
      await page.locator(first).first().waitFor({ timeout: 30_000 });
      // the scripts the page loaded, each with whether it holds cozy-client's core (its store's error message)
      const scripts = await page.evaluate(async () => Promise.all(performance.getEntriesByType('resource').map((e) => e.name).filter((u) => u.endsWith('.js'))
        .map(async (url) => [url, (await (await fetch(url)).text()).includes('getById called with undefined id')] as const)));
      expect(scripts.length).toBeGreaterThan(0);
      expect(scripts.filter(([, cozyClient]) => cozyClient)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('comes back to the route an app link named (its #fragment) after the login', async () => {
    const { context, page } = await openApp(browser, w, 'settings', { path: '#/sessions' });
    try {
      await page.locator('header.appbar').waitFor();
      expect(page.url()).toBe(w.appUrl('settings', '#/sessions'));
    } finally {
      await context.close();
    }
  });
});
