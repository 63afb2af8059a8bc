/**
 * The page a visitor sees before a password-protected share link, in Chromium: the look of the auth pages, English and
 * French by the instance locale, dark from the browser, 375 px wide without horizontal scrolling, the keyboard alone
 * (the field focused, Enter sends), each refusal said in words (empty, wrong, link revoked meanwhile), axe-core clean.
 */
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { ROOT_DIR, uploadOn } from '../helpers/webapps-drive-views.js';

let w: WebappsHearth;
let browser: Browser;
let token: string;

beforeAll(async () => {
  [w, browser] = await Promise.all([startWithWebapps({ label: 'sharepw', slugs: ['drive'] }), launchBrowser()]);
  token = await w.token('io.cozy.files io.cozy.permissions');
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
});

/** A read-only link with a password on a new file: its id and the URL a visitor opens. */
async function protectedLink(name: string, password: string): Promise<{ id: string; url: string }> {
  const f = await uploadOn(w, token, ROOT_DIR, name, `content of ${name}`, 'text/plain');
  const res = await w.api('POST', '/permissions?codes=visitor', token, {
    data: { type: 'io.cozy.permissions', attributes: { password, permissions: { files: { type: 'io.cozy.files', verbs: ['GET'], values: [f.id] } } } },
  });
  expect(res.status).toBe(201);
  return { id: res.body.data.id as string, url: w.appUrl('drive', `public?sharecode=${res.body.data.attributes.shortcodes.visitor as string}`) };
}

async function visit(url: string, opts: BrowserContextOptions = {}): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 375, height: 700 }, locale: 'en-US', ...opts });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // the refusals the page handles (401 of the page itself, 403 of a wrong password) are logged by Chromium: only other errors count
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()); });
  const res = await page.goto(url);
  expect(res?.status()).toBe(401);
  return { page, errors, close: () => context.close() };
}

const focused = (page: Page) => page.evaluate('document.activeElement && document.activeElement.id');
const overflows = (page: Page) => page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth');

describe('the password page of a protected link', () => {
  it('is the auth pages\' look at 375 px, used by keyboard alone: empty and wrong passwords said, the right one opens the file', async () => {
    const link = await protectedLink('report.txt', 'open sesame');
    const { page, errors, close } = await visit(link.url);
    try {
      await page.getByRole('heading', { name: 'This link is protected' }).waitFor();
      expect(await page.evaluate('document.documentElement.lang')).toBe('en');
      expect(await page.title()).toBe('Password required');
      expect(await focused(page)).toBe('password');
      expect(await overflows(page)).toBe(false);
      // the auth pages' card: white on the light grey page
      expect(await page.evaluate('getComputedStyle(document.querySelector("main")).backgroundColor')).toBe('rgb(255, 255, 255)');
      await expectAccessible(page, 'the password page');
      await page.keyboard.press('Enter');
      await page.getByRole('alert').getByText('Type the password.').waitFor();
      await page.keyboard.type('open sesam');
      await page.keyboard.press('Enter');
      await page.getByRole('alert').getByText('Wrong password. Check it with the person who shared the link, then try again.').waitFor({ timeout: 30_000 });
      expect(await focused(page)).toBe('password');
      expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
      await expectAccessible(page, 'the password page with an error');
      await screenshot(page, 'share-password-375');
      // the wrong text is selected: typing replaces it
      await page.keyboard.type('open sesame');
      await page.keyboard.press('Enter');
      await page.locator('h1', { hasText: 'report.txt' }).waitFor({ timeout: 30_000 });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  }, 120_000);

  it('says so when the link was revoked while the page was open, and is dark in a dark browser', async () => {
    const link = await protectedLink('gone.txt', 'pw');
    const { page, close } = await visit(link.url, { colorScheme: 'dark' });
    try {
      await page.getByRole('heading', { name: 'This link is protected' }).waitFor();
      expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(18, 21, 28)');
      await expectAccessible(page, 'the password page in dark');
      expect((await w.api('DELETE', `/permissions/${link.id}`, token)).status).toBe(204);
      await page.getByLabel('Password').fill('pw');
      await page.getByRole('button', { name: 'Open' }).click();
      await page.getByRole('alert').getByText('This link does not exist any more or has expired: ask the person who shared it for a new one.').waitFor({ timeout: 30_000 });
    } finally {
      await close();
    }
  }, 120_000);

  it('is French on a French instance', async () => {
    const link = await protectedLink('rapport.txt', 'sésame');
    await w.h.hearth.registry.modify(w.domain, { locale: 'fr' });
    try {
      const { page, close } = await visit(link.url, { locale: 'fr-FR' });
      try {
        await page.getByRole('heading', { name: 'Ce lien est protégé' }).waitFor();
        expect(await page.evaluate('document.documentElement.lang')).toBe('fr');
        await page.getByLabel('Mot de passe').fill('faux');
        await page.getByRole('button', { name: 'Ouvrir' }).click();
        await page.getByRole('alert').getByText('Mot de passe incorrect. Vérifiez-le auprès de la personne qui a partagé le lien, puis réessayez.').waitFor({ timeout: 30_000 });
        await expectAccessible(page, 'the French password page');
        await page.getByLabel('Mot de passe').fill('sésame');
        await page.keyboard.press('Enter');
        await page.locator('h1', { hasText: 'rapport.txt' }).waitFor({ timeout: 30_000 });
      } finally {
        await close();
      }
    } finally {
      await w.h.hearth.registry.modify(w.domain, { locale: 'en' });
    }
  }, 120_000);
});
