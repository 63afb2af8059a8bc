/**
 * The Store in Chromium, as a person uses it: browse the registries by kind and category, search, an app page with its
 * permissions in words and its screenshots, install with the stack's event stream and open the app, update to a
 * version asking one more permission (shown, then accepted), uninstall (with a warning for a built-in app), a
 * registry that fails explained, My apps; in French, dark, at 375 px and by keyboard only; axe on every page and dialog.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { startFixtureRegistry, type FixtureRegistry } from '../helpers/app-registry.js';
import { until } from '../helpers/jobs.js';
import { openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { publishIntentClient, storeRegistry, type StoreRegistry } from '../helpers/webapps-store.js';

const WEATHER = {
  slug: 'weather', type: 'webapp', name: 'Weather', editor: 'Sky Works', version: '1.0.0', categories: ['productivity'],
  short_description: 'The forecast for your places',
  long_description: 'Weather shows the **forecast**.\n\n- Hourly <b>rain</b>\n- Alerts\n\nSee [our site](https://example.org).',
  locales: { fr: { name: 'Météo', short_description: 'Les prévisions de vos lieux' } },
  screenshots: ['screenshots/1.png', 'screenshots/2.png'],
  source: 'https://example.org/weather.git', developer: { name: 'Sky Works', url: 'javascript:alert(1)' },
  permissions: {
    places: { type: 'io.cozy.contacts', verbs: ['GET', 'PUT'], description: 'To find the towns of your contacts' },
    files: { type: 'io.cozy.files', verbs: ['GET'], description: 'To read the maps you saved' },
  },
};
const TASKS = { slug: 'tasks', type: 'webapp', name: 'Tasks', editor: 'Lists Inc', version: '2.0.0', categories: ['productivity'], short_description: 'Your to-do lists',
  permissions: { todos: { type: 'io.cozy.todos', verbs: ['ALL'], description: 'Your lists' } } };
const BANK = { slug: 'bank-demo', type: 'konnector', name: 'Bank demo', editor: 'Bank', version: '1.0.0', categories: ['banking'], short_description: 'Fetches your statements',
  fields: { login: { type: 'text' }, password: { type: 'password' } }, permissions: { bills: { type: 'io.cozy.bills', description: 'Your statements' } } };

let w: WebappsHearth;
let browser: Browser;
let reg: StoreRegistry;
let flaky: FixtureRegistry;
beforeAll(async () => {
  reg = storeRegistry();
  for (const m of [WEATHER, TASKS, BANK]) await reg.publish(m);
  await publishIntentClient(reg);
  flaky = await startFixtureRegistry([{ slug: 'flaky', type: 'webapp', editor: 'Far away', versions: { '1.0.0': '2024-01-01T00:00:00Z' } }]);
  [w, browser] = await Promise.all([
    startWithWebapps({ label: 'store', slugs: ['store', 'home'], config: { apps: { registries: `${reg.url},${flaky.url}` } as never } }),
    launchBrowser(),
  ]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
  await flaky?.close();
});

const cards = (page: Page) => page.locator('.app-grid .app-card strong');
async function names(page: Page): Promise<string[]> {
  await page.locator('.app-grid').waitFor();
  return (await cards(page).allTextContents()).sort();
}
const apps = async (slug: string, kind = 'apps') => w.api('GET', `/${kind}/${slug}`, await w.token(`io.cozy.${kind}`));

/** The Store logged in, at `path` (the login's redirect drops the fragment: it is followed after). */
async function openStore(h: WebappsHearth, path: string, opts: Parameters<typeof openApp>[3] = {}): ReturnType<typeof openApp> {
  const opened = await openApp(browser, h, 'store', opts);
  await opened.page.locator('header.appbar').waitFor();
  await opened.page.goto(h.appUrl('store', path));
  return opened;
}

/** Presses Tab until the focused element matches `selector` (at most 60 times): a keyboard-only way there. */
async function tabTo(page: Page, selector: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if (await page.evaluate(`document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${selector}`);
}

describe('the Store', () => {
  it('browses by kind and category, and searches by name and description', async () => {
    const { context, page, errors } = await openStore(w, '#/discover');
    try {
      expect(await names(page)).toEqual(expect.arrayContaining(['Weather', 'Tasks', 'Bank demo', 'Store']));
      await expectAccessible(page, 'the catalogue');
      await page.getByRole('link', { name: 'Productivity' }).click();
      await until(async () => JSON.stringify(await names(page)) === JSON.stringify(['Tasks', 'Weather']), 20_000);
      expect(page.url()).toContain('category=productivity');
      await page.getByRole('link', { name: 'Connectors' }).click();
      await until(async () => JSON.stringify(await names(page)) === JSON.stringify(['Bank demo']), 20_000);
      await page.getByRole('link', { name: 'All', exact: true }).click();
      await page.getByRole('searchbox').fill('forecast');
      await until(async () => JSON.stringify(await names(page)) === JSON.stringify(['Weather']), 20_000);
      await page.getByRole('searchbox').fill('no such thing anywhere');
      await page.getByText('No app matches.').waitFor();
      await expectAccessible(page, 'an empty search');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('shows an app page with its permissions in words, installs it with the event stream, and opens it', async () => {
    const { context, page, errors } = await openStore(w, '#/discover');
    try {
      await page.locator('.app-card', { hasText: 'Weather' }).click();
      await page.getByRole('heading', { level: 1, name: 'Weather' }).waitFor();
      await until(async () => (await page.title()) === 'Weather · Store', 5_000);
      const perms = await page.locator('.perms .perm-text').allTextContents();
      expect(perms).toEqual(['Read and change your contacts', 'Read your files']);
      await page.getByText('To find the towns of your contacts').waitFor();
      // the description is text: the <b> is shown, not rendered; the list is a list; the javascript: link is not shown
      expect(await page.locator('.description li').allTextContents()).toEqual(['Hourly <b>rain</b>', 'Alerts']);
      expect(await page.locator('.description b').count()).toBe(0);
      expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
      await page.getByText('1.0.0 (stable channel)').waitFor();
      const shot = page.getByRole('img', { name: 'Screenshot 1 of 2 of Weather' });
      await until(async () => (await shot.evaluate((i: unknown) => (i as { naturalWidth: number }).naturalWidth)) === 640, 20_000);
      await expectAccessible(page, 'an app page');

      await page.getByRole('button', { name: 'Install' }).click();
      const dialog = page.getByRole('dialog', { name: 'Install Weather' });
      await dialog.getByText('Read and change your contacts').waitFor();
      await expectAccessible(page, 'the install dialog');
      const stream = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/apps/weather'));
      await dialog.getByRole('button', { name: 'Accept and install' }).click();
      expect((await stream).headers()['content-type']).toContain('text/event-stream');
      await dialog.getByText('Weather is installed.').waitFor({ timeout: 60_000 });
      expect((await apps('weather')).body.data.attributes.state).toBe('ready');
      await expectAccessible(page, 'the install dialog, done');
      await dialog.getByRole('link', { name: 'Open' }).click();
      await page.waitForURL((u) => u.host === `weather.${w.domain}`);
      await page.getByRole('heading', { name: 'Weather works' }).waitFor();
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('updates to a version asking one more permission, showing it first, and lists the update in My apps', async () => {
    if ((await apps('weather')).status !== 200) await w.api('POST', '/apps/weather', await w.token('io.cozy.apps'));
    await until(async () => (await apps('weather')).body?.data?.attributes?.state === 'ready', 60_000);
    await reg.publish({ ...WEATHER, version: '1.1.0', permissions: { ...WEATHER.permissions, agenda: { type: 'io.cozy.calendar.events', verbs: ['GET'], description: 'To plan around the rain' } } });
    const { context, page } = await openStore(w, '#/installed');
    try {
      const row = page.locator('.list li', { hasText: 'Weather' });
      await row.getByText('Update available').waitFor();
      await expectAccessible(page, 'My apps');
      await row.getByRole('link', { name: 'Details of Weather' }).click();
      await page.getByRole('button', { name: 'Update to 1.1.0' }).click();
      const dialog = page.getByRole('dialog', { name: 'Update Weather' });
      expect(await dialog.locator('.perm-text').allTextContents()).toEqual(['Read your calendar events']);
      await dialog.getByText('To plan around the rain').waitFor();
      await expectAccessible(page, 'the update dialog');
      await dialog.getByRole('button', { name: 'Accept and update' }).click();
      await dialog.getByText('Weather is up to date.').waitFor({ timeout: 60_000 });
      const doc = (await apps('weather')).body.data.attributes;
      expect(doc.version).toBe('1.1.0');
      expect(doc.available_version).toBeUndefined();
      expect(Object.keys(doc.permissions)).toContain('agenda');
      await dialog.getByRole('button', { name: 'Close' }).first().click();
      await page.getByRole('button', { name: 'Uninstall' }).waitFor();
      await until(async () => (await page.getByRole('button', { name: /Update to/ }).count()) === 0, 20_000);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('uninstalls after a confirmation, and warns before uninstalling a built-in app', async () => {
    if ((await apps('weather')).status !== 200) await w.api('POST', '/apps/weather', await w.token('io.cozy.apps'));
    await until(async () => (await apps('weather')).body?.data?.attributes?.state === 'ready', 60_000);
    const { context, page } = await openStore(w, '#/app/home');
    try {
      await page.getByRole('button', { name: 'Uninstall' }).click();
      const warn = page.getByRole('dialog', { name: /^Uninstall/ });
      await warn.getByText('This is one of Hearth\u2019s own apps.').waitFor();
      await expectAccessible(page, 'the uninstall dialog of a built-in app');
      await page.keyboard.press('Escape');
      await warn.waitFor({ state: 'detached' });
      expect((await apps('home')).status).toBe(200);

      await page.goto(w.appUrl('store', '#/app/weather'));
      await page.getByRole('button', { name: 'Uninstall' }).click();
      const dialog = page.getByRole('dialog', { name: 'Uninstall Weather?' });
      expect(await dialog.getByText('one of Hearth').count()).toBe(0);
      await dialog.getByRole('button', { name: 'Uninstall' }).click();
      await page.getByText('Weather was uninstalled.').waitFor();
      expect((await apps('weather')).status).toBe(404);
      await page.getByRole('button', { name: 'Install' }).waitFor();
    } finally {
      await context.close();
    }
  }, 120_000);

  it('explains an install that fails because the registry does not answer', async () => {
    const { context, page, errors } = await openStore(w, '#/app/flaky');
    try {
      await page.getByRole('heading', { level: 1, name: 'flaky' }).waitFor();
      await page.getByRole('button', { name: 'Install' }).click();
      flaky.mode = 'fail';
      await page.getByRole('dialog').getByRole('button', { name: 'Install' }).click();
      const alert = page.getByRole('dialog').getByRole('alert');
      await alert.waitFor({ timeout: 60_000 });
      const text = await alert.textContent() ?? '';
      expect(text).toMatch(/^It did not work: .+/);
      expect(text).toContain('registry may be unreachable');
      expect(text).not.toMatch(/[{}]/);
      await expectAccessible(page, 'a failed install');
      expect((await apps('flaky')).status).toBe(404);
      expect(errors).toEqual([]);
    } finally {
      flaky.mode = 'ok';
      await context.close();
    }
  }, 120_000);

  it('opens konnectors in Accounts from My apps', async () => {
    const token = await w.token('io.cozy.konnectors');
    if ((await apps('bank-demo', 'konnectors')).status !== 200) expect((await w.api('POST', '/konnectors/bank-demo', token)).status).toBe(202);
    await until(async () => (await apps('bank-demo', 'konnectors')).body?.data?.attributes?.state === 'ready', 60_000);
    const { context, page } = await openStore(w, '#/installed');
    try {
      const open = page.getByRole('link', { name: 'Open Bank demo' });
      expect(await open.getAttribute('href')).toBe(`http://accounts.${w.domain}/#/konnector/bank-demo`);
      expect(await page.getByRole('link', { name: 'Open Store' }).getAttribute('href')).toBe(`http://store.${w.domain}/`);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('installs an app by keyboard only', async () => {
    const { context, page } = await openStore(w, '#/discover');
    try {
      await page.locator('.app-grid').waitFor();
      await tabTo(page, 'input[type=search]');
      await page.keyboard.type('to-do');
      await until(async () => JSON.stringify(await names(page)) === JSON.stringify(['Tasks']), 20_000);
      await tabTo(page, '.app-card');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'Tasks' }).waitFor();
      await tabTo(page, 'button.primary');
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Install Tasks' });
      await dialog.waitFor();
      await tabTo(page, 'dialog button.primary');
      await page.keyboard.press('Enter');
      await dialog.getByText('Tasks is installed.').waitFor({ timeout: 60_000 });
      await tabTo(page, 'dialog a.primary');
      expect(await page.evaluate('document.activeElement?.textContent')).toBe('Open');
      expect((await apps('tasks')).body.data.attributes.state).toBe('ready');
    } finally {
      await context.close();
    }
  }, 120_000);

  it('installs the app another app asks for with an INSTALL intent, in a frame, and answers it', async () => {
    const token = await w.token('io.cozy.apps');
    if ((await apps('asker')).status !== 200) expect((await w.api('POST', '/apps/asker', token)).status).toBe(202);
    if ((await apps('weather')).status === 200) expect((await w.api('DELETE', '/apps/weather', token)).status).toBe(200);
    await until(async () => (await apps('asker')).body?.data?.attributes?.state === 'ready', 60_000);
    const { context, page, errors } = await openApp(browser, w, 'asker');
    try {
      await page.getByText('Status: ready').waitFor();
      const answer = page.evaluate('window.installByIntent("weather")');
      answer.catch(() => undefined); // awaited below; not an unhandled rejection if the test stops before
      const frame = page.frameLocator('#intent iframe');
      expect(await page.locator('#intent iframe').getAttribute('src')).toMatch(new RegExp(`^http://store\\.${w.domain.replace(/\./g, '\\.')}/intents\\?intent=`));
      await frame.getByRole('heading', { name: 'Install Weather' }).waitFor();
      // the latest version's: 1.1.0, published by the update test, adds the calendar
      expect(await frame.locator('.perm-text').allTextContents()).toEqual(['Read and change your contacts', 'Read your files', 'Read your calendar events']);
      const inFrame = page.frames().find((f) => f.url().includes('/intents?intent='));
      await expectAccessible(inFrame as unknown as Page, 'the install intent');
      await frame.getByRole('button', { name: 'Accept and install' }).click();
      expect(await answer).toEqual({ slug: 'weather', state: 'ready' });
      expect((await apps('weather')).body.data.attributes.state).toBe('ready');
      // already installed: answered at once
      expect(await page.evaluate('window.installByIntent("weather")')).toEqual({ slug: 'weather', state: 'ready' });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('works in dark and at 375 px, with no serious accessibility violation', async () => {
    const { context, page } = await openStore(w, '#/discover', { colorScheme: 'dark', viewport: { width: 375, height: 740 } });
    try {
      await page.locator('.app-grid').waitFor();
      const overflow = () => page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      expect(await overflow()).toBeLessThanOrEqual(0);
      await expectAccessible(page, 'the catalogue, dark, 375 px');
      await page.goto(w.appUrl('store', '#/app/weather'));
      await page.getByRole('heading', { level: 1, name: 'Weather' }).waitFor();
      expect(await overflow()).toBeLessThanOrEqual(0);
      await expectAccessible(page, 'an app page, dark, 375 px');
      await page.getByRole('button', { name: /Install|Uninstall/ }).first().click();
      await page.getByRole('dialog').waitFor();
      await expectAccessible(page, 'a dialog, dark, 375 px');
      await page.keyboard.press('Escape');
      await page.goto(w.appUrl('store', '#/installed'));
      await page.locator('.list').first().waitFor();
      expect(await overflow()).toBeLessThanOrEqual(0);
      await expectAccessible(page, 'My apps, dark, 375 px');
    } finally {
      await context.close();
    }
  }, 120_000);
});

describe('the Store in French', () => {
  let fr: WebappsHearth;
  beforeAll(async () => {
    fr = await startWithWebapps({ label: 'storefr', locale: 'fr', slugs: ['store'], config: { apps: { registries: reg.url } as never } });
  }, 180_000);
  afterAll(async () => { await fr?.close(); });

  it('speaks French on every page and in the dialogs', async () => {
    const { context, page } = await openStore(fr, '#/discover', { locale: 'fr-FR' });
    try {
      await page.getByRole('heading', { level: 1, name: 'Découvrir des applications et des connecteurs' }).waitFor();
      await page.getByRole('link', { name: 'Productivité' }).click();
      await until(async () => (await names(page)).includes('Météo'), 20_000);
      await page.getByText('Les prévisions de vos lieux').waitFor();
      await expectAccessible(page, 'le catalogue');
      await page.locator('.app-card', { hasText: 'Météo' }).click();
      await page.getByRole('heading', { level: 1, name: 'Météo' }).waitFor();
      expect(await page.locator('.perms .perm-text').allTextContents()).toEqual(expect.arrayContaining(['Lire et modifier vos contacts', 'Lire vos fichiers']));
      await page.getByRole('button', { name: 'Installer' }).click();
      await page.getByRole('dialog', { name: 'Installer Météo' }).getByRole('button', { name: 'Accepter et installer' }).waitFor();
      await expectAccessible(page, 'le dialogue d\u2019installation');
      await page.keyboard.press('Escape');
      await page.getByRole('link', { name: 'Mes applications' }).click();
      await page.getByRole('heading', { level: 1, name: 'Mes applications' }).waitFor();
      await expectAccessible(page, 'mes applications');
    } finally {
      await context.close();
    }
  }, 120_000);
});
