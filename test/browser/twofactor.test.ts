/**
 * Two-factor login in a real browser (Debian's headless Chromium through playwright-core): the
 * passphrase step with the page's own PBKDF2, the TOTP page, a wrong code, the right code (RFC 6238
 * computed here with node:crypto), the home page and its "Log out" button. Screenshots land in
 * test-results/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { derivePassphrase } from '../../src/auth/passphrase.js';
import { totp } from '../helpers/totp.js';

/** Few PBKDF2 iterations so that both Node and the page derive in milliseconds (production: 650 000). */
const ITER = 1000;
let h: TestHearth;
let browser: Browser;
let context: BrowserContext;
let page: Page;


const sessionCookie = async () => (await context.cookies(h.url)).find((c) => c.name === 'cozysessid');
/** Whether a session cookie opens the session list, asked from Node (not through the browser). */
const opens = async (value: string) => (await h.req('GET', '/settings/sessions', { headers: { cookie: `cozysessid=${value}` } })).status === 200;

/** The passphrase step, typed in the browser: the page derives with WebCrypto and posts the form. */
async function typePassphrase(): Promise<void> {
  await page.goto(`${h.url}/auth/login`);
  await page.getByLabel('Passphrase').fill('owner-pass');
  await page.keyboard.press('Enter');
}

beforeAll(async () => {
  [h, browser] = await Promise.all([startTestHearth(), launchBrowser()]);
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, await derivePassphrase('owner-pass', h.domain, ITER), ITER);
  context = await browser.newContext({ viewport: { width: 800, height: 600 }, locale: 'en-US' });
  page = await context.newPage();
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await h?.close();
});

describe('two-factor login in Chromium', () => {
  let secret = '';

  it('enrols an authenticator app with the browser session, then logs out', async () => {
    await typePassphrase();
    await page.waitForURL(`${h.url}/`);
    expect(await sessionCookie()).toBeDefined();
    // page.request shares the context's cookies: the enrolment routes see the browser's session.
    const start = await page.request.post(`${h.url}/settings/twofactor/totp`, { data: {} });
    expect(start.status()).toBe(200);
    secret = (await start.json()).secret;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const confirm = await page.request.post(`${h.url}/settings/twofactor/totp/confirm`, { data: { code: totp(secret, Date.now()) } });
    expect(confirm.status()).toBe(200);
    expect((await confirm.json()).recovery_codes).toHaveLength(10);

    const before = (await sessionCookie())!.value;
    const out = await page.request.delete(`${h.url}/auth/login`);
    expect(out.status()).toBeLessThan(300);
    expect(await opens(before)).toBe(false);
    await page.goto(`${h.url}/`);
    await page.waitForURL(`${h.url}/auth/login`);
  });

  it('asks for the code after the passphrase, explains a wrong code, and opens the session with the right one', async () => {
    await typePassphrase();
    const heading = page.locator('h1');
    await heading.filter({ hasText: 'Confirm it is you' }).waitFor();
    await expect(page.title()).resolves.toBe(`Two-factor authentication · ${h.domain}`);
    expect(await page.locator('#help').textContent()).toContain('authenticator app');
    expect(await page.locator('#error').textContent()).toBe('');
    expect(await sessionCookie()).toBeUndefined();
    const field = page.getByLabel('Code');
    expect(await field.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await page.evaluate<string>('document.activeElement?.id')).toBe('passcode');
    await screenshot(page, 'twofactor-en');
    // Post/Redirect/Get: the prompt is a GET; reloading it posts nothing again (no resubmission)
    expect(new URL(page.url()).pathname).toBe('/auth/twofactor');
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(new URL(r.url()).pathname);
    });
    const reloaded = await page.reload();
    expect(reloaded?.request().method()).toBe('GET');
    await heading.filter({ hasText: 'Confirm it is you' }).waitFor();
    expect(posts).toEqual([]);

    // A wrong code: the page comes back with the error, still without a session.
    const now = totp(secret, Date.now());
    const next = totp(secret, Date.now() + 30_000);
    const wrong = ['000000', '111111', '222222'].find((c) => c !== now && c !== next)!;
    await field.fill(wrong);
    await page.keyboard.press('Enter');
    const error = page.locator('#error');
    await error.filter({ hasText: 'Wrong or already used code' }).waitFor({ state: 'visible' });
    expect(await error.textContent()).toBe('Wrong or already used code. 9 attempt(s) left before logins are locked.');
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await page.getByLabel('Code').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Code').inputValue()).toBe('');
    expect(await sessionCookie()).toBeUndefined();
    await screenshot(page, 'twofactor-en-wrong');
    // the wrong-code answer is a GET too: a reload shows it again without posting the code again
    expect(posts).toEqual(['/auth/twofactor']);
    await page.reload();
    await error.filter({ hasText: 'Wrong or already used code' }).waitFor({ state: 'visible' });
    expect(posts).toEqual(['/auth/twofactor']);

    // The enrolment used the current step: the next one (within the ±1 step drift) is fresh.
    await page.getByLabel('Code').fill(totp(secret, Date.now() + 30_000));
    await page.keyboard.press('Enter');
    await page.waitForURL(`${h.url}/`);
    const session = await sessionCookie();
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(await opens(session!.value)).toBe(true);
    expect(await heading.textContent()).toBe(`Hello ${h.domain}`);
    await screenshot(page, 'twofactor-en-home');

    // "Log out" on the home page: back to the login page, and the old cookie is dead.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${h.url}/auth/login`);
    await heading.filter({ hasText: `Log in to ${h.domain}` }).waitFor();
    expect(await opens(session!.value)).toBe(false);
    const left = await sessionCookie();
    if (left) expect(await opens(left.value)).toBe(false);
    expect((await page.request.get(`${h.url}/settings/sessions`)).status()).toBe(401);
    await screenshot(page, 'twofactor-en-logged-out');
  });
});
