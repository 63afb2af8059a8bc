/**
 * Home in Chromium, as its owner uses it: the launcher (opened by keyboard), a konnector whose run failed with
 * LOGIN_FAILED shown with its meaning and a Fix link, notifications arriving live and marked read for good, the
 * search (files and apps, by keyboard), the recent files; in French, dark and at 375 px; axe-core on each state;
 * and a failure (the app's file rights withdrawn) shown as a message.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { startPackageServer, type PackageServer } from '../helpers/app-packages.js';
import { until } from '../helpers/jobs.js';
import { OWNER_PASSPHRASE, openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { installKonnector, jobEnd, launchKonnector, notify, uploadFile } from '../helpers/webapps-home.js';

const WAIT = { timeout: 60_000 };
let w: WebappsHearth;
let browser: Browser;
let pkgs: PackageServer;
let report: { id: string; dirId: string };

beforeAll(async () => {
  [w, browser, pkgs] = await Promise.all([startWithWebapps({ label: 'home' }), launchBrowser(), startPackageServer()]);
  await w.h.hearth.registry.modify(w.domain, { publicName: 'Alice' });
  // the konnectors installed, and the two runs made, side by side
  const run = async (slug: string, name: string, mode?: string) => {
    await installKonnector(w, pkgs, slug, name);
    return mode ? jobEnd(w, await launchKonnector(w, slug, mode)) : null;
  };
  const [failed, , , good] = await Promise.all([
    run('sample-energy', 'Sample Energy', 'login-failed'), run('quiet-bank', 'Quiet Bank'), run('slow-bank', 'Slow Bank'), run('good-bank', 'Good Bank', 'env'),
  ]);
  expect(failed).toMatchObject({ state: 'errored', error: expect.stringMatching(/LOGIN_FAILED/) });
  expect(good).toMatchObject({ state: 'done' });
  report = await uploadFile(w, 'Work', 'Quarterly report.txt', 'Q3 figures');
  await uploadFile(w, 'Photos', 'holiday notes.md', '# Beach', 'text/markdown');
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
  await pkgs?.close();
});

/** Home, loaded: the launcher, the services and the recent files are on the page. */
async function ready(page: Page): Promise<void> {
  await page.locator('.launcher .tile').first().waitFor(WAIT);
  await page.locator('#services .services li').first().waitFor(WAIT);
  await page.locator('.recent a').first().waitFor(WAIT);
}

describe('Home', () => {
  it('is where the owner lands after logging in', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    try {
      const page = await context.newPage();
      await page.goto(`http://${w.domain}/`);
      await page.locator('input[type=password]').first().fill(OWNER_PASSPHRASE);
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.host === new URL(w.appUrl('home')).host, WAIT);
      await page.locator('.launcher .tile').first().waitFor(WAIT);
    } finally {
      await context.close();
    }
  });

  it('greets the owner, lists the installed apps and opens one by keyboard only', async () => {
    const { context, page, errors } = await openApp(browser, w, 'home');
    try {
      await ready(page);
      expect(await page.locator('h1').textContent()).toMatch(/^Good (morning|afternoon|evening), Alice$/);
      expect(await page.locator('.launcher .tile span').allTextContents()).toEqual(['Accounts', 'Drive', 'Settings', 'Store']);
      expect(await page.locator('.launcher .tile').first().getAttribute('href')).toBe(w.appUrl('accounts'));
      await expectAccessible(page, 'home (light)');
      await screenshot(page, 'home-light-1280');
      // Tab until the launcher, then the arrows, then Enter
      for (let i = 0; i < 20 && !(await page.evaluate('document.activeElement?.classList.contains("tile")')); i++) await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.textContent')).toBe('Accounts');
      await page.keyboard.press('ArrowRight');
      expect(await page.evaluate('document.activeElement.textContent')).toBe('Drive');
      await page.keyboard.press('End');
      expect(await page.evaluate('document.activeElement.textContent')).toBe('Store');
      await page.keyboard.press('ArrowLeft');
      expect(await page.evaluate('document.activeElement.textContent')).toBe('Settings');
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.host === new URL(w.appUrl('settings')).host, WAIT);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows a konnector in error with what it means and a Fix link to Accounts, one that ran well, one not connected yet', async () => {
    const { context, page } = await openApp(browser, w, 'home');
    try {
      const row = page.locator('#konnector-sample-energy');
      await row.waitFor(WAIT);
      await page.locator('#konnector-sample-energy[data-state=error]').waitFor(WAIT);
      expect(await row.textContent()).toContain('The service refused the login or the password.');
      const fix = row.getByRole('link', { name: 'Fix Sample Energy' });
      expect(await fix.getAttribute('href')).toBe(w.appUrl('accounts', '#/konnector/sample-energy'));
      const good = page.locator('#konnector-good-bank[data-state=ok]');
      expect(await good.textContent()).toMatch(/Last run [A-Z][a-z]{2} \d{1,2}, \d{4}/);
      expect(await good.getByRole('link', { name: 'Details of Good Bank' }).getAttribute('href')).toBe(w.appUrl('accounts', '#/konnector/good-bank'));
      const quiet = page.locator('#konnector-quiet-bank[data-state=none]');
      expect(await quiet.textContent()).toContain('Not connected yet');
      expect(await page.getByRole('link', { name: 'Add a service' }).getAttribute('href')).toBe(w.appUrl('store', '#/discover?type=konnector'));
      await expectAccessible(page, 'home with a konnector in error');
    } finally {
      await context.close();
    }
  });

  it('shows a run in progress, then its end without a reload', async () => {
    const { context, page } = await openApp(browser, w, 'home');
    try {
      await page.locator('#konnector-slow-bank[data-state=none]').waitFor(WAIT);
      // the sample konnector sleeps; the run's 6-second limit ends it with an error
      const job = await launchKonnector(w, 'slow-bank', 'sleep', 6);
      await page.reload();
      await page.locator('#konnector-slow-bank[data-state=running], #konnector-slow-bank[data-state=queued]').waitFor(WAIT);
      expect(await page.locator('#konnector-slow-bank').textContent()).toMatch(/Running…|Waiting to run/);
      expect((await jobEnd(w, job)).state).toBe('errored');
      await page.locator('#konnector-slow-bank[data-state=error]').waitFor(WAIT);
      expect(await page.locator('#konnector-slow-bank').getByRole('link', { name: 'Fix Slow Bank' }).count()).toBe(1);
    } finally {
      await context.close();
    }
  });

  it('lists the recent files, each opening Drive at its folder with its preview', async () => {
    const { context, page } = await openApp(browser, w, 'home');
    try {
      await ready(page);
      const names = await page.locator('.recent .name').allTextContents();
      expect(names).toEqual(['holiday notes.md', 'Quarterly report.txt']);
      const link = page.locator('.recent a', { hasText: 'Quarterly report.txt' });
      expect(await link.getAttribute('href')).toBe(w.appUrl('drive', `#/folder/${report.dirId}/file/${report.id}`));
      // the queries have their Mango index, created by Home
      const indexes = await w.api('GET', '/data/io.cozy.files/_index', await w.token('io.cozy.files:GET'));
      expect(indexes.body.indexes.map((i: { ddoc: string }) => i.ddoc)).toEqual(expect.arrayContaining(['_design/by_type_and_trashed_and_updated_at']));
      // a file added elsewhere comes first, live
      const added = await uploadFile(w, 'Work', 'Budget 2027.csv', 'a,b\n1,2', 'text/csv');
      await page.locator('.recent li:first-child .name', { hasText: 'Budget 2027.csv' }).waitFor(WAIT);
      expect(await page.locator('.recent li:first-child .file-icon').getAttribute('class')).toContain('kind-sheet');
      expect(await page.locator('.recent li:first-child a').getAttribute('href')).toBe(w.appUrl('drive', `#/folder/${added.dirId}/file/${added.id}`));
      // a file added while the page was offline came as no event: the list is read again once the socket is back
      await context.setOffline(true);
      await page.waitForFunction('!navigator.onLine');
      await new Promise((r) => setTimeout(r, 300)); // cozy-realtime drops its socket on the offline event
      await uploadFile(w, 'Work', 'Written offline.txt', 'while away');
      await context.setOffline(false);
      await page.locator('.recent li:first-child .name', { hasText: 'Written offline.txt' }).waitFor({ timeout: 20_000 });
    } finally {
      await context.close();
    }
  });

  it('receives notifications live, with an unread count; marking one read, then all, lasts after a reload', async () => {
    const { context, page } = await openApp(browser, w, 'home');
    try {
      await ready(page);
      const bell = page.locator('button.bell');
      expect(await bell.getAttribute('aria-label')).toBe('Notifications, 0 unread');
      await notify(w, 'Backup finished', 'Your files are safe.');
      await page.locator('button.bell .count', { hasText: '1' }).waitFor(WAIT);
      await notify(w, 'Disk almost full');
      await page.locator('button.bell .count', { hasText: '2' }).waitFor(WAIT);
      expect(await bell.getAttribute('aria-label')).toBe('Notifications, 2 unread');
      await bell.click();
      const dialog = page.getByRole('dialog', { name: 'Notifications' });
      await dialog.waitFor(WAIT);
      expect(await dialog.locator('li strong').allTextContents()).toEqual(['Unread: Disk almost full', 'Unread: Backup finished']);
      expect(await dialog.locator('li', { hasText: 'Backup finished' }).textContent()).toContain('Your files are safe.From Hearth');
      await expectAccessible(page, 'the notifications dialog (light)');
      await dialog.getByRole('button', { name: 'Mark as read: Backup finished' }).click();
      await page.locator('button.bell .count', { hasText: '1' }).waitFor(WAIT);
      await page.reload();
      await ready(page);
      expect(await bell.getAttribute('aria-label')).toBe('Notifications, 1 unread');
      await bell.click();
      await dialog.locator('li.read', { hasText: 'Backup finished' }).waitFor(WAIT);
      await dialog.getByRole('button', { name: 'Mark all as read' }).click();
      await until(async () => (await bell.getAttribute('aria-label')) === 'Notifications, 0 unread', 30_000);
      const listed = await w.api('GET', '/notifications', await w.token('io.cozy.notifications:GET'));
      expect(listed.body.meta.unread).toBe(0);
      expect(listed.body.data.every((d: { attributes: { read_at?: string } }) => typeof d.attributes.read_at === 'string')).toBe(true);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached', ...WAIT });
    } finally {
      await context.close();
    }
  });

  it('lists the notifications by pages of 20, the older ones on demand', async () => {
    for (let i = 1; i <= 21; i++) await notify(w, `Report ${i}`);
    const { context, page } = await openApp(browser, w, 'home');
    try {
      await ready(page);
      await page.getByRole('button', { name: 'Notifications, 21 unread' }).click();
      const dialog = page.getByRole('dialog', { name: 'Notifications' });
      await dialog.locator('li').first().waitFor(WAIT);
      expect(await dialog.locator('li').count()).toBe(20);
      await dialog.getByRole('button', { name: 'Show older notifications' }).click();
      await dialog.locator('li', { hasText: 'Backup finished' }).waitFor(WAIT);
      const titles = await dialog.locator('li strong').allTextContents();
      // newest first (the reports were sent last; two sent in the same millisecond may come in either order)
      expect(titles.slice(21)).toEqual(['Disk almost full', 'Backup finished']);
      expect(titles.slice(0, 21).sort()).toEqual(Array.from({ length: 21 }, (_, i) => `Unread: Report ${i + 1}`).sort());
      expect(await dialog.getByRole('button', { name: 'Show older notifications' }).count()).toBe(0);
      await dialog.getByRole('button', { name: 'Mark all as read' }).click();
      await page.getByRole('button', { name: 'Notifications, 0 unread' }).waitFor(WAIT);
    } finally {
      await context.close();
    }
  });

  it('finds files and apps by name from the keyboard (/ to focus, arrows, Enter, Escape)', async () => {
    const { context, page } = await openApp(browser, w, 'home');
    try {
      await ready(page);
      await page.locator('body').click({ position: { x: 5, y: 300 } });
      await page.keyboard.press('/');
      expect(await page.evaluate('document.activeElement.id')).toBe('home-search');
      await page.keyboard.type('sett');
      const listbox = page.getByRole('listbox');
      await listbox.getByRole('option', { name: 'Settings' }).waitFor(WAIT);
      await page.keyboard.press('Escape');
      await listbox.waitFor({ state: 'detached', ...WAIT });
      await page.keyboard.press('Escape');
      expect(await page.locator('#home-search').inputValue()).toBe('');
      await page.keyboard.type('quarterly');
      await listbox.getByRole('option', { name: 'Quarterly report.txt' }).waitFor(WAIT);
      await expectAccessible(page, 'home with search results');
      await screenshot(page, 'home-search');
      await page.keyboard.press('ArrowDown');
      expect(await page.locator('#home-search').getAttribute('aria-activedescendant')).toBe(`search-file-${report.id}`);
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.host === new URL(w.appUrl('drive')).host, WAIT);
      expect(new URL(page.url()).hash).toBe(`#/folder/${report.dirId}/file/${report.id}`);
    } finally {
      await context.close();
    }
  });

  it("holds only its manifest's rights: reads what it shows, is refused the rest", async () => {
    // an app's token goes with the owner's session, as in the page
    const { token, session_cookie } = await w.h.hearth.appToken(w.instance, 'home');
    const as = (method: string, path: string, body?: unknown) => w.api(method, path, token, body, { cookie: `cozysessid=${session_cookie}` });
    for (const path of ['/apps/', '/konnectors/', '/jobs/triggers?Worker=konnector', '/notifications', '/settings/instance', `/files/${report.id}`]) {
      const r = await as('GET', path);
      expect(r.status, `${path} ${r.text}`).toBe(200);
    }
    const refused: Array<[string, string, unknown?]> = [
      ['GET', '/data/io.cozy.accounts/_all_docs'], // credentials stay with Accounts
      ['GET', '/jobs/triggers?Worker=sendmail'],
      ['POST', `/files/${report.dirId}?Type=directory&Name=x`],
      ['DELETE', `/files/${report.id}`],
      ['POST', '/notifications', { data: { type: 'io.cozy.notifications', attributes: { category: 'system', title: 'x' } } }],
      ['PUT', '/settings/instance', { data: { type: 'io.cozy.settings', attributes: { public_name: 'Mallory' } } }],
      ['POST', '/apps/some-app'],
    ];
    for (const [method, path, body] of refused) expect((await as(method, path, body)).status, `${method} ${path}`).toBe(403);
  });

  it('shows its parts at once, none pushing another down as it arrives (no layout shift on a phone)', async () => {
    const { context, page } = await openApp(browser, w, 'home', { viewport: { width: 412, height: 823 }, isMobile: true });
    try {
      await ready(page);
      // the layout shifts of the page since it started (not caused by input), each with the elements it moved
      const shifts = await page.evaluate(`new Promise((resolve) => {
        const found = [];
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) if (!e.hadRecentInput) found.push({ value: e.value, moved: e.sources.map((s) => s.node && s.node.id ? '#' + s.node.id : String(s.node && (s.node.className || s.node.nodeName))) });
        }).observe({ type: 'layout-shift', buffered: true });
        setTimeout(() => resolve(found), 500);
      })`);
      // (a text node may move by a pixel as the greeting gets the owner's name)
      const parts = /^(#apps|#recent|#services|home-grid|home-main|home-side|home-section)$/;
      expect((shifts as Array<{ moved: string[] }>).flatMap((x) => x.moved).filter((m) => m.split(' ').some((c) => parts.test(c)))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('in dark at 375 px: nothing overflows, the pages and the dialog stay accessible', async () => {
    const { context, page } = await openApp(browser, w, 'home', { colorScheme: 'dark', viewport: { width: 375, height: 800 } });
    try {
      await ready(page);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
      const bg = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      expect(bg).not.toBe('rgb(244, 245, 247)');
      await expectAccessible(page, 'home (dark, 375 px)');
      await screenshot(page, 'home-dark-375');
      await page.locator('button.bell').click();
      await page.getByRole('dialog', { name: 'Notifications' }).waitFor(WAIT);
      await expectAccessible(page, 'the notifications dialog (dark, 375 px)');
      await screenshot(page, 'home-dark-375-notifications');
    } finally {
      await context.close();
    }
  });
});

describe('Home in French, and a failure', () => {
  let fr: WebappsHearth;
  beforeAll(async () => {
    // another instance on the same Hearth (no second Hearth to start, the apps' code stored once)
    fr = await startWithWebapps({ label: 'homefr', locale: 'fr', slugs: ['home', 'drive', 'settings'], on: w });
    await fr.h.hearth.registry.modify(fr.domain, { publicName: 'Alice' });
  }, 240_000);
  afterAll(async () => {
    await fr?.close();
  });

  it('speaks French, with its empty states', async () => {
    const { context, page } = await openApp(browser, fr, 'home', { locale: 'fr-FR' });
    try {
      await page.locator('.launcher .tile').first().waitFor(WAIT);
      expect(await page.locator('html').getAttribute('lang')).toBe('fr');
      expect(await page.locator('h1').textContent()).toMatch(/^(Bonjour|Bon après-midi|Bonsoir), Alice$/);
      expect(await page.locator('#apps-title').textContent()).toBe('Applications');
      expect(await page.locator('.launcher .tile span').allTextContents()).toEqual(['Drive', 'Paramètres']);
      await page.getByText('Les fichiers ajoutés ou modifiés dans Drive apparaissent ici.').waitFor(WAIT);
      await page.getByText('Connectez un service', { exact: false }).waitFor(WAIT);
      expect(await page.getByRole('button', { name: 'Notifications, 0 non lue(s)' }).count()).toBe(1);
      await expectAccessible(page, 'home in French (empty)');
      await screenshot(page, 'home-fr-empty');
      // an app installed meanwhile (from the Store, here through the API) gets its tile, live
      const started = await fr.api('POST', '/apps/store', await fr.token('io.cozy.apps'));
      expect(started.status, started.text).toBe(202);
      await page.locator('.launcher .tile', { hasText: 'Store' }).waitFor(WAIT);
      expect(await page.locator('.launcher .tile span').allTextContents()).toEqual(['Drive', 'Paramètres', 'Store']);
    } finally {
      await context.close();
    }
  });

  it('says what happened and what to do when the file search is refused', async () => {
    // the stack takes back Home's rights on files: its searches are now refused (403) by the server
    await fr.h.hearth.perms.grant(fr.instance, 'app', 'home', 'io.cozy.apps:GET io.cozy.konnectors:GET io.cozy.triggers:GET:konnector:worker io.cozy.notifications:GET,PATCH io.cozy.settings:GET');
    const { context, page, errors } = await openApp(browser, fr, 'home', { locale: 'fr-FR' });
    try {
      await page.locator('.launcher .tile').first().waitFor(WAIT);
      await page.locator('#home-search').fill('rapport');
      const alert = page.locator('.search-status [role=alert]');
      await alert.waitFor(WAIT);
      const said = await alert.textContent();
      expect(said).toMatch(/^La recherche de fichiers a échoué\. Cette application n\u2019a pas le droit de faire cela\./);
      expect(said).toMatch(/Vérifiez ses permissions dans le Store\.$/);
      expect(said).not.toMatch(/[{}]/);
      await page.locator('#recent [role=alert]').waitFor(WAIT);
      await expectAccessible(page, 'home with a failed search (French)');
      await screenshot(page, 'home-fr-failure');
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
