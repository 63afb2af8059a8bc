/**
 * A move between two Hearth servers in Chromium, as a person does it (src/move/transfer), at phone width and with the
 * keyboard: Settings → "Move to another server" → S's wizard (the target's address) → T's passphrase page → back on S,
 * the summary → "check your mail" → the confirmation mail read from a real SMTP server → /move/go → T's waiting page,
 * T blocked (`moving`); then, with the real export and import: S's export, T's import of it, S finalized (`moved`, 410
 * with the new address), the waiting page sends the browser to T's login, and S's documents and files are on T.
 * First, T's consent with two-factor authentication (an authenticator app, its codes computed by otplib): the passphrase,
 * then /auth/twofactor, a wrong code, "Start again" back to the consent page, then the right code back to S's wizard.
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
import { createHash } from 'node:crypto';
import { ROOT, upload } from '../helpers/files.js';
import type { Instance, TwoFactorStore } from '../../src/instances/types.js';
import { generate, generateSecret } from 'otplib';
import { sealSecret } from '../../src/auth/twofactor/seal.js';

let browser: Browser;
let smtp: TestSmtp;
let s: WebappsHearth;
let t: TestHearth;
let target: Instance;
let fileId: string;

beforeAll(async () => {
  smtp = await startTestSmtp();
  [s, t, browser] = await Promise.all([
    // both reach the other on loopback (move/net.ts refuses private addresses otherwise)
    startWithWebapps({ label: 'move', slugs: ['settings'], config: { mail: smtp.config, imports: { allowPrivateUrls: true } } }),
    startTestHearth({ mail: smtp.config, imports: { allowPrivateUrls: true } }),
    launchBrowser(),
  ]);
  await s.h.hearth.registry.modify(s.domain, { email: OWNER_EMAIL });
  // what the move must carry: documents and a file with an old version
  const token = await s.token('io.cozy.files io.cozy.notes.things');
  for (let i = 0; i < 50; i++) expect((await s.api('PUT', `/data/io.cozy.notes.things/note${i}`, token, { title: `note ${i}` })).status).toBe(200);
  const h = { ...s.h, req: (method: string, path: string, o: Parameters<typeof s.h.req>[2] = {}) => s.h.req(method, path, { host: s.domain, ...o }) };
  const made = await upload(h, token, ROOT, 'report.txt', 'first');
  fileId = made.id;
  expect((await h.req('PUT', `/files/${made.id}`, { token, raw: 'the second version of the report', headers: { 'If-Match': made.rev } })).status).toBe(200);
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
  it('asks the target\'s second factor after its passphrase: a wrong code, "Start again" back to the consent, then the authenticator\'s code', async () => {
    // the target with an authenticator app (its secret sealed as the enrolment does), for this test only
    const store = t.hearth.registry as unknown as TwoFactorStore;
    const secret = generateSecret();
    await store.setTwoFactor(target, { authMode: 'two_factor_totp', totpSecret: sealSecret((await t.hearth.registry.secrets(target)).session, target.id, secret), recoveryHashes: [] });
    const { context, page, errors } = await openSection(browser, s, '#/move', PHONE);
    const passphraseStep = async () => {
      await page.getByRole('heading', { name: `Move another Hearth into ${t.otherDomain}` }).waitFor();
      await page.getByLabel('Passphrase').fill(T_PASS);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Confirm it is you' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/auth/twofactor');
    };
    try {
      await page.getByRole('button', { name: 'Start the move' }).click();
      await page.getByLabel('Address of the new instance').fill(t.otherDomain);
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.host === t.otherDomain && u.pathname === '/auth/authorize/move');
      const consent = page.url();
      await passphraseStep();
      expect(await fitsWidth(page)).toBe(true);
      await expectAccessible(page, 'move two-factor');
      await page.keyboard.type('000000');
      await page.keyboard.press('Enter');
      await page.getByRole('alert').filter({ hasText: 'Wrong or already used code' }).waitFor();
      // "Start again": the consent page of this move (was the login page), then the passphrase and the code again
      await page.getByRole('link', { name: 'Start again' }).click();
      await page.waitForURL((u) => u.host === t.otherDomain && u.pathname === '/auth/authorize/move');
      expect(page.url()).toBe(consent);
      await passphraseStep();
      await page.getByLabel('Code').fill(await generate({ secret }));
      await page.keyboard.press('Enter');
      // back on S with the target's consent: the summary of the move
      await page.waitForURL((u) => u.host === s.domain && u.pathname === '/move/wizard/callback');
      await page.getByRole('heading', { name: `Move ${s.domain} to ${t.otherDomain}` }).waitFor();
      expect(errors).toEqual([]);
    } catch (err) {
      await screenshot(page, 'move-twofactor-failure');
      throw new Error(`${err instanceof Error ? err.message : String(err)} (at ${page.url()})`);
    } finally {
      await context.close();
      await store.setTwoFactor(target, { authMode: 'basic', totpSecret: null, recoveryHashes: [] });
    }
  }, 120_000);

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
      // blocked: waiting for the data (moving), or already importing it (the export of a small instance is quick)
      expect(['moving', 'importing']).toContain((await t.hearth.moveStates.get(target.id))?.status);
      // S exports, T imports it, T tells S to finalize: S is retired, T unblocked, the waiting page sends to T's login
      await expect.poll(async () => (await s.h.hearth.moveStates.get(s.instance.id))?.status, { timeout: 240_000, interval: 500 }).toBe('moved');
      expect(await t.hearth.moveStates.get(target.id)).toBeNull();
      await page.waitForURL((u) => u.host === t.otherDomain && u.pathname === '/auth/login', { timeout: 60_000 });
      const tToken = await t.cliToken('io.cozy.files io.cozy.notes.things', target);
      const treq = (path: string) => t.req('GET', path, { host: t.otherDomain, token: tToken });
      expect((await treq('/data/io.cozy.notes.things/note42')).body.title).toBe('note 42');
      expect((await treq('/data/io.cozy.notes.things/_all_docs')).body.rows.filter((r: { id: string }) => !r.id.startsWith('_design'))).toHaveLength(50);
      const file = await treq(`/files/${fileId}`);
      expect(file.body.data.attributes.md5sum).toBe(createHash('md5').update('the second version of the report').digest('base64'));
      expect((await treq(`/files/download/${fileId}`)).text).toBe('the second version of the report');
      expect(file.body.data.relationships?.old_versions?.data).toHaveLength(1);
      // S answers its old pages with 410 and the new address
      const old = await s.h.req('GET', '/auth/login', { host: s.domain, headers: { accept: 'text/html' } });
      expect(old.status).toBe(410);
      expect(old.text).toContain(`${tBase}/auth/login`);
      expect(errors).toEqual([]);
    } catch (err) {
      await screenshot(page, 'move-wizard-failure');
      throw new Error(`${err instanceof Error ? err.message : String(err)} (at ${page.url()})`);
    } finally {
      await context.close();
    }
  }, 300_000);
});
