/**
 * The Settings app in Chromium, for what goes beyond the page: the change of e-mail address confirmed by the link
 * mailed to the new address (read from a real SMTP server) and listed in the security events, and Home's wallpaper following a change made in Settings
 * in another tab, without a reload. Keyboard only where a person would use it, axe-core on each state.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { OWNER_PASSPHRASE, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { openSection } from '../helpers/webapps-settings.js';
import { png } from '../helpers/images.js';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js';

let w: WebappsHearth;
let browser: Browser;
let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startTestSmtp();
  [w, browser] = await Promise.all([startWithWebapps({ label: 'live', slugs: ['settings', 'home'], config: { mail: smtp.config } }), launchBrowser()]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
  await smtp?.close();
});

describe('Settings, live', () => {
  it('changes the e-mail address: a typo and a wrong passphrase are said at their field, then the mailed link confirms it', async () => {
    const { context, page, errors } = await openSection(browser, w, '#/profile');
    try {
      const card = page.getByRole('region', { name: 'E-mail address' });
      await card.getByText('No address is set yet.').waitFor();
      await card.getByRole('button', { name: 'Change the e-mail address' }).focus();
      await page.keyboard.press('Enter');
      const address = card.getByLabel('New e-mail address');
      await expect.poll(() => page.evaluate('document.activeElement && document.activeElement.id')).toBe('email-address');
      await page.keyboard.type('alice@example');
      await page.keyboard.press('Tab');
      await page.keyboard.type(OWNER_PASSPHRASE);
      await page.keyboard.press('Enter');
      await card.getByText('Type a full address, such as alice@example.org.').waitFor();
      expect(await address.getAttribute('aria-invalid')).toBe('true');
      await address.fill('alice@example.org');
      await card.getByLabel('Current passphrase').fill('not the passphrase');
      await page.keyboard.press('Enter');
      await card.getByText('The current passphrase is wrong: type it again.').waitFor();
      await expectAccessible(page, 'the e-mail form with a wrong passphrase');
      await card.getByLabel('Current passphrase').fill(OWNER_PASSPHRASE);
      await page.keyboard.press('Enter');
      await page.getByText('A link was mailed to alice@example.org: open it to confirm the new address.').waitFor();
      await card.getByText(/Waiting for confirmation: open the link mailed to alice@example.org/).waitFor();
      await card.getByText('No address is set yet.').waitFor(); // not changed before the link is opened
      await expectAccessible(page, 'the e-mail change waiting for its confirmation');

      await expect.poll(() => smtp.received.filter((m) => m.to.includes('alice@example.org')).length, { timeout: 30_000 }).toBe(1);
      const text = smtp.received.find((m) => m.to.includes('alice@example.org'))?.mail.text ?? '';
      const link = /https?:\/\/\S+\/settings\/email\/confirm\?token=[0-9a-f]+/.exec(text)?.[0];
      expect(link).toBeDefined();
      await page.goto(link as string); // the owner's browser, logged in: back to Settings
      await page.getByRole('region', { name: 'E-mail address' }).getByText('Your address: alice@example.org').waitFor();
      expect(await page.getByText(/Waiting for confirmation/).count()).toBe(0);
      expect((await w.api('GET', '/settings/instance', await w.token('io.cozy.settings'))).body.data.attributes.email).toBe('alice@example.org');

      // both steps are security events, the addresses masked
      await page.getByRole('link', { name: 'Security events' }).click();
      const items = page.getByRole('list', { name: 'Security events' }).getByRole('listitem');
      await items.first().waitFor();
      expect(await items.nth(0).textContent()).toContain('E-mail address changedNew address: a***@example.org');
      expect(await items.nth(1).textContent()).toContain('E-mail address change asked forNew address: a***@example.org');
      expect(await page.locator('ol.events').textContent()).not.toContain('alice@');
      await expectAccessible(page, 'the security events with the e-mail change');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the wallpaper chosen in Settings on Home, open in another tab, without a reload; and the default one once it is removed', async () => {
    const { context, page, errors } = await openSection(browser, w, '#/appearance');
    try {
      const home = await context.newPage();
      home.on('pageerror', (e) => errors.push(e.message));
      await home.goto(w.appUrl('home'));
      await home.locator('.hero').waitFor();
      const heroWallpaper = () => home.evaluate('getComputedStyle(document.querySelector(".hero")).getPropertyValue("--wallpaper")') as Promise<string>;
      await expect.poll(heroWallpaper, { timeout: 30_000 }).toContain('default-wallpaper');
      await home.evaluate('window.notReloaded = true');

      const card = page.getByRole('region', { name: 'Wallpaper' });
      await card.locator('input[type=file]').setInputFiles({ name: 'hills.png', mimeType: 'image/png', buffer: await png(320, 180) });
      await page.getByText('Wallpaper saved: Home shows it.').waitFor();
      await expect.poll(heroWallpaper, { timeout: 30_000 }).toContain('blob:');
      expect(await home.evaluate(`new Promise((resolve) => { const i = new Image(); i.onload = () => resolve([i.naturalWidth, i.naturalHeight]); i.onerror = () => resolve(null);
        i.src = getComputedStyle(document.querySelector(".hero")).getPropertyValue("--wallpaper").match(/url\\("?([^")]+)/)[1]; })`)).toEqual([320, 180]);

      await card.getByRole('button', { name: 'Back to the default' }).click();
      await page.getByText('Home shows the default wallpaper again.').waitFor();
      await expect.poll(heroWallpaper, { timeout: 30_000 }).toContain('default-wallpaper');
      expect(await heroWallpaper()).not.toContain('blob:');
      expect(await home.evaluate('window.notReloaded')).toBe(true);
      await expectAccessible(home, 'home after the wallpaper changed');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
