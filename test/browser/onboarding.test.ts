/**
 * The owner's whole journey in a real browser (Debian's headless Chromium through playwright-core),
 * in one browser context: the registration link of an instance created without a passphrase (the
 * choose-passphrase page, its refusals and strength meter, the page's own WebCrypto PBKDF2), the
 * link being single use, logging out and in, enrolling an authenticator app (RFC 6238 computed here
 * with node:crypto), the two-factor login, and the last log-out. Screenshots land in
 * test-results/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { derivePassphrase } from '../../src/auth/passphrase.js';
import { registrationUrl } from '../../src/auth/passphrase-routes.js';
import type { Instance } from '../../src/instances/types.js';
import { totp } from '../helpers/totp.js';

/** Few PBKDF2 iterations so that both Node and the page derive in milliseconds (production: 650 000). */
const ITER = 1000;
/** The passphrase the owner chooses: 28 characters of lower case and spaces, "strong" for the meter. */
const PASS = 'correct horse battery staple';
let h: TestHearth;
let browser: Browser;
let context: BrowserContext;
let page: Page;
/** The instance being onboarded: `onboard.localhost:<port>` (Chromium resolves *.localhost to loopback). */
let instance: Instance;
let domain = '';
let url = '';
let link = '';

const sessionCookie = async () => (await context.cookies(url)).find((c) => c.name === 'cozysessid');
/** Whether a session cookie opens the session list, asked from Node (not through the browser). */
const opens = async (value: string) =>
  (await h.req('GET', '/settings/sessions', { host: domain, headers: { cookie: `cozysessid=${value}` } })).status === 200;
/** The focused element's id (a string expression: tsconfig has no DOM lib). */
const focused = () => page.evaluate<string>('document.activeElement?.id ?? ""');
const meterValue = () => page.evaluate<number>('document.getElementById("meter").value');

/**
 * A same-origin fetch from the page itself: the browser sends its HttpOnly session cookie (Node's
 * page.request would not do here: Node does not resolve *.localhost, Chromium does).
 */
async function browserFetch(method: string, path: string, data?: unknown): Promise<{ status: number; body: unknown }> {
  return page.evaluate(async ({ method, path, data }) => {
    const r = await fetch(path, {
      method, credentials: 'same-origin',
      ...(data === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(data) }),
    });
    const text = await r.text();
    return { status: r.status, body: text ? (JSON.parse(text) as unknown) : null };
  }, { method, path, data });
}

/** The passphrase step of a login, typed in the browser: the page derives with WebCrypto and posts. */
async function typePassphrase(): Promise<void> {
  await page.goto(`${url}/auth/login`);
  await page.locator('h1').filter({ hasText: `Log in to ${domain}` }).waitFor();
  expect(await page.locator('#login').getAttribute('data-iterations')).toBe(String(ITER));
  expect(await focused()).toBe('password');
  await page.keyboard.type(PASS);
  await page.keyboard.press('Enter');
}

/** The home page's "Log out" button: back on the login page, and the old cookie is dead. */
async function logOut(shot: string): Promise<void> {
  const before = (await sessionCookie())!.value;
  expect(await opens(before)).toBe(true);
  await page.goto(`${url}/`);
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(`${url}/auth/login`);
  await page.locator('h1').filter({ hasText: `Log in to ${domain}` }).waitFor();
  expect(await opens(before)).toBe(false);
  const left = await sessionCookie();
  if (left) expect(await opens(left.value)).toBe(false);
  expect((await browserFetch('GET', '/settings/sessions')).status).toBe(401);
  await screenshot(page, shot);
}

beforeAll(async () => {
  [h, browser] = await Promise.all([startTestHearth(), launchBrowser()]);
  // A new instance without passphrase (the test instance has one): create() returns its register token.
  instance = await h.hearth.registry.create({ domain: `onboard.localhost:${h.port}`, kdfIterations: ITER });
  domain = instance.domain;
  url = `http://${domain}`;
  expect(instance.onboarded).toBe(false);
  expect(instance.kdfIterations).toBe(ITER);
  expect(instance.registerToken).toMatch(/^[0-9a-f]{32}$/);
  link = registrationUrl(domain, instance.registerToken!);
  context = await browser.newContext({ viewport: { width: 800, height: 600 }, locale: 'en-US' });
  page = await context.newPage();
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await h?.close();
});

describe('owner onboarding in Chromium, from the registration link to a two-factor login', () => {
  let secret = '';

  it('chooses the passphrase on the registration page: refusals in the page, strength meter, keyboard submit, logged in', async () => {
    expect(link).toBe(`${url}/auth/passphrase?registerToken=${instance.registerToken}`);
    const opened = await page.goto(link);
    expect(opened?.status()).toBe(200);
    await expect(page.title()).resolves.toBe(`Choose your passphrase · ${domain}`);
    expect(await page.locator('h1').textContent()).toBe(`Choose the passphrase of ${domain}`);
    const field = page.getByLabel('New passphrase');
    const confirm = page.getByLabel('Confirm the passphrase');
    expect(await field.count()).toBe(1);
    expect(await confirm.count()).toBe(1);
    expect(await field.getAttribute('type')).toBe('password');
    expect(await confirm.getAttribute('type')).toBe('password');
    expect(await page.locator('#choose').getAttribute('data-iterations')).toBe(String(ITER));
    const meter = page.getByLabel('Strength');
    expect(await meter.count()).toBe(1);
    expect(await meter.getAttribute('id')).toBe('meter');
    expect(await page.locator('meter#meter').count()).toBe(1);
    expect(await meter.isVisible()).toBe(true);
    expect(await meterValue()).toBe(0);
    const strength = page.locator('#strength');
    expect(await strength.textContent()).toBe('');
    const error = page.locator('#error');
    expect(await error.isVisible()).toBe(false);
    expect(await sessionCookie()).toBeUndefined();
    await screenshot(page, 'onboarding-choose');

    // Nothing is posted while the page refuses.
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') posts.push(r.url());
    });

    // Too short: typed with the keyboard (focus starts in the first field), Tab, Enter.
    expect(await focused()).toBe('password');
    await page.keyboard.type('short');
    expect(await strength.textContent()).toBe('weak');
    expect(await page.locator('label[for=meter]').innerText()).toBe('Strength: weak');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('confirm');
    await page.keyboard.type('short');
    await page.keyboard.press('Enter');
    await error.filter({ hasText: 'at least 8 characters' }).waitFor({ state: 'visible' });
    expect(await error.textContent()).toBe('The passphrase needs at least 8 characters.');
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect(await focused()).toBe('password');
    await screenshot(page, 'onboarding-too-short');

    // The strength label follows the typing: weak, then fair, then strong.
    await field.fill('');
    await page.keyboard.type('correct');
    expect(await strength.textContent()).toBe('weak');
    const weak = await meterValue();
    await page.keyboard.type(' horse');
    expect(await strength.textContent()).toBe('fair');
    const fair = await meterValue();
    expect(fair).toBeGreaterThan(weak);
    await page.keyboard.type(' battery staple');
    expect(await strength.textContent()).toBe('strong');
    expect(await meterValue()).toBe(100);
    expect(await field.inputValue()).toBe(PASS);

    // The two fields differ: the message names it and points at the confirmation.
    await confirm.fill('');
    await page.keyboard.type('correct horse battery stapel');
    await page.keyboard.press('Enter');
    await error.filter({ hasText: 'differ' }).waitFor({ state: 'visible' });
    expect(await error.textContent()).toBe('The two passphrases differ.');
    expect(await confirm.getAttribute('aria-invalid')).toBe('true');
    expect(await field.getAttribute('aria-invalid')).toBeNull();
    expect(await focused()).toBe('confirm');
    await screenshot(page, 'onboarding-mismatch');
    expect(posts).toEqual([]);
    expect(await sessionCookie()).toBeUndefined();

    // The right confirmation, Enter: the page derives with WebCrypto and posts the derived value only.
    await confirm.fill('');
    await page.keyboard.type(PASS);
    const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url() === `${url}/settings/passphrase`);
    await page.keyboard.press('Enter');
    const sent = (await posted).postData() ?? '';
    const body = new URLSearchParams(sent);
    expect(body.get('passphrase')).toBe(await derivePassphrase(PASS, domain, ITER));
    expect(body.get('iterations')).toBe(String(ITER));
    expect(body.get('register_token')).toBe(instance.registerToken);
    expect(sent).not.toContain('horse');
    await page.waitForURL(`${url}/`);
    expect(await page.locator('h1').textContent()).toBe(`Hello ${domain}`);
    const session = await sessionCookie();
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(await opens(session!.value)).toBe(true);
    const stored = await h.hearth.registry.get(domain);
    expect(stored).toMatchObject({ onboarded: true, kdfIterations: ITER });
    expect(await h.hearth.registry.checkPassphrase(stored!, await derivePassphrase(PASS, domain, ITER))).toBe(true);
    await screenshot(page, 'onboarding-home');
  });

  it('shows "link not valid" when the registration link is opened again (single use)', async () => {
    const again = await page.goto(link);
    expect(again?.status()).toBe(400);
    await expect(page.title()).resolves.toBe(`Link not valid · ${domain}`);
    expect(await page.locator('h1').textContent()).toBe('Link not valid');
    expect(await page.getByRole('status').textContent()).toContain('This link is not valid (anymore)');
    expect(await page.getByRole('link', { name: 'Log in' }).getAttribute('href')).toBe('/auth/login');
    expect(await page.getByLabel('New passphrase').count()).toBe(0);
    await screenshot(page, 'onboarding-link-used');
  });

  it('logs out with the home page\'s "Log out" button: the login page comes back', async () => {
    await logOut('onboarding-logged-out');
  });

  it('logs in with the chosen passphrase', async () => {
    await typePassphrase();
    await page.waitForURL(`${url}/`);
    expect(await page.locator('h1').textContent()).toBe(`Hello ${domain}`);
    const session = await sessionCookie();
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(await opens(session!.value)).toBe(true);
    await screenshot(page, 'onboarding-login-home');
  });

  it('enrols an authenticator app with the browser session, then logs out', async () => {
    // Fetched from the home page: the enrolment routes see the browser's session.
    expect(page.url()).toBe(`${url}/`);
    const start = await browserFetch('POST', '/settings/twofactor/totp', {});
    expect(start.status).toBe(200);
    const started = start.body as { secret: string; otpauth_uri: string };
    secret = started.secret;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(started.otpauth_uri).toContain(`secret=${secret}`);
    const confirm = await browserFetch('POST', '/settings/twofactor/totp/confirm', { code: totp(secret, Date.now()) });
    expect(confirm.status).toBe(200);
    const confirmed = confirm.body as { auth_mode: string; recovery_codes: string[] };
    expect(confirmed.auth_mode).toBe('two_factor_totp');
    expect(confirmed.recovery_codes).toHaveLength(10);
    await logOut('onboarding-totp-logged-out');
  });

  it('asks for the code after the passphrase, and opens the session with the code of the authenticator app', async () => {
    await typePassphrase();
    const heading = page.locator('h1');
    await heading.filter({ hasText: 'Confirm it is you' }).waitFor();
    await expect(page.title()).resolves.toBe(`Two-factor authentication · ${domain}`);
    expect(await sessionCookie()).toBeUndefined();
    expect(await page.getByLabel('Code').getAttribute('autocomplete')).toBe('one-time-code');
    expect(await focused()).toBe('passcode');
    await screenshot(page, 'onboarding-twofactor');

    // The enrolment used the current step: the next one (within the ±1 step drift) is fresh.
    await page.keyboard.type(totp(secret, Date.now() + 30_000));
    await page.keyboard.press('Enter');
    await page.waitForURL(`${url}/`);
    expect(await heading.textContent()).toBe(`Hello ${domain}`);
    const session = await sessionCookie();
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(await opens(session!.value)).toBe(true);
    await screenshot(page, 'onboarding-twofactor-home');
  });

  it('logs out at the end: the old session cookie no longer opens /settings/sessions', async () => {
    const before = (await sessionCookie())!.value;
    await logOut('onboarding-end');
    expect(await opens(before)).toBe(false);
  });
});
