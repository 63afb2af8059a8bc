/**
 * The Settings app's export in Chromium: the owner asks for an export, sees it get ready through realtime, receives the
 * mail on a real SMTP server, opens its link (#/exports/<MAC>) on a phone-sized screen and downloads part 1 with the
 * keyboard: a zip in the layout of the README's "Leaving" section.
 */
import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { readZip } from '../helpers/export.js';
import { until } from '../helpers/jobs.js';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js';
import { openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { openSection } from '../helpers/webapps-settings.js';

let w: WebappsHearth;
let browser: Browser;
let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await startTestSmtp();
  [w, browser] = await Promise.all([startWithWebapps({ label: 'export', slugs: ['settings'], config: { mail: smtp.config } }), launchBrowser()]);
  await w.h.hearth.registry.modify(w.domain, { email: 'alice@example.org' });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
  await smtp?.close();
});

describe('Settings: export', () => {
  it('asks for an export, gets the mail, opens its link on a phone and downloads the part with the keyboard', async () => {
    const upload = await w.h.req('POST', '/files/io.cozy.files.root-dir?Type=file&Name=notes.txt', { host: w.domain, token: await w.token('io.cozy.files'), raw: 'my notes' });
    expect(upload.status).toBe(201);
    const { context, page, errors } = await openSection(browser, w, '#/export');
    try {
      await page.getByRole('heading', { name: 'Export your data' }).waitFor();
      await page.getByRole('button', { name: 'Ask for an export' }).click();
      await page.getByText('Your export is ready: the link is in your e-mail.').waitFor({ timeout: 60_000 });
      await expectAccessible(page, 'export');
    } finally {
      await context.close();
    }
    await until(() => smtp.received.some((m) => m.mail.subject === 'Your data is ready to be downloaded'), 60_000);
    const mail = smtp.received.find((m) => m.mail.subject === 'Your data is ready to be downloaded')!;
    expect(mail.to).toEqual(['alice@example.org']);
    const link = /http:\/\/settings\.[^\s/]+\/#\/exports\/[A-Za-z0-9_-]+/.exec(mail.mail.text ?? '')?.[0];
    expect(link).toBeDefined();
    const phone = await openApp(browser, w, 'settings', { viewport: { width: 390, height: 844 }, acceptDownloads: true });
    try {
      await phone.page.goto(link!);
      await phone.page.getByRole('heading', { name: 'Download your data', level: 1 }).waitFor();
      await phone.page.getByText(/Available until/).waitFor();
      await expectAccessible(phone.page, 'export download, phone');
      const part = phone.page.getByRole('link', { name: 'Download part 1 of 1' });
      await part.focus();
      const [download] = await Promise.all([phone.page.waitForEvent('download'), phone.page.keyboard.press('Enter')]);
      expect(download.suggestedFilename()).toBe('My Cozy.zip');
      const entries = await readZip(await readFile((await download.path())!));
      expect(entries[0]!.name).toBe('My Cozy/Data/instance.json');
      expect(entries.find((e) => e.name === 'My Cozy/Files/notes.txt')?.data.toString()).toBe('my notes');
      expect(phone.errors).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });
});
