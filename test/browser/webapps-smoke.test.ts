/**
 * The five built-in apps open in Chromium on their own hosts, logged in, with their name in their app bar, no script
 * error and no serious axe-core violation. Home, Drive and Settings show their first data without loading cozy-client
 * (webapps/shared/client.ts: it comes on first use), the wallpaper (a raw fetch) included; a page whose token the
 * stack refuses renews it, for its raw fetches too.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { axeViolations, expectAccessible } from '../helpers/a11y.js';
import { png } from '../helpers/images.js';
import { until } from '../helpers/jobs.js';
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
    ['home', '', '.launcher .tile'],
    ['drive', '', '[role=grid], .empty'],
    ['settings', '', '#p-name'],
    ['settings', '#/appearance', '.wallpaper-card'],
  ])('%s%s shows its first data without loading cozy-client', async (slug, path, first) => {
    const { context, page, errors } = await openApp(browser, w, slug, { path });
    try {
      await page.locator(first).first().waitFor({ timeout: 30_000 });
      // Home and Settings' appearance read the wallpaper with the client's raw fetch: once it has answered
      if (slug === 'home' || path) await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/settings/wallpaper')), undefined, { timeout: 30_000 });
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

  it('renews a token the stack refuses, for a raw fetch too: Home shows the wallpaper', async () => {
    const settings = await w.token('io.cozy.settings');
    const image = { token: settings, host: w.domain, raw: await png(64, 36), headers: { 'content-type': 'image/png' } };
    expect((await w.h.req('PUT', '/settings/wallpaper', image)).status).toBe(204);
    const { context, page, errors } = await openApp(browser, w, 'home');
    try {
      // the page starts with a token the stack refuses (another instance's): its calls are refused, then renewed
      // through cozy-client, which reads the app's page again (`/?refreshToken`)
      const bad = await w.h.cliToken('io.cozy.settings', w.h.other);
      await context.addInitScript(`document.addEventListener('readystatechange', () => {
        const root = document.querySelector('[role=application][data-cozy]');
        if (document.readyState !== 'interactive' || !root) return;
        root.setAttribute('data-cozy', JSON.stringify({ ...JSON.parse(root.getAttribute('data-cozy')), token: ${JSON.stringify(bad)} }));
      })`);
      // (once the first load's own request for the wallpaper has answered)
      await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/settings/wallpaper')), undefined, { timeout: 30_000 });
      const statuses: number[] = [];
      page.on('response', (r) => { if (r.url().endsWith('/settings/wallpaper')) statuses.push(r.status()); });
      await page.reload();
      // the hero shows the default wallpaper, then the owner's, read through the client's raw fetch
      await until(async () => String(await page.evaluate('getComputedStyle(document.querySelector(".hero")).getPropertyValue("--wallpaper")')).startsWith('url("blob:'), 30_000);
      expect(statuses).toEqual([400, 200]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await w.api('DELETE', '/settings/wallpaper', settings);
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
