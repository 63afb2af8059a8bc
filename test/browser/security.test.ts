/**
 * The owner's Security page in a real browser (Debian's headless Chromium through playwright-core):
 * opened from the home page, it enrols an authenticator app (QR code and key, a wrong code, the
 * right one computed here with RFC 6238, ten recovery codes), the next login asks for a code, it
 * turns two factors off with the passphrase, changes the passphrase (the page's own refusals, a
 * wrong current one), and logs out the other sessions (a second browser context logged in with the
 * new passphrase). Screenshots land in test-results/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { derivePassphrase } from '../../src/auth/passphrase.js';
import type { TwoFactorStore } from '../../src/instances/types.js';
import { totp } from '../helpers/totp.js';

/** Few PBKDF2 iterations so that both Node and the page derive in milliseconds (production: 650 000). */
const ITER = 1000;
const OLD = 'owner-pass';
const NEW = 'a kettle on the hearth';
const HOME_LINK = 'Security: passphrase, two-factor authentication, sessions';
let h: TestHearth;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const store = () => h.hearth.registry as unknown as TwoFactorStore;
const sessionCookie = async (ctx: BrowserContext) => (await ctx.cookies(h.url)).find((c) => c.name === 'cozysessid');
/** The status of GET /settings/sessions with this session cookie, asked from Node (not through the browser). */
const sessionsStatus = async (value: string) => (await h.req('GET', '/settings/sessions', { headers: { cookie: `cozysessid=${value}` } })).status;
/** The focused element: its id, else its text (a string expression: tsconfig has no DOM lib). */
const focused = (p: Page = page) => p.evaluate<string>('document.activeElement?.id || document.activeElement?.textContent || ""');
/** The passphrase field of the two-factor section (the passphrase section is labelled "Passphrase" too). */
const twoFactorPassphrase = () => page.getByRole('region', { name: 'Two-factor authentication' }).getByLabel('Passphrase');
const text = async (selector: string) => (await page.locator(selector).textContent()) ?? '';

async function logIn(p: Page, passphrase: string): Promise<void> {
  await p.goto(`${h.url}/auth/login`);
  await p.getByLabel('Passphrase').fill(passphrase);
  await p.keyboard.press('Enter');
}

async function openFromHome(): Promise<void> {
  await page.goto(`${h.url}/`);
  await page.getByRole('link', { name: HOME_LINK }).click();
  await page.waitForURL(`${h.url}/auth/security`);
  await page.locator('h1').filter({ hasText: 'Security' }).waitFor();
}

beforeAll(async () => {
  [h, browser] = await Promise.all([startTestHearth(), launchBrowser()]);
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, await derivePassphrase(OLD, h.domain, ITER), ITER);
  context = await browser.newContext({ viewport: { width: 800, height: 900 }, locale: 'en-US' });
  page = await context.newPage();
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await h?.close();
});

describe('the Security page in Chromium', () => {
  let secret = '';

  it('is opened from the home page link after a login, and is used with the keyboard in reading order', async () => {
    await logIn(page, OLD);
    await page.waitForURL(`${h.url}/`);
    await openFromHome();
    await expect(page.title()).resolves.toBe(`Security · ${h.domain}`);
    expect(await text('#tf-mode')).toBe('Off');
    expect(await text('#sessions-count')).toBe('Only this session is open.');
    expect(await page.getByRole('button', { name: 'Set up an authenticator app' }).isVisible()).toBe(true);
    expect(await twoFactorPassphrase().isVisible()).toBe(false);
    for (const label of ['Current passphrase', 'New passphrase', 'Confirm the new passphrase']) {
      expect(await page.getByLabel(label, { exact: true }).getAttribute('type')).toBe('password');
    }
    // No error box takes room while empty.
    expect(await page.locator('.err:visible').count()).toBe(0);
    // Tab goes through the sections in order.
    const order: string[] = [];
    for (let i = 0; i < 7; i++) {
      await page.keyboard.press('Tab');
      order.push(await focused());
    }
    expect(order).toEqual(['totp-start', 'pass-current', 'pass-new', 'pass-confirm', 'Change the passphrase', 'Log out the other sessions', 'Back to home']);
    await screenshot(page, 'security-en');
  });

  it('sets up an authenticator app: QR code and key, a wrong code refused, the right one shows ten recovery codes', async () => {
    await page.getByRole('button', { name: 'Set up an authenticator app' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#totp-setup').waitFor({ state: 'visible' });
    expect(await focused()).toBe('totp-setup-heading');
    expect(await page.locator('#tf-basic').isVisible()).toBe(false);
    const qr = page.getByRole('img', { name: 'QR code to scan with your authenticator app' });
    expect(await qr.count()).toBe(1);
    expect(await page.evaluate<string>('(({ namespaceURI, localName }) => namespaceURI + " " + localName)(document.querySelector("#totp-qr > *"))'))
      .toBe('http://www.w3.org/2000/svg svg');
    expect(await page.locator('#totp-qr svg path').count()).toBeGreaterThanOrEqual(2);
    expect((await qr.boundingBox())!.width).toBeGreaterThan(150);
    secret = (await text('#totp-secret')).replace(/\s+/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(await text('#totp-secret')).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    const pending = await store().twoFactor(h.instance);
    expect(pending.authMode).toBe('basic');
    expect(pending.totpSecret).not.toBeNull();
    await screenshot(page, 'security-totp-setup');

    const code = page.getByLabel('The 6-digit code the app shows');
    const error = page.locator('#totp-confirm-error');
    // Nothing typed: the page's own message, no request.
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() !== 'GET') posts.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
    await page.getByRole('button', { name: 'Confirm' }).click();
    await error.filter({ hasText: '6-digit code' }).waitFor();
    expect(await error.textContent()).toBe('Type the 6-digit code your authenticator app shows.');
    expect(await focused()).toBe('totp-code');
    expect(posts).toEqual([]);

    // A wrong code: the server refuses it and the page says so, on the field.
    const near = [-30_000, 0, 30_000].map((d) => totp(secret, Date.now() + d));
    const wrong = ['000000', '111111', '222222', '333333'].find((c) => !near.includes(c))!;
    await code.fill(wrong);
    await page.keyboard.press('Enter');
    await error.filter({ hasText: 'Wrong code' }).waitFor({ state: 'visible' });
    expect(await error.textContent()).toBe('Wrong code: type the code your authenticator app shows now.');
    expect(await error.getAttribute('role')).toBe('alert');
    expect(await code.getAttribute('aria-invalid')).toBe('true');
    expect(await focused()).toBe('totp-code');
    expect(posts).toEqual(['POST /settings/twofactor/totp/confirm']);
    expect((await store().twoFactor(h.instance)).authMode).toBe('basic');
    await screenshot(page, 'security-totp-wrong');

    // The right code, as an authenticator app computes it now.
    await code.fill(totp(secret, Date.now()));
    await page.keyboard.press('Enter');
    await page.locator('#totp-codes').waitFor({ state: 'visible' });
    expect(await focused()).toBe('codes-heading');
    expect(await page.locator('#totp-setup').isVisible()).toBe(false);
    expect(await text('#codes-text')).toContain('Write these codes down');
    // two-factor authentication is on from here: the status says so while the codes are shown
    expect(await text('#tf-mode')).toBe('On, with an authenticator app');
    expect(await page.locator('#tf-mode').getAttribute('class')).toBe('pill on');
    const codes = await page.locator('#recovery-codes li').allTextContents();
    expect(codes).toHaveLength(10);
    for (const c of codes) expect(c).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
    expect(new Set(codes).size).toBe(10);
    const on = await store().twoFactor(h.instance);
    expect(on.authMode).toBe('two_factor_totp');
    expect(on.recoveryHashes).toHaveLength(10);
    await screenshot(page, 'security-totp-codes');

    // Done: the page reloads and shows the new mode; the codes are not shown again.
    await page.getByRole('button', { name: 'Done' }).click();
    await page.locator('#tf-mode').filter({ hasText: 'On, with an authenticator app' }).waitFor();
    expect(await page.locator('#recovery-codes li').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Turn off two-factor authentication' }).isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Set up an authenticator app' }).isVisible()).toBe(false);
    await screenshot(page, 'security-totp-on');
  });

  it('logs out and in again: the two-factor page asks for a code, the next step\'s code opens the home', async () => {
    await page.goto(`${h.url}/`);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(`${h.url}/auth/login`);
    await logIn(page, OLD);
    await page.locator('h1').filter({ hasText: 'Confirm it is you' }).waitFor();
    expect(await sessionCookie(context)).toBeUndefined();
    // The enrolment used the current step: the next one (within the ±1 step drift) is fresh.
    await page.getByLabel('Code').fill(totp(secret, Date.now() + 30_000));
    await page.keyboard.press('Enter');
    await page.waitForURL(`${h.url}/`);
    expect(await text('h1')).toBe(`Hello ${h.domain}`);
    const session = (await sessionCookie(context))!.value;
    expect(await sessionsStatus(session)).toBe(200);
    // One session, the browser's: the passphrase step opened none.
    expect((await h.hearth.sessions.list(h.instance)).map((s) => s.id)).toEqual([session.split('.')[0]]);
  });

  it('turns two factors off with the passphrase, derived in the page', async () => {
    await openFromHome();
    expect(await text('#sessions-count')).toBe('Only this session is open.');
    const field = twoFactorPassphrase();
    const error = page.locator('#tf-off-error');
    await page.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    await error.filter({ hasText: 'Type your passphrase.' }).waitFor();
    expect(await focused()).toBe('tf-pass');

    await field.fill('not the passphrase');
    await page.keyboard.press('Enter');
    await error.filter({ hasText: 'Wrong passphrase' }).waitFor();
    expect(await error.textContent()).toBe('Wrong passphrase. Failed attempts count towards the lock-out of logins.');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    expect((await store().twoFactor(h.instance)).authMode).toBe('two_factor_totp');
    await screenshot(page, 'security-totp-off-wrong');

    await field.fill(OLD);
    const sent = page.waitForRequest((r) => r.method() === 'DELETE' && r.url() === `${h.url}/settings/twofactor`);
    await page.keyboard.press('Enter');
    const req = await sent;
    expect(req.headers()['content-type']).toBe('application/json');
    expect(req.postDataJSON()).toEqual({ passphrase: await derivePassphrase(OLD, h.domain, ITER) });
    await page.locator('#tf-basic-ok').filter({ hasText: 'Two-factor authentication is off.' }).waitFor();
    expect(await text('#tf-mode')).toBe('Off');
    expect(await page.getByRole('button', { name: 'Set up an authenticator app' }).isVisible()).toBe(true);
    expect(await focused()).toBe('totp-start');
    const off = await store().twoFactor(h.instance);
    expect(off).toMatchObject({ authMode: 'basic', totpSecret: null, recoveryHashes: [] });
    await screenshot(page, 'security-totp-off');
  });

  it('changes the passphrase: the page refuses a short or mismatched one, the server a wrong current one', async () => {
    const current = page.getByLabel('Current passphrase');
    const fresh = page.getByLabel('New passphrase', { exact: true });
    const confirm = page.getByLabel('Confirm the new passphrase');
    const error = page.locator('#pass-error');
    const puts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'PUT') puts.push(r.postData() ?? '');
    });

    await current.fill(OLD);
    await fresh.fill('short');
    await confirm.fill('short');
    await page.keyboard.press('Enter');
    await error.filter({ hasText: 'at least 8 characters' }).waitFor();
    expect(await focused()).toBe('pass-new');

    await fresh.fill(NEW);
    await confirm.fill(`${NEW}!`);
    await page.keyboard.press('Enter');
    await error.filter({ hasText: 'differ' }).waitFor();
    expect(await error.textContent()).toBe('The two new passphrases differ.');
    expect(await confirm.getAttribute('aria-invalid')).toBe('true');
    expect(await fresh.getAttribute('aria-invalid')).toBeNull();
    expect(await focused()).toBe('pass-confirm');
    expect(puts).toEqual([]);
    await screenshot(page, 'security-pass-mismatch');

    await current.fill('not my passphrase');
    await confirm.fill(NEW);
    await page.keyboard.press('Enter');
    await error.filter({ hasText: 'Wrong passphrase' }).waitFor();
    expect(await current.getAttribute('aria-invalid')).toBe('true');
    expect(await focused()).toBe('pass-current');
    expect(puts).toHaveLength(1);

    await current.fill(OLD);
    await page.keyboard.press('Enter');
    await page.locator('#pass-ok').filter({ hasText: 'passphrase was changed' }).waitFor();
    expect(await text('#pass-ok')).toBe('Your passphrase was changed. Your other sessions were logged out.');
    expect(await error.textContent()).toBe('');
    expect(await current.inputValue()).toBe('');
    expect(await fresh.inputValue()).toBe('');
    expect(puts).toHaveLength(2);
    // Only derived values went out.
    expect(JSON.parse(puts[1]!)).toEqual({ current_passphrase: await derivePassphrase(OLD, h.domain, ITER), new_passphrase: await derivePassphrase(NEW, h.domain, ITER) });
    expect(puts.join()).not.toContain('kettle');
    const stored = (await h.hearth.registry.get(h.domain))!;
    expect(await h.hearth.registry.checkPassphrase(stored, await derivePassphrase(NEW, h.domain, ITER))).toBe(true);
    expect(await h.hearth.registry.checkPassphrase(stored, await derivePassphrase(OLD, h.domain, ITER))).toBe(false);
    await screenshot(page, 'security-pass-changed');
  });

  it('logs in with the new passphrase in a second browser; "Log out the other sessions" ends that session', async () => {
    const other = await browser.newContext({ viewport: { width: 800, height: 600 }, locale: 'en-US' });
    try {
      const page2 = await other.newPage();
      await logIn(page2, OLD);
      await page2.locator('#error').filter({ hasText: 'Wrong passphrase' }).waitFor();
      await logIn(page2, NEW);
      await page2.waitForURL(`${h.url}/`);
      const theirs = (await sessionCookie(other))!.value;
      const mine = (await sessionCookie(context))!.value;
      expect(await sessionsStatus(theirs)).toBe(200);

      // a command-line app token's session is labelled apart, not counted as a browser
      await h.hearth.appToken(h.instance, 'notes');
      await page.reload();
      expect(await text('#sessions-count')).toBe('2 sessions are open, this one included.');
      expect(await page.locator('#app-sessions').innerText()).toBe('Apart from your browsers, one session belongs to an app token made on the command line; logging out the other sessions ends it too.');
      await screenshot(page, 'security-two-sessions');
      await page.getByRole('button', { name: 'Log out the other sessions' }).click();
      await page.locator('#others-ok').filter({ hasText: 'The other sessions were logged out.' }).waitFor();
      expect(await text('#sessions-count')).toBe('Only this session is open.');
      expect(await page.locator('#app-sessions').isVisible()).toBe(false);
      expect(await sessionsStatus(theirs)).toBe(401);
      expect(await sessionsStatus(mine)).toBe(200);
      await page2.goto(`${h.url}/auth/security`);
      await page2.waitForURL(`${h.url}/auth/login?redirect=/auth/security`);
      await screenshot(page, 'security-others-logged-out');
    } finally {
      await other.close();
    }
  });

  it('speaks French on a French instance', async () => {
    await h.hearth.registry.modify(h.domain, { locale: 'fr' });
    try {
      await page.reload();
      await expect(page.title()).resolves.toBe(`Sécurité · ${h.domain}`);
      expect(await page.getByRole('heading', { name: 'Authentification à deux facteurs' }).count()).toBe(1);
      await page.getByLabel('Phrase de passe actuelle').fill(NEW);
      await page.getByLabel('Nouvelle phrase de passe', { exact: true }).fill('abc');
      await page.keyboard.press('Enter');
      await page.locator('#pass-error').filter({ hasText: 'au moins 8 caractères' }).waitFor();
      await screenshot(page, 'security-fr');
    } finally {
      await h.hearth.registry.modify(h.domain, { locale: 'en' });
    }
  });
});
