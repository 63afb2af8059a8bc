/**
 * The Accounts app in Chromium, as a person uses it: the installed fixture konnector in the list, an account added
 * through the form generated from its manifest, a run with bad credentials (live log lines, then the error explained),
 * the credentials changed (the password never prefilled, never in the page), a run that succeeds, past runs, the
 * account deleted with its trigger; in French, dark and 375 px wide by keyboard only; axe-core on every page and dialog.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
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
  [w, browser] = await Promise.all([startWithWebapps({ label: 'accounts', slugs: ['accounts'] }), launchBrowser()]);
  // the French instance: another one on the same Hearth (no second Hearth to start, the app's code stored once)
  fr = await startWithWebapps({ label: 'comptes', locale: 'fr', slugs: ['accounts'], on: w });
  // the French instance gets it in its test, after its empty list is seen
  pkgs = [await installDemoKonnector(w)];
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all(pkgs.map((p) => p.close()));
  await fr?.close();
  await w?.close();
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
      await screenshot(page, 'accounts-failed-en-light-1280');

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
      expect(await runs.nth(0).textContent()).toContain('Succeeded');
      expect(await runs.nth(1).textContent()).toContain('Failed');
      expect(await runs.nth(1).textContent()).toContain('The service refused the login.');
      expect(await runs.nth(1).textContent()).toContain('Error code: LOGIN_FAILED');
      // a past run shows what the connector said (the stack kept its lines)
      await runs.nth(1).getByText('What the connector said').click();
      await runs.nth(1).getByRole('log').getByText('Connecting as alice@example.org').waitFor({ timeout: T });
      await runs.nth(0).getByText('What the connector said').click();
      await runs.nth(0).getByRole('log').getByText('Saved 3 bills').waitFor({ timeout: T });
      await expectAccessible(page, 'the logs of past runs');
      await expectAccessible(page, 'an account with its past runs');
      await screenshot(page, 'accounts-runs-en-light-1280');

      // delete: a confirmation, then the account and its trigger are gone
      await card.getByRole('button', { name: 'Delete' }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete the account alice@example.org?' });
      await confirm.waitFor();
      await expectAccessible(page, 'the delete confirmation');
      await confirm.getByRole('button', { name: 'Delete the account' }).click();
      await page.getByText('Account alice@example.org deleted.').waitFor({ timeout: T });
      await page.getByText('No account yet').waitFor();
      expect(await storedAccounts(w)).toEqual([]);
      // the stack removes the trigger of a deleted account (cozy-stack's account hook)
      await until(async () => (await konnectorTriggers(w)).length === 0, T);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 240_000);

  it('in French, dark, 375 px wide, by keyboard only: no connector yet, then adds an account, runs it, reads its runs, deletes it', async () => {
    const { context, page, errors } = await openApp(browser, fr, 'accounts', { colorScheme: 'dark', viewport: { width: 375, height: 740 }, locale: 'fr-FR' });
    const tabTo = async (name: string | RegExp) => {
      for (let i = 0; i < 30; i++) {
        await page.keyboard.press('Tab');
        const text = (await page.evaluate('(document.activeElement?.getAttribute("aria-label") || document.activeElement?.textContent || "").trim()')) as string;
        if (typeof name === 'string' ? text === name : name.test(text)) return;
      }
      throw new Error(`no focusable element named ${String(name)}`);
    };
    try {
      // no konnector yet: the way to the Store; the konnector installed meanwhile appears (realtime io.cozy.konnectors)
      await page.getByText('Aucun connecteur installé').waitFor({ timeout: T });
      await page.getByRole('link', { name: 'Trouver des connecteurs dans le Store' }).first().waitFor();
      await expectAccessible(page, 'no connector, French, dark, 375 px');
      pkgs.push(await installDemoKonnector(fr));
      await page.getByRole('link', { name: /Demo Energy \(tests\)/ }).waitFor({ timeout: T });
      // Home's links arrive at #/konnector/<slug>
      await page.goto(fr.appUrl('accounts', `#/konnector/${DEMO_SLUG}`));
      await page.getByRole('heading', { level: 1, name: 'Demo Energy (tests)' }).waitFor({ timeout: T });
      await page.getByText("Vos factures d'énergie (un connecteur de test)").waitFor();
      await page.getByText('Aucun compte', { exact: true }).waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
      await expectAccessible(page, 'a connector, French, dark, 375 px');
      await screenshot(page, 'accounts-konnector-fr-dark-375');

      await tabTo('Ajouter un compte');
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Ajouter un compte Demo Energy (tests)' });
      await dialog.waitFor();
      // the konnector's own French label for its login field
      await dialog.getByLabel('Numéro client').waitFor();
      await expectAccessible(page, 'the add-account dialog, French, dark');
      await screenshot(page, 'accounts-add-fr-dark-375');
      await tabTo('');
      expect(await page.evaluate('document.activeElement?.name')).toBe('login');
      await page.keyboard.type('bob-42');
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement?.name')).toBe('password');
      await page.keyboard.type(GOOD_PASSWORD);
      await page.keyboard.press('Enter');
      await dialog.waitFor({ state: 'detached', timeout: T });
      const card = page.locator('li.account', { has: page.getByRole('heading', { name: 'bob-42' }) });
      await card.getByRole('log').getByText('Saved 3 bills').waitFor({ timeout: T });
      await card.getByText('Terminé : vos documents sont à jour.').waitFor({ timeout: T });
      await card.getByText('À jour').first().waitFor();
      await expectNotInPage(page, [GOOD_PASSWORD]);
      await expectAccessible(page, 'an account after its run, French, dark');
      await screenshot(page, 'accounts-run-fr-dark-375');

      // the past runs open from the keyboard; Escape closes a dialog
      await tabTo('Exécutions passées');
      await page.keyboard.press('Enter');
      await until(async () => (await card.locator('ul.runs > li').count()) === 1, T);
      expect(await card.locator('ul.runs > li').textContent()).toMatch(/Réussie.*durée/);
      await page.keyboard.press('Shift+Tab');
      await tabTo('Modifier les identifiants');
      await page.keyboard.press('Enter');
      const edit = page.getByRole('dialog', { name: 'Modifier les identifiants Demo Energy (tests)' });
      await edit.getByText('Laissez vide pour garder l’actuel.').waitFor();
      expect(await edit.getByLabel('Mot de passe').inputValue()).toBe('');
      await expectAccessible(page, 'the change-credentials dialog, French, dark');
      await page.keyboard.press('Escape');
      await edit.waitFor({ state: 'detached' });
      // the focus is back on the button that opened it (the shared Dialog gives it back in the task after it closes)
      await page.waitForFunction("document.activeElement?.textContent?.trim() === 'Modifier les identifiants'", undefined, { timeout: 10_000 })
        .catch(() => undefined);
      expect(await page.evaluate('document.activeElement?.textContent?.trim()')).toBe('Modifier les identifiants');

      await tabTo('Supprimer');
      await page.keyboard.press('Enter');
      const confirm = page.getByRole('dialog', { name: 'Supprimer le compte bob-42 ?' });
      await confirm.waitFor();
      await expectAccessible(page, 'the delete confirmation, French, dark');
      await tabTo('Supprimer le compte');
      await page.keyboard.press('Enter');
      await page.getByText('Compte bob-42 supprimé.').waitFor({ timeout: T });
      expect(await storedAccounts(fr)).toEqual([]);
      await until(async () => (await konnectorTriggers(fr)).length === 0, T);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 240_000);

  it('says what happened and what to do when a run cannot start, when the service is down, and when a connector is not installed', async () => {
    // an account and its trigger made elsewhere (as cozy-harvest would), whose trigger then disappears
    const cli = await w.token('io.cozy.accounts io.cozy.triggers:ALL:konnector:worker');
    const created = await w.api('POST', '/data/io.cozy.accounts/', cli, { account_type: DEMO_SLUG, auth: { login: 'carol', password: 'carol-secret-99' } });
    expect(created.status).toBe(201);
    const trigger = await w.api('POST', '/jobs/triggers', cli, { data: { attributes: { type: '@cron', arguments: '0 0 3 * * *', worker: 'konnector', message: { account: created.body.id, konnector: DEMO_SLUG } } } }, { 'content-type': 'application/vnd.api+json' });
    expect(trigger.status).toBe(201);
    const { context, page, errors } = await openApp(browser, w, 'accounts');
    try {
      await page.goto(w.appUrl('accounts', `#/konnector/${DEMO_SLUG}`));
      const card = page.locator('li.account', { has: page.getByRole('heading', { name: 'carol' }) });
      await card.waitFor({ timeout: T });
      await card.getByText('Never run yet').waitFor();
      await expectNotInPage(page, ['carol-secret-99']);
      expect(await w.api('DELETE', `/jobs/triggers/${trigger.body.data.id}`, cli)).toMatchObject({ status: 204 });
      await card.getByRole('button', { name: 'Run now' }).click();
      await card.getByRole('alert').getByText(/It no longer exists/).waitFor({ timeout: T });
      await card.getByText('It may have been moved or deleted: refresh the list.').waitFor();
      await expectAccessible(page, 'a run that could not start');

      // a service that does not answer: not the person's fault, try later (one try, no automatic retry to wait for)
      // (its trigger first, so that the account, once it appears, has its schedule)
      const downTrigger = await w.api('POST', '/jobs/triggers', cli, { data: { attributes: { type: '@cron', arguments: '0 0 3 * * *', worker: 'konnector', message: { account: 'acc-down', konnector: DEMO_SLUG }, options: { max_exec_count: 1 } } } }, { 'content-type': 'application/vnd.api+json' });
      expect(downTrigger.status).toBe(201);
      const down = await w.api('PUT', '/data/io.cozy.accounts/acc-down', cli, { account_type: DEMO_SLUG, auth: { login: 'vendor-down', password: 'x' } });
      expect(down.status).toBe(200);
      // added elsewhere: it appears without a reload (the realtime on io.cozy.accounts)
      const downCard = page.locator('li.account', { has: page.getByRole('heading', { name: 'vendor-down' }) });
      await downCard.getByRole('button', { name: 'Run now' }).waitFor({ timeout: T });
      await downCard.getByRole('button', { name: 'Run now' }).click();
      await downCard.getByText('The service is not answering.').waitFor({ timeout: T });
      await downCard.getByText('It is not your fault: try again later.').waitFor();
      await w.api('DELETE', `/data/io.cozy.accounts/acc-down?rev=${down.body.rev}`, cli);

      // a link to a connector that is not installed (Home's links arrive at #/konnector/<slug>)
      await page.goto(w.appUrl('accounts', '#/konnector/not-there'));
      await page.getByText('The connector “not-there” is not installed').waitFor({ timeout: T });
      await page.getByRole('link', { name: 'Find connectors in the Store' }).waitFor();
      await expectAccessible(page, 'a connector that is not installed');
      await page.getByRole('link', { name: 'Back to the list' }).click();
      await page.getByRole('heading', { level: 1, name: 'Your connectors' }).waitFor();
      await screenshot(page, 'accounts-list-en-light-1280');
      expect(errors).toEqual([]);
      await w.api('DELETE', `/data/io.cozy.accounts/${created.body.id}?rev=${created.body.rev}`, cli);
    } finally {
      await context.close();
    }
  }, 240_000);

  it("holds only its manifest's rights: no other worker's triggers or jobs, no files", async () => {
    const { context, page } = await openApp(browser, w, 'accounts');
    try {
      await page.locator('header.appbar').waitFor({ timeout: T });
      const token = JSON.parse((await page.getAttribute('[data-cozy]', 'data-cozy')) ?? '{}').token as string;
      // the page's app token is bound to the owner's session: it goes with the session cookie
      const cookie = (await context.cookies(w.appUrl('accounts'))).map((c) => `${c.name}=${c.value}`).join('; ');
      const api = (method: string, path: string, body?: unknown) => w.api(method, path, token, body, body === undefined ? { cookie } : { cookie, 'content-type': 'application/vnd.api+json' });
      const mail = { data: { attributes: { type: '@cron', arguments: '0 0 3 * * *', worker: 'sendmail', message: { mode: 'noreply' } } } };
      const refused = await api('POST', '/jobs/triggers', mail);
      expect(refused.status, refused.text).toBe(403);
      expect((await api('POST', '/jobs/queue/konnector', { data: { attributes: { arguments: { konnector: DEMO_SLUG } } } })).status).toBe(403);
      expect((await api('GET', '/data/io.cozy.files/_all_docs')).status).toBe(403);
      expect((await api('DELETE', `/konnectors/${DEMO_SLUG}`)).status).toBe(403);
      // a konnector trigger it may read and launch, but not delete (the stack does that with the account)
      const cli = await w.token('io.cozy.triggers:ALL:konnector:worker');
      const made = await w.api('POST', '/jobs/triggers', cli, { data: { attributes: { type: '@cron', arguments: '0 0 3 * * *', worker: 'konnector', message: { konnector: DEMO_SLUG } } } }, { 'content-type': 'application/vnd.api+json' });
      expect(made.status).toBe(201);
      expect((await api('DELETE', `/jobs/triggers/${made.body.data.id}`)).status).toBe(403);
      expect((await api('GET', `/jobs/triggers/${made.body.data.id}`)).status).toBe(200);
      expect((await w.api('DELETE', `/jobs/triggers/${made.body.data.id}`, cli)).status).toBe(204);
      // the konnector trigger route makes a konnector trigger: its manifest's worker selector allows it, as in cozy-stack
      const viaRoute = await api('POST', `/konnectors/${DEMO_SLUG}/trigger`);
      expect(viaRoute.status, viaRoute.text).toBe(201);
      expect(viaRoute.body.data.attributes.worker).toBe('konnector');
      expect((await w.api('DELETE', `/jobs/triggers/${viaRoute.body.data.id}`, cli)).status).toBe(204);
      // what it does need answers
      const granted = await api('GET', '/konnectors/');
      expect(granted.status, granted.text).toBe(200);
      expect((await api('GET', '/jobs/triggers?Worker=konnector')).status).toBe(200);
    } finally {
      await context.close();
    }
  }, 120_000);
});
