/**
 * The Settings app in Chromium, as a person uses it: profile and language, theme, sessions, connected devices, app
 * passwords used over WebDAV, storage, notification preferences, two-factor set-up and the passphrase change (last: it
 * changes how every later context logs in), with axe-core on every section and dialog.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';

let w: WebappsHearth;
let browser: Browser;
beforeAll(async () => {
  [w, browser] = await Promise.all([startWithWebapps({ label: 'settings', slugs: ['settings', 'home'] }), launchBrowser()]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
});

const settingsToken = () => w.token('io.cozy.settings');

describe('Settings', () => {
  it('changes the public name, the time zone and the language: the page switches to French without a reload', async () => {
    const { context, page, errors } = await openApp(browser, w, 'settings', { path: '#/profile' });
    try {
      await page.getByLabel('Public name').fill('Alice Liddell');
      await page.getByLabel('Time zone').fill('Europe/Paris');
      await page.getByLabel('Language').selectOption('fr');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('heading', { name: 'Profil', level: 1 }).waitFor();
      expect(await page.locator('html').getAttribute('lang')).toBe('fr');
      await page.getByRole('link', { name: 'Apparence' }).waitFor();
      const got = (await w.api('GET', '/settings/instance', await settingsToken())).body.data.attributes;
      expect(got).toMatchObject({ public_name: 'Alice Liddell', tz: 'Europe/Paris', locale: 'fr' });
      await expectAccessible(page, 'profile, in French');
      // back to English for the other scenarios
      await page.getByLabel('Langue').selectOption('en');
      await page.getByRole('button', { name: 'Enregistrer' }).click();
      await page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows a conflict as a message when the profile changed elsewhere', async () => {
    const { context, page } = await openApp(browser, w, 'settings', { path: '#/profile' });
    try {
      await page.getByLabel('Public name').waitFor();
      const token = await settingsToken();
      const doc = (await w.api('GET', '/settings/instance', token)).body.data;
      const put = await w.api('PUT', '/settings/instance', await w.token('io.cozy.settings'), { data: { ...doc, attributes: { public_name: 'Changed elsewhere' } } });
      expect(put.status).toBe(200);
      await page.getByLabel('Public name').fill('Mine');
      await page.getByRole('button', { name: 'Save' }).click();
      const alert = page.getByRole('alert').filter({ hasText: 'changed somewhere else' });
      await alert.waitFor();
      expect(await alert.textContent()).toContain('Refresh, then do it again.');
      expect(await alert.textContent()).not.toContain('{');
    } finally {
      await context.close();
    }
  });
});
