/**
 * A move between two Hearth servers in Chromium, as a person does it (src/move/transfer), at phone width and with the
 * keyboard: Settings → "Move to another server" → S's wizard (the target's address) → T's passphrase page → back on S,
 * the summary → "check your mail" → the confirmation mail read from a real SMTP server → /move/go → T's waiting page,
 * T blocked (`moving`) and S's export queued with `move_to`. What follows (the export, T's import, finalize) needs the
 * export and import parts (src/move/export, src/move/import).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { startTestSmtp, type TestSmtp } from '../helpers/smtp.js';
import { startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { openSection } from '../helpers/webapps-settings.js';
import { confirmationLink, OWNER_EMAIL, T_PASS } from '../helpers/move-transfer.js';
import type { ExportMessage } from '../../src/move/types.js';
import type { Instance } from '../../src/instances/types.js';

let browser: Browser;
let smtp: TestSmtp;
let s: WebappsHearth;
let t: TestHearth;
let target: Instance;
const exports: ExportMessage[] = [];

beforeAll(async () => {
  smtp = await startTestSmtp();
  [s, t, browser] = await Promise.all([
    // until the export part is merged, S's `export` worker keeps the messages it gets (test/helpers/move-transfer.ts)
    startWithWebapps({ label: 'move', slugs: ['settings'], config: { mail: smtp.config }, options: { extraWorkers: [{ name: 'export', internal: true, run: async (ctx) => void exports.push(ctx.job.message as ExportMessage) }] } }),
    startTestHearth(),
    launchBrowser(),
  ]);
  await s.h.hearth.registry.modify(s.domain, { email: OWNER_EMAIL });
  target = await t.hearth.registry.modify(t.otherDomain, { passphrase: T_PASS });
}, 600_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([s?.close(), t?.close()]);
  await smtp?.close();
});

const PHONE = { viewport: { width: 390, height: 844 }, locale: 'en-US' };
const fitsWidth = (page: Page) => page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth');

describe('moving an instance to another server', () => {
  it('goes from Settings through the wizard and the target\'s consent to the confirmation mail, then to the target', async () => {
    const tBase = `http://${t.otherDomain}`;
    const { context, page, errors } = await openSection(browser, s, '#/move', PHONE);
    try {
      await page.getByRole('heading', { name: 'Move to another server', level: 1 }).waitFor();
      await expectAccessible(page, 'settings move');
      await page.getByRole('button', { name: 'Start the move' }).click();
      // S's own wizard (move.url unset)
      await page.getByRole('heading', { name: `Move ${s.domain} to another server` }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/move/wizard/initialize');
      expect(await fitsWidth(page)).toBe(true);
      await expectAccessible(page, 'move wizard');
      await screenshot(page, 'move-wizard');
      // keyboard only: the address field has the focus
      await page.keyboard.type('not an address');
      await page.keyboard.press('Enter');
      await page.getByRole('alert').filter({ hasText: 'Type the address of another instance' }).waitFor();
      await page.getByLabel('Address of the new instance').fill(t.otherDomain);
      await page.keyboard.press('Enter');
      // T's consent page
      await page.waitForURL((u) => u.host === t.otherDomain && u.pathname === '/auth/authorize/move');
      await page.getByRole('heading', { name: `Move another Hearth into ${t.otherDomain}` }).waitFor();
      expect(await fitsWidth(page)).toBe(true);
      await expectAccessible(page, 'target consent');
      await page.keyboard.type('wrong passphrase');
      await page.keyboard.press('Enter');
      await page.getByRole('alert').filter({ hasText: 'Wrong passphrase' }).waitFor();
      await page.getByLabel('Passphrase').fill(T_PASS);
      await page.keyboard.press('Enter');
      // back on S: the summary, then the mail
      await page.waitForURL((u) => u.host === s.domain && u.pathname === '/move/wizard/callback');
      await page.getByRole('heading', { name: `Move ${s.domain} to ${t.otherDomain}` }).waitFor();
      await expectAccessible(page, 'move summary');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Check your mail' }).waitFor();
      await page.getByText(OWNER_EMAIL).waitFor();
      const link = await confirmationLink(smtp, /^Confirm the move of alice\.move\.localhost/);
      // the owner opens the mailed link: S starts the move and sends the browser to T's waiting page
      await page.goto(link);
      await page.waitForURL(`${tBase}/move/importing`);
      expect(await t.hearth.moveStates.get(target.id)).toMatchObject({ status: 'moving', peer: `http://${s.domain}/` });
      await expect.poll(() => exports.length, { timeout: 60_000 }).toBe(1);
      expect(exports[0]?.move_to?.url).toBe(tBase);
      expect(errors).toEqual([]);
    } catch (err) {
      await screenshot(page, 'move-wizard-failure');
      throw new Error(`${err instanceof Error ? err.message : String(err)} (at ${page.url()})`);
    } finally {
      await context.close();
    }
  }, 300_000);
});
