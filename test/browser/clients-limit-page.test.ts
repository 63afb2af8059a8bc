/**
 * The clients-limit page in Chromium: 360 px wide without horizontal scrolling, axe-core clean, the keyboard alone
 * disconnects a device (Tab to its button, Enter) and the owner goes on to the app once under the limit; French by the
 * instance locale.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { ownerCookie } from '../helpers/apps.js';
import { DEFAULTS } from '../../src/config/schema.js';

let h: TestHearth;
let browser: Browser;

beforeAll(async () => {
  [h, browser] = await Promise.all([startTestHearth({ settings: { ...DEFAULTS.settings, flags: '{"cozy.oauthclients.max":1}' } }), launchBrowser()]);
  for (const [name, kind] of [['Work laptop', 'desktop'], ['Phone', 'mobile']]) {
    const res = await h.req('POST', '/auth/register', { body: { redirect_uris: ['http://localhost/cb'], client_name: name, software_id: 'github.com/x/y', client_kind: kind }, headers: { accept: 'application/json' } });
    expect(res.status).toBe(201);
  }
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('the clients-limit page in Chromium', () => {
  it('fits 360 px, is accessible, and disconnects a device with the keyboard alone, then goes on', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'en-US' });
    const [name, value] = (await ownerCookie(h, h.instance)).cookie.split('=') as [string, string];
    await context.addCookies([{ name, value, domain: 'localhost', path: '/' }]);
    const page = await context.newPage();
    try {
      const back = `http://${h.domain}/settings/clients-usage`;
      const res = await page.goto(`http://${h.domain}/settings/clients/limit-exceeded?redirect=${encodeURIComponent(back)}`);
      expect(res?.status()).toBe(200);
      await page.getByRole('heading', { name: 'Too many connected devices' }).waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth > document.documentElement.clientWidth')).toBe(false);
      await expectAccessible(page, 'the clients-limit page');
      await screenshot(page, 'clients-limit-360');
      expect(await page.getByRole('button', { name: /^Disconnect / }).count()).toBe(2);
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement && document.activeElement.getAttribute("aria-label")')).toBe('Disconnect Phone');
      await Promise.all([page.waitForURL(back), page.keyboard.press('Enter')]);
      const left = await h.req('GET', '/settings/clients', { token: await h.cliToken('io.cozy.oauth.clients') });
      expect(left.body.data.map((c: { attributes: { client_name: string } }) => c.attributes.client_name)).toEqual(['Work laptop']);
    } finally {
      await context.close();
    }
  });

  it('speaks French on a French instance', async () => {
    await h.req('POST', '/auth/register', { body: { redirect_uris: ['http://localhost/cb'], client_name: 'Tablette', software_id: 'github.com/x/y', client_kind: 'mobile' }, headers: { accept: 'application/json' } });
    h.instance = await h.hearth.registry.modify(h.domain, { locale: 'fr' });
    const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'fr-FR' });
    const [name, value] = (await ownerCookie(h, h.instance)).cookie.split('=') as [string, string];
    await context.addCookies([{ name, value, domain: 'localhost', path: '/' }]);
    const page = await context.newPage();
    try {
      await page.goto(`http://${h.domain}/settings/clients/limit-exceeded`);
      await page.getByRole('heading', { name: 'Trop d\'appareils connectés' }).waitFor();
      expect(await page.evaluate('document.documentElement.lang')).toBe('fr');
      expect(await page.getByRole('button', { name: 'Déconnecter Tablette' }).count()).toBe(1);
    } finally {
      await context.close();
    }
  });
});
