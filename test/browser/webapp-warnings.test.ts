/**
 * The instance's warnings in Home and Settings, in Chromium: new terms of service (admin API) show a banner with
 * their title, text and the link of settings.tosLink; the owner follows it to the terms page (here a stand-in for the
 * manager, which signs the terms through the admin API as cozy-stack's manager does), accepts, comes back, and the
 * banner is gone. "Later" hides it for the tab's session, by keyboard; in French, dark at 360 px; axe-core on each state.
 * Without settings.tosLink (no terms page: a web app cannot sign them, cozy-stack lets only an OAuth client or the CLI),
 * the banner says from when the terms apply, who to ask (the help link when configured) and the server command.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { DEFAULTS } from '../../src/config/schema.js';

const WAIT = { timeout: 60_000 };
const ADMIN = { authorization: `Basic ${Buffer.from('admin:admin-secret').toString('base64')}` };
const day = (offset: number) => new Date(Date.now() + offset * 24 * 3600 * 1000).toISOString().slice(0, 10).replace(/-/g, '');
const LATEST = `2.0.0-${day(10)}`;

let w: WebappsHearth;
let browser: Browser;
let terms: Server;

const admin = (payload: Record<string, unknown>) => w.h.hearth.adminApp.inject({ method: 'PATCH', url: `/instances/${encodeURIComponent(w.domain)}`, headers: ADMIN, payload });

/** The terms page of a manager: shows the terms; accepting signs them for the instance (admin API) and links back home. */
function startTerms(): Promise<Server> {
  const server = createServer((req, res) => {
    const domain = new URL(req.url ?? '/', 'http://x').searchParams.get('domain') ?? '';
    const page = (body: string) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html lang="en"><title>Terms</title><main>${body}</main></html>`);
    if (req.method === 'POST') {
      void admin({ tos_signed: LATEST }).then((r) => page(r.statusCode === 200 ? `<h1>Thank you</h1><a href="http://home.${domain}/">Back to Hearth</a>` : `<h1>Failed ${r.statusCode}</h1>`));
      return;
    }
    page(`<h1>Terms of service ${LATEST} for ${domain}</h1><form method="post"><button>I accept</button></form>`);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

beforeAll(async () => {
  terms = await startTerms();
  const tosLink = `http://127.0.0.1:${(terms.address() as AddressInfo).port}/tos?domain={domain}`;
  [w, browser] = await Promise.all([
    startWithWebapps({ label: 'warn', slugs: ['home', 'settings'], config: { settings: { ...DEFAULTS.settings, tosLink } } }),
    launchBrowser(),
  ]);
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
  await new Promise((r) => terms?.close(r));
});

const banner = (page: Page) => page.locator('.warnings .warning[data-code="tos-updated"]');

describe('the instance\'s warnings', () => {
  it('shows nothing while there is none, and loads none of the banner\'s strings (Home, Settings)', async () => {
    for (const [slug, ready] of [['home', '.launcher .tile'], ['settings', 'main h1']] as const) {
      const { context, page, errors } = await openApp(browser, w, slug);
      try {
        // the page's scripts from its first load on (openApp's login leaves the page on the app)
        const scripts: Array<Promise<string>> = [];
        page.on('response', (r) => { if (r.url().endsWith('.js')) scripts.push(r.text().catch(() => '')); });
        await page.reload();
        await page.locator(ready).first().waitFor(WAIT);
        await page.waitForLoadState('networkidle');
        expect(await page.locator('.warnings, .warnings-failed').count()).toBe(0);
        const texts = await Promise.all(scripts);
        expect(texts.length).toBeGreaterThan(0);
        // the strings in either language (the component and its keys stay in the page's script: warnings.tsx)
        expect(texts.filter((t) => ['The terms of service have changed', 'Remind me later', 'Me le rappeler plus tard'].some((s) => t.includes(s)))).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    }
  });

  it('new terms: Home shows them with their link; accepted on the terms page, the banner is gone', async () => {
    expect((await admin({ tos_signed: '1.0.0-20200101', tos_latest: LATEST })).statusCode).toBe(200);
    const { context, page, errors } = await openApp(browser, w, 'home');
    try {
      await banner(page).waitFor(WAIT);
      expect(await banner(page).locator('h2').textContent()).toBe('The terms of service have changed');
      expect(await banner(page).locator('p').textContent()).toContain('accept them to keep using your Hearth');
      const action = banner(page).getByRole('link', { name: 'Read and accept the terms' });
      expect(await action.getAttribute('href')).toBe(`http://127.0.0.1:${(terms.address() as AddressInfo).port}/tos?domain=${encodeURIComponent(w.domain)}`);
      await page.locator('.launcher .tile').first().waitFor(WAIT);
      await expectAccessible(page, 'home with the terms banner');
      await screenshot(page, 'home-warning-1280');

      // by keyboard: Tab reaches the action before the launcher
      for (let i = 0; i < 15 && !(await page.evaluate('document.activeElement?.textContent === "Read and accept the terms"')); i++) await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: `Terms of service ${LATEST} for ${w.domain}` }).waitFor(WAIT);
      await page.getByRole('button', { name: 'I accept' }).click();
      await page.getByRole('link', { name: 'Back to Hearth' }).click();
      await page.waitForURL((u) => u.host === new URL(w.appUrl('home')).host, WAIT);
      await page.locator('.launcher .tile').first().waitFor(WAIT);
      expect(await page.locator('.warnings').count()).toBe(0);
      expect((await w.h.hearth.registry.get(w.domain))?.tosSigned).toBe(LATEST);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('goes away when the terms are signed elsewhere, once the page is back in view', async () => {
    expect((await admin({ tos_signed: '1.0.0-20200101' })).statusCode).toBe(200);
    const { context, page } = await openApp(browser, w, 'settings');
    try {
      await banner(page).waitFor(WAIT);
      await expectAccessible(page, 'settings with the terms banner');
      expect((await admin({ tos_signed: LATEST })).statusCode).toBe(200);
      // the owner switches to another tab and back
      const other = await context.newPage();
      await other.goto(`http://127.0.0.1:${(terms.address() as AddressInfo).port}/tos?domain=x`);
      await page.bringToFront();
      await page.evaluate(`document.dispatchEvent(new Event('visibilitychange'))`);
      await banner(page).waitFor({ state: 'detached', ...WAIT });
    } finally {
      await context.close();
    }
  });

  it('"Later" hides it for the session, by keyboard; in French, dark, at 360 px', async () => {
    expect((await admin({ tos_signed: '1.0.0-20200101' })).statusCode).toBe(200);
    await w.h.hearth.registry.modify(w.domain, { locale: 'fr' });
    const { context, page } = await openApp(browser, w, 'settings', { colorScheme: 'dark', viewport: { width: 360, height: 740 }, locale: 'fr-FR' });
    try {
      await banner(page).waitFor(WAIT);
      expect(await banner(page).locator('h2').textContent()).toBe('Les conditions d\u2019utilisation ont changé');
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
      await expectAccessible(page, 'settings with the terms banner (French, dark, 360 px)');
      await screenshot(page, 'settings-warning-dark-360');
      const later = banner(page).getByRole('button', { name: 'Me le rappeler plus tard : Les conditions d\u2019utilisation ont changé' });
      await later.focus();
      await page.keyboard.press('Enter');
      await banner(page).waitFor({ state: 'detached', ...WAIT });
      expect(await page.evaluate('document.activeElement?.id')).toBe('main');
      await page.reload();
      await page.locator('main h1').first().waitFor(WAIT);
      expect(await page.locator('.warnings').count()).toBe(0); // still hidden in this session
      // another session (another browser) sees it again: the terms are not signed
      const second = await openApp(browser, w, 'home', { locale: 'fr-FR' });
      try {
        await banner(second.page).waitFor(WAIT);
        expect(await banner(second.page).getByRole('link').textContent()).toBe('Lire et accepter les conditions');
      } finally {
        await second.context.close();
      }
    } finally {
      await context.close();
      await w.h.hearth.registry.modify(w.domain, { locale: 'en' });
    }
  });

  it('new terms without a terms page: what to do next, the help link, the command; by keyboard; in French at 360 px', async () => {
    const settings = w.h.hearth.config.settings;
    w.h.hearth.config.settings = { ...settings, tosLink: null, helpLink: 'https://help.example.org/hearth' };
    expect((await admin({ tos_signed: '1.0.0-20200101', tos_latest: LATEST })).statusCode).toBe(200);
    const applies = new Date(`${LATEST.slice(-8, -4)}-${LATEST.slice(-4, -2)}-${LATEST.slice(-2)}T12:00:00Z`);
    try {
      const { context, page, errors } = await openApp(browser, w, 'home');
      try {
        await banner(page).waitFor(WAIT);
        const text = banner(page).locator('.warning-body > p');
        await expect.poll(() => text.textContent(), WAIT).toContain(new Intl.DateTimeFormat('en', { dateStyle: 'medium' }).format(applies));
        expect(await text.textContent()).toContain('ask the person who runs your Hearth for them');
        expect(await banner(page).getByRole('link', { name: 'Read and accept the terms' }).count()).toBe(0);
        expect(await banner(page).getByRole('link', { name: 'Ask for help' }).getAttribute('href')).toBe('https://help.example.org/hearth');
        // by keyboard: Tab reaches "You run this Hearth yourself?", Enter shows the command
        for (let i = 0; i < 15 && !(await page.evaluate('document.activeElement?.tagName === "SUMMARY"')); i++) await page.keyboard.press('Tab');
        await page.keyboard.press('Enter');
        const command = banner(page).locator('details code');
        await command.waitFor({ state: 'visible', ...WAIT });
        expect(await command.textContent()).toBe(`hearth instances modify ${w.domain} --tos ${LATEST}`);
        await page.locator('.launcher .tile').first().waitFor(WAIT);
        await expectAccessible(page, 'home with the terms banner, no terms page');
        await screenshot(page, 'home-warning-nolink-1280');
        // what the command does (the admin API's tos_signed): the banner goes once the page is back in view
        expect((await admin({ tos_signed: LATEST })).statusCode).toBe(200);
        await page.evaluate(`document.dispatchEvent(new Event('visibilitychange'))`);
        await banner(page).waitFor({ state: 'detached', ...WAIT });
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }

      // no help link configured: the text alone, and "Later"; French, dark, at 360 px
      w.h.hearth.config.settings = { ...settings, tosLink: null, helpLink: null };
      expect((await admin({ tos_signed: '1.0.0-20200101' })).statusCode).toBe(200);
      await w.h.hearth.registry.modify(w.domain, { locale: 'fr' });
      const fr = await openApp(browser, w, 'settings', { colorScheme: 'dark', viewport: { width: 360, height: 740 }, locale: 'fr-FR' });
      try {
        await banner(fr.page).waitFor(WAIT);
        const text = banner(fr.page).locator('.warning-body > p');
        await expect.poll(() => text.textContent(), WAIT).toContain(`à partir du ${new Intl.DateTimeFormat('fr', { dateStyle: 'medium' }).format(applies)}`);
        expect(await text.textContent()).toContain('demandez-les à la personne qui gère votre Hearth');
        expect(await banner(fr.page).getByRole('link').count()).toBe(0);
        await banner(fr.page).getByText('Vous gérez ce Hearth vous-même ?').click();
        expect(await fr.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
        await expectAccessible(fr.page, 'settings with the terms banner, no terms page (French, dark, 360 px)');
        await screenshot(fr.page, 'settings-warning-nolink-dark-360');
        expect(await banner(fr.page).getByRole('button', { name: 'Me le rappeler plus tard : Les conditions d\u2019utilisation ont changé' }).count()).toBe(1);
        expect(fr.errors).toEqual([]);
      } finally {
        await fr.context.close();
      }
    } finally {
      w.h.hearth.config.settings = settings;
      await w.h.hearth.registry.modify(w.domain, { locale: 'en' });
    }
  });
});
