/**
 * The Store in Chromium when a registry of the catalogue fails: a real HTTP registry answering 500, then one that no
 * longer listens. The stack lists the other registries' apps and says one was unreachable; the page says the catalogue
 * is partial and what to do, in words (no raw JSON), with a Try again that lists the apps once the registry is back;
 * axe-core on the notice.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { startFixtureRegistry, type FixtureRegistry } from '../helpers/app-registry.js';
import { openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';

let w: WebappsHearth;
let browser: Browser;
let far: FixtureRegistry;
beforeAll(async () => {
  far = await startFixtureRegistry([{ slug: 'faraway', type: 'webapp', editor: 'Far away', versions: { '1.0.0': '2024-01-01T00:00:00Z' } }]);
  [w, browser] = await Promise.all([
    startWithWebapps({ label: 'storecat', slugs: ['store'], config: { apps: { registries: far.url, registryRetrySeconds: 2 } as never } }),
    launchBrowser(),
  ]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
  await far?.close().catch(() => undefined);
});

/** The Store logged in, on its catalogue. */
async function openCatalogue(): ReturnType<typeof openApp> {
  const opened = await openApp(browser, w, 'store');
  await opened.page.locator('header.appbar').waitFor({ timeout: 30_000 });
  return opened;
}

const NOTICE = 'Some app registries could not be reached: their apps are missing from this list.';

/** The notice of a partial catalogue: in words (no JSON), with the apps of the built-in registry still listed, accessible. */
async function partialNotice(page: Page): Promise<void> {
  const alert = page.getByRole('alert').filter({ hasText: NOTICE });
  await alert.waitFor({ timeout: 60_000 });
  expect(await alert.textContent()).not.toMatch(/[{}]|broken|"message"|500/);
  await page.locator('.app-grid .app-card strong', { hasText: 'Drive' }).waitFor();
  expect(await page.locator('.app-grid .app-card strong', { hasText: 'faraway' }).count()).toBe(0);
  await expectAccessible(page, 'the catalogue with a registry missing');
}

describe('the Store with a failing registry', () => {
  it('says the catalogue is partial while a registry answers 500, and lists its apps after Try again once it is back', async () => {
    far.mode = 'fail';
    const { context, page, errors } = await openCatalogue();
    try {
      await partialNotice(page);
      far.mode = 'ok';
      // the stack does not ask a failed registry again for apps.registryRetrySeconds (2 s here): Try again until it does
      const listed = page.locator('.app-grid .app-card strong', { hasText: 'faraway' });
      for (let i = 0; i < 30 && (await listed.count()) === 0; i++) {
        const retry = page.getByRole('button', { name: 'Try again' });
        if ((await retry.count()) === 0) break;
        await retry.click();
        await listed.waitFor({ timeout: 5_000 }).catch(() => undefined);
      }
      await listed.waitFor().catch(async (e: unknown) => { throw new Error(`${String(e)}\n${await page.locator('body').innerText()}`); });
      expect(await page.getByText(NOTICE).count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      far.mode = 'ok';
      await context.close();
    }
  }, 240_000);

  it('says so for a registry that no longer answers at all (its server closed)', async () => {
    await far.close();
    const { context, page, errors } = await openCatalogue();
    try {
      await partialNotice(page);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
