/**
 * The login page in a real browser (Debian's headless Chromium through playwright-core): the
 * page's own WebCrypto PBKDF2, the error on a wrong passphrase, the session cookie, keyboard use
 * and French. Screenshots land in test-results/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { derivePassphrase } from '../../src/auth/passphrase.js';

/** Few PBKDF2 iterations so that both Node and the page derive in milliseconds (production: 650 000). */
const ITER = 1000;
let h: TestHearth;
let browser: Browser;

beforeAll(async () => {
  [h, browser] = await Promise.all([startTestHearth(), launchBrowser()]);
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, await derivePassphrase('owner-pass', h.domain, ITER), ITER);
  // The second instance (127.0.0.1:<port>) speaks French and has a passphrase too.
  h.other = await h.hearth.registry.modify(h.otherDomain, { locale: 'fr', passphrase: 'x', kdfIterations: ITER });
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 800, height: 600 }, locale: 'en-US' });
  const page = await context.newPage();
  return { context, page };
}

/** The focused element's id, else its tag name (a string expression: tsconfig has no DOM lib). */
const focused = (page: Page) => page.evaluate<string>('document.activeElement?.id || document.activeElement?.tagName.toLowerCase()');

describe('login page in Chromium', () => {
  it('is usable with the keyboard, and explains a wrong passphrase', async () => {
    const { context, page } = await newPage();
    try {
      await page.goto(`${h.url}/auth/login`);
      await expect(page.title()).resolves.toBe(`Log in · ${h.domain}`);
      expect(await page.locator('h1').textContent()).toBe(`Log in to ${h.domain}`);
      expect(await page.locator('#login').getAttribute('data-iterations')).toBe(String(ITER));
      expect(await page.getByLabel('Passphrase').count()).toBe(1);
      expect(await page.locator('#error').isVisible()).toBe(false);
      await screenshot(page, 'login-en');
      // the page's icon: linked, allowed by its CSP, and an image Chromium decodes (the largest of the ICO)
      expect(await page.locator('link[rel=icon]').getAttribute('href')).toBe('/favicon.ico');
      const width = await page.evaluate<number>(`new Promise((done) => { const i = new Image(); i.onload = () => done(i.naturalWidth); i.onerror = () => done(-1); i.src = '/favicon.ico'; })`);
      expect(width).toBe(48);

      // Focus starts in the passphrase field; Tab reaches the button, Shift+Tab comes back.
      expect(await focused(page)).toBe('password');
      await page.keyboard.press('Tab');
      expect(await focused(page)).toBe('button');
      expect(await page.locator(':focus').textContent()).toBe('Log in');
      await page.keyboard.press('Tab');
      expect(await page.locator(':focus').textContent()).toBe('Forgot your passphrase?');
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Shift+Tab');
      expect(await focused(page)).toBe('password');

      // An empty passphrase is refused by the page itself, in its own words.
      await page.keyboard.press('Enter');
      await page.locator('#error').filter({ hasText: 'Type your passphrase.' }).waitFor({ state: 'visible' });
      expect(await page.getByLabel('Passphrase').getAttribute('aria-invalid')).toBe('true');
      expect(await focused(page)).toBe('password');

      // Enter submits: the page derives with WebCrypto, posts, and shows the server's error.
      await page.keyboard.type('wrong-pass');
      const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url() === `${h.url}/auth/login`);
      await page.keyboard.press('Enter');
      const body = new URLSearchParams((await posted).postData() ?? '');
      expect(body.get('passphrase')).toMatch(/^[A-Za-z0-9+/]{43}=$/); // derived, never the clear passphrase
      expect((await posted).postData()).not.toContain('wrong-pass');
      const error = page.locator('#error');
      await error.filter({ hasText: 'Wrong passphrase' }).waitFor({ state: 'visible' });
      expect(await error.textContent()).toBe('Wrong passphrase. 9 attempt(s) left before logins are locked.');
      expect(await error.getAttribute('role')).toBe('alert');
      const field = page.getByLabel('Passphrase');
      expect(await field.getAttribute('aria-invalid')).toBe('true');
      expect(await field.getAttribute('aria-describedby')).toBe('error');
      expect(await field.inputValue()).toBe('');
      expect(await focused(page)).toBe('password');
      await screenshot(page, 'login-en-wrong');
      expect((await context.cookies(h.url)).map((c) => c.name)).not.toContain('cozysessid');
    } finally {
      await context.close();
    }
  });

  it('logs in with the right passphrase: redirect home and an HttpOnly, SameSite=Lax session cookie', async () => {
    const { context, page } = await newPage();
    try {
      await page.goto(`${h.url}/auth/login`);
      await page.getByLabel('Passphrase').fill('owner-pass');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${h.url}/`);
      expect(page.url()).toBe(`${h.url}/`);
      const session = (await context.cookies(h.url)).find((c) => c.name === 'cozysessid');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false, path: '/' });
      expect(session?.expires).toBeGreaterThan(Date.now() / 1000 + 29 * 86400);
      await screenshot(page, 'login-en-home');
      // The session is real: the page's cookie opens the session list, and /auth/login now goes home.
      const sessions = await page.request.get(`${h.url}/settings/sessions`);
      expect(sessions.status()).toBe(200);
      await page.goto(`${h.url}/auth/login`);
      expect(page.url()).toBe(`${h.url}/`);
    } finally {
      await context.close();
    }
  });

  it('leads from the login page to the reset page and back', async () => {
    const { context, page } = await newPage();
    try {
      await page.goto(`${h.url}/auth/login`);
      await page.getByRole('link', { name: 'Forgot your passphrase?' }).click();
      await page.waitForURL(`${h.url}/auth/passphrase_reset`);
      expect(await page.locator('h1').textContent()).toBe(`Forgotten passphrase of ${h.domain}`);
      expect(await page.getByRole('button', { name: 'Send me a link' }).count()).toBe(1);
      await screenshot(page, 'reset-en');
      await page.getByRole('link', { name: 'Log in' }).click();
      await page.waitForURL(`${h.url}/auth/login`);
      // asking for a link is not a dead end: what to do next, send it again, back to the login page
      await page.getByRole('link', { name: 'Forgot your passphrase?' }).click();
      await page.getByRole('button', { name: 'Send me a link' }).click();
      await page.locator('h1').filter({ hasText: 'Check your mailbox' }).waitFor();
      expect(await page.locator('main').innerText()).toContain('Nothing after a few minutes? Look in your spam folder, then send the link again.');
      await screenshot(page, 'reset-sent-en');
      await page.getByRole('button', { name: 'Send the link again' }).click();
      await page.locator('h1').filter({ hasText: 'Check your mailbox' }).waitFor();
      await page.getByRole('link', { name: 'Back to the login page' }).click();
      await page.waitForURL(`${h.url}/auth/login`);
      expect(await page.getByLabel('Passphrase').count()).toBe(1);
    } finally {
      await context.close();
    }
  });

  it('speaks French on an instance whose locale is fr', async () => {
    const { context, page } = await newPage();
    const url = `http://${h.otherDomain}`;
    try {
      await page.goto(`${url}/auth/login`);
      expect(await page.locator('html').getAttribute('lang')).toBe('fr');
      await expect(page.title()).resolves.toBe(`Connexion · ${h.otherDomain}`);
      expect(await page.locator('h1').textContent()).toBe(`Se connecter à ${h.otherDomain}`);
      expect(await page.getByLabel('Phrase de passe').count()).toBe(1);
      expect(await page.getByRole('button').textContent()).toBe('Se connecter');
      await screenshot(page, 'login-fr');
      await page.getByLabel('Phrase de passe').fill('pas-ça');
      await page.keyboard.press('Enter');
      await page.locator('#error').filter({ hasText: 'Phrase de passe incorrecte' }).waitFor({ state: 'visible' });
      expect(await page.locator('#error').textContent()).toBe('Phrase de passe incorrecte. Encore 9 essai(s) avant le blocage des connexions.');
      expect(await page.getByLabel('Phrase de passe').getAttribute('aria-invalid')).toBe('true');
      await screenshot(page, 'login-fr-wrong');
      await page.getByRole('link', { name: 'Phrase de passe oubliée ?' }).click();
      await page.getByRole('button', { name: "M'envoyer un lien" }).click();
      await page.locator('h1').filter({ hasText: 'Consultez votre messagerie' }).waitFor();
      expect(await page.getByRole('button', { name: 'Renvoyer le lien' }).count()).toBe(1);
      await page.getByRole('link', { name: 'Retour à la page de connexion' }).click();
      await page.waitForURL(`${url}/auth/login`);
      await page.getByLabel('Phrase de passe').fill('x');
      await page.keyboard.press('Enter');
      await page.waitForURL(`${url}/`);
      const session = (await context.cookies(url)).find((c) => c.name === 'cozysessid');
      expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    } finally {
      await context.close();
    }
  });
});
