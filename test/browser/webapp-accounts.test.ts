/**
 * The Accounts app in Chromium, as a person uses it: the installed fixture konnector in the list, an account added
 * through the form generated from its manifest, a run with bad credentials (live log lines, then the error explained),
 * the credentials changed (the password never prefilled, never in the page), a run that succeeds, past runs, the
 * account deleted with its trigger; in French, dark and 375 px wide by keyboard only; axe-core on every page and dialog.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { until } from '../helpers/jobs.js';
import type { PackageServer } from '../helpers/app-packages.js';
import { openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { DEMO_SLUG, GOOD_PASSWORD, installDemoKonnector, konnectorTriggers, storedAccounts } from '../helpers/webapps-accounts.js';

const BAD_PASSWORD = 'wrong-secret-417';
const T = 60_000;
let w: WebappsHearth;
let fr: WebappsHearth;
let browser: Browser;
let pkgs: PackageServer[] = [];

beforeAll(async () => {
  [w, fr, browser] = await Promise.all([
    startWithWebapps({ label: 'accounts', slugs: ['accounts'] }),
    startWithWebapps({ label: 'comptes', locale: 'fr', slugs: ['accounts'] }),
    launchBrowser(),
  ]);
  pkgs = await Promise.all([installDemoKonnector(w), installDemoKonnector(fr)]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all(pkgs.map((p) => p.close()));
  await w?.close();
  await fr?.close();
});

/** The page's HTML holds none of these strings (what a person typed as a secret, once saved). */
async function expectNotInPage(page: Page, secrets: string[]): Promise<void> {
  const html = await page.content();
  for (const s of secrets) expect(html).not.toContain(s);
  const values = await page.evaluate('Array.from(document.querySelectorAll("input")).map((i) => i.value)') as string[];
  for (const s of secrets) expect(values).not.toContain(s);
}

describe('Accounts', () => {
  it('adds an account from the generated form, runs it with bad then good credentials, shows the runs, deletes it', async () => {
    const { context, page, errors } = await openApp(browser, w, 'accounts');
    try {
      // the list: the konnector, no account yet
      const link = page.getByRole('link', { name: /Demo Energy \(tests\)/ });
      await link.waitFor({ timeout: T });
      await expect(link.textContent()).resolves.toContain('No account yet');
      await expectAccessible(page, 'the list of connectors');
      await link.click();
      await page.getByRole('heading', { level: 1, name: 'Demo Energy (tests)' }).waitFor();
      await page.getByText('No account yet').waitFor();
      await expectAccessible(page, 'a connector without accounts');

      // the form: generated from the manifest's fields; empty fields are refused with a message each
      await page.getByRole('button', { name: 'Add an account' }).click();
      const dialog = page.getByRole('dialog', { name: 'Add a Demo Energy (tests) account' });
      await dialog.waitFor();
      await expectAccessible(page, 'the add-account dialog');
      await dialog.getByRole('button', { name: 'Add and run' }).click();
      await dialog.getByText('Login is required.').waitFor();
      await dialog.getByText('Password is required.').waitFor();
      expect(await dialog.getByLabel('Login').getAttribute('aria-invalid')).toBe('true');
      expect(await page.evaluate('document.activeElement?.name')).toBe('login');
      // the advanced field (a dropdown with its options) is behind a toggle
      expect(await dialog.getByLabel('Region').count()).toBe(0);
      await dialog.getByRole('button', { name: 'Show advanced settings' }).click();
      await dialog.getByLabel('Region').selectOption('south');
      await dialog.getByLabel('Login').fill('alice@example.org');
      await dialog.getByLabel('Password').fill(BAD_PASSWORD);
      await dialog.getByRole('button', { name: 'Add and run' }).click();
      await dialog.waitFor({ state: 'detached', timeout: T });

      // the account, its trigger (the konnector's daily crontab within its time interval) and a first run
      const card = page.locator('li.account', { has: page.getByRole('heading', { name: 'alice@example.org' }) });
      await card.waitFor();
      const log = card.getByRole('log');
      await log.getByText('Connecting as alice@example.org').waitFor({ timeout: T });
      await card.getByText('The service refused the login.').waitFor({ timeout: T });
      await card.getByText('Check your credentials (Change credentials), then run it again.').first().waitFor();
      expect(await log.textContent()).toContain('LOGIN_FAILED');
      const [account] = await storedAccounts(w);
      expect(account?.account_type).toBe(DEMO_SLUG);
      expect(account?.auth?.login).toBe('alice@example.org');
      expect(account?.auth?.region).toBe('south');
      expect(account?.auth?.password).toBeUndefined();
      expect(typeof account?.auth?.credentials_encrypted).toBe('string');
      const triggers = await konnectorTriggers(w);
      expect(triggers.map((t) => t.attributes.message)).toEqual([{ account: account!._id, konnector: DEMO_SLUG }]);
      expect(triggers[0]!.attributes.type).toBe('@cron');
      expect(triggers[0]!.attributes.arguments).toMatch(/^0 \d{1,2} [123] \* \* \*$/);
      await expectNotInPage(page, [BAD_PASSWORD]);
      await expectAccessible(page, 'an account whose run failed');

      // change the credentials: the password is not prefilled; the login is
      await card.getByRole('button', { name: 'Change credentials' }).click();
      const edit = page.getByRole('dialog', { name: 'Change the Demo Energy (tests) credentials' });
      await edit.waitFor();
      expect(await edit.getByLabel('Login').inputValue()).toBe('alice@example.org');
      expect(await edit.getByLabel('Password').inputValue()).toBe('');
      await edit.getByText('Leave empty to keep the current one.').waitFor();
      await expectNotInPage(page, [BAD_PASSWORD]);
      await expectAccessible(page, 'the change-credentials dialog');
      await edit.getByLabel('Password').fill(GOOD_PASSWORD);
      await edit.getByRole('button', { name: 'Save' }).click();
      await edit.waitFor({ state: 'detached', timeout: T });
      await page.getByText('The credentials are saved.').waitFor();
      const [changed] = await storedAccounts(w);
      expect(changed?.auth?.password).toBeUndefined();
      expect(changed?.auth?.credentials_encrypted).not.toBe(account?.auth?.credentials_encrypted);
      expect(changed?.auth?.region).toBe('south');

      // run now: live lines, then success
      await card.getByRole('button', { name: 'Run now' }).click();
      await card.getByRole('log').getByText('Saved 3 bills').waitFor({ timeout: T });
      await card.getByText('Finished: your documents are up to date.').waitFor({ timeout: T });
      await expectNotInPage(page, [BAD_PASSWORD, GOOD_PASSWORD]);

      // past runs: the success and the failure explained
      await card.getByText('Past runs').click();
      const runs = card.locator('ul.runs > li');
      await until(async () => (await runs.count()) === 2, T);
      expect(await runs.nth(0).textContent()).toContain('Up to date');
      expect(await runs.nth(1).textContent()).toContain('The service refused the login.');
      expect(await runs.nth(1).textContent()).toContain('Error code: LOGIN_FAILED');
      await expectAccessible(page, 'an account with its past runs');

      // delete: a confirmation, then the account and its trigger are gone
      await card.getByRole('button', { name: 'Delete' }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete the account alice@example.org?' });
      await confirm.waitFor();
      await expectAccessible(page, 'the delete confirmation');
      await confirm.getByRole('button', { name: 'Delete the account' }).click();
      await page.getByText('Account alice@example.org deleted.').waitFor({ timeout: T });
      await page.getByText('No account yet').waitFor();
      expect(await storedAccounts(w)).toEqual([]);
      expect(await konnectorTriggers(w)).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 240_000);
});
