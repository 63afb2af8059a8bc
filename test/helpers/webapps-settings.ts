/** What the Settings app's browser tests share: going to a section, reading the theme colour a page uses, logging in by hand. */
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { openApp, type WebappsHearth } from './webapps.js';

/**
 * openApp on a section (`#/sessions`): the login's redirect drops the URL's fragment, so the section is opened after it.
 */
export async function openSection(browser: Browser, w: WebappsHearth, hash: string, opts: BrowserContextOptions = {}): ReturnType<typeof openApp> {
  const opened = await openApp(browser, w, 'settings', { ...opts, path: hash });
  await opened.page.locator('nav.sidenav').waitFor();
  if (new URL(opened.page.url()).hash !== hash) await opened.page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  return opened;
}

/** Opens a section by its link in the side navigation and waits for its heading. */
export async function section(page: Page, link: string, heading = link): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
  await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

/** The `--primaryColor` the page's theme stylesheet sets now. */
export function primaryColorOf(page: Page): Promise<string> {
  return page.evaluate<string>('getComputedStyle(document.documentElement).getPropertyValue("--primaryColor").trim()');
}

/** A fresh context logging in on the instance's login page with `passphrase`: the page it ends on. */
export async function loginWith(browser: Browser, w: WebappsHearth, passphrase: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(w.appUrl('settings'));
  await page.locator('input[type=password]').first().fill(passphrase);
  await page.keyboard.press('Enter');
  // either back on the app, or the login page again with its error message
  await Promise.race([page.waitForURL((u) => u.host !== w.domain, { timeout: 60_000 }), page.locator('#error:not(:empty)').waitFor({ timeout: 60_000 })]);
  return { page, close: () => context.close() };
}

/** Waits until the page's `--primaryColor` is `color` (a stylesheet may still be loading), then says which it is. */
export async function primaryColorBecomes(page: Page, color: string): Promise<string> {
  await page.waitForFunction(`getComputedStyle(document.documentElement).getPropertyValue("--primaryColor").trim() === ${JSON.stringify(color)}`, undefined, { timeout: 30_000 }).catch(() => undefined);
  return primaryColorOf(page);
}
