/**
 * Drive's views in Chromium, as a person uses them: the preview of a photo, a PDF, a text, a sound and an unknown
 * file (arrows, Escape, Download); the old versions of a file and a revert; a share link with a password opened in a
 * second context without a session; the list of links and a revoke; the photo timeline by EXIF date; the PICK intent
 * answered to another app; in French, in dark, at 375 px, by keyboard, with axe-core on each view and dialog.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { jpegWithExif } from '../helpers/images.js';
import { until } from '../helpers/jobs.js';
import { DEFAULTS } from '../../src/config/schema.js';
import { BUILTIN_SLUGS, openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { filesClientRegistry, mkdirOn, onePagePdf, ROOT_DIR, uploadOn, wavTone } from '../helpers/webapps-drive-views.js';

let w: WebappsHearth;
let fr: WebappsHearth;
let browser: Browser;
let token: string;
const files = { ...DEFAULTS.files, versions: { max: 20, minDelayMs: 0 } };

beforeAll(async () => {
  const registries = await filesClientRegistry(mkdtempSync(join(tmpdir(), 'hearth-drive-views-')));
  [w, fr, browser] = await Promise.all([
    startWithWebapps({ label: 'views', slugs: [...BUILTIN_SLUGS.filter((s) => s === 'drive'), 'e2e-files-client'], config: { files, apps: { ...DEFAULTS.apps, registries } } }),
    startWithWebapps({ label: 'vues', locale: 'fr', slugs: ['drive'], config: { files } }),
    launchBrowser(),
  ]);
  token = await w.token('io.cozy.files');
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
  await fr?.close();
});

const AUDIO = 'document.querySelector("audio.preview-audio")';
const dialog = (page: Page) => page.locator('dialog[open]');

async function thumbnails(h: WebappsHearth, t: string, id: string): Promise<void> {
  await until(async () => !!(await h.api('GET', `/files/${id}`, t)).body?.data?.links?.small, 60_000);
}

/** Drive logged in, on the view of `hash` (the login's redirect drops the fragment: it is set once back on the app). */
async function openView(h: WebappsHearth, hash: string, opts: Parameters<typeof openApp>[3] = {}): ReturnType<typeof openApp> {
  const opened = await openApp(browser, h, 'drive', opts);
  await opened.page.locator('header.appbar').waitFor({ timeout: 30_000 });
  await opened.page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  return opened;
}

/** A failure with what the page showed and the script errors it had, to read the cause in the test's output. */
async function explained(e: unknown, page: Page, errors: string[]): Promise<Error> {
  const text = await page.locator('body').innerText().catch(() => '(no page)');
  return new Error(`${(e as Error).message}\n--- page (${page.url()}):\n${text.slice(0, 2000)}\n--- script errors: ${errors.join(' | ') || 'none'}`);
}

describe('Drive views', () => {
  it('previews a photo, a PDF, a text, a sound and an unknown file, moving with the arrows and closing with Escape', async () => {
    const dir = await mkdirOn(w, token, ROOT_DIR, 'Preview');
    const photo = await uploadOn(w, token, dir.id, 'a-photo.jpg', await jpegWithExif(1200, 800, { taken: '2020:05:01 10:00:00' }), 'image/jpeg');
    await uploadOn(w, token, dir.id, 'b-doc.pdf', onePagePdf('Hello from Hearth'), 'application/pdf');
    await uploadOn(w, token, dir.id, 'c-notes.txt', '<script>alert(1)</script>\nline two\n', 'text/plain');
    await uploadOn(w, token, dir.id, 'd-tone.wav', wavTone(3), 'audio/wav');
    const other = await uploadOn(w, token, dir.id, 'e-data.bin', Buffer.from([1, 2, 3, 4]), 'application/octet-stream');
    await thumbnails(w, token, photo.id);
    const { context, page, errors } = await openView(w, `#/folder/${dir.id}/file/${photo.id}`);
    try {
      const d = dialog(page);
      await d.locator('h2', { hasText: 'a-photo.jpg' }).waitFor({ timeout: 30_000 });
      const img = d.locator('img.preview-image');
      await img.waitFor({ state: 'visible', timeout: 30_000 });
      await until(async () => (await page.evaluate('document.querySelector("img.preview-image").complete && document.querySelector("img.preview-image").naturalWidth') as number) > 0, 30_000);
      // the original replaces the large thumbnail once loaded
      await until(async () => (await img.getAttribute('src'))?.includes('/files/downloads/') ?? false, 30_000);
      expect(await page.evaluate('document.querySelector("img.preview-image").naturalWidth')).toBe(1200);
      expect(await d.textContent()).toContain('1 of 4');
      await expectAccessible(page, 'the preview of a photo');
      await screenshot(page, 'drive-views-preview-photo');

      await page.keyboard.press('ArrowRight');
      await d.locator('h2', { hasText: 'b-doc.pdf' }).waitFor({ timeout: 30_000 });
      const frame = d.locator('iframe.preview-pdf');
      await frame.waitFor({ timeout: 30_000 });
      expect(await frame.getAttribute('src')).toMatch(/\/files\/downloads\/.+\/b-doc\.pdf$/);
      await until(async () => (await page.frames()).some((f) => f.url().includes('/files/downloads/')), 30_000);
      await expectAccessible(page, 'the preview of a PDF');
      await screenshot(page, 'drive-views-preview-pdf');

      await d.getByRole('button', { name: 'Next file' }).click();
      const pre = d.locator('pre.preview-text');
      await pre.waitFor({ timeout: 30_000 });
      expect(await pre.textContent()).toBe('<script>alert(1)</script>\nline two\n');
      expect(await page.evaluate('document.querySelectorAll("dialog script").length')).toBe(0);

      await page.keyboard.press('ArrowRight');
      const audio = d.locator('audio.preview-audio');
      await audio.waitFor({ timeout: 30_000 });
      await until(async () => (await page.evaluate(`${AUDIO}.readyState`) as number) >= 1, 30_000);
      expect(Math.round(await page.evaluate(`${AUDIO}.duration`) as number)).toBe(3);
      // seeking works: the stack answers Range requests on download links
      await page.evaluate(`${AUDIO}.currentTime = 2`);
      await until(async () => (await page.evaluate(`(a => a.seekable.length > 0 && a.seekable.end(0) >= 2.9 && Math.abs(a.currentTime - 2) < 0.2)(${AUDIO})`) as boolean), 30_000);
      // the last file: no Next button (hidden, disabled)
      expect(await d.getByRole('button', { name: 'Next file' }).count()).toBe(0);
      await page.keyboard.press('ArrowLeft');
      await d.locator('h2', { hasText: 'c-notes.txt' }).waitFor({ timeout: 30_000 });
      await page.keyboard.press('Escape');
      await dialog(page).waitFor({ state: 'detached', timeout: 30_000 });

      // a file without a preview: its icon and Download, which downloads it
      await page.evaluate(`location.hash = '#/folder/${dir.id}/file/${other.id}'`);
      await dialog(page).getByText('No preview for this kind of file.').waitFor({ timeout: 30_000 });
      const [download] = await Promise.all([page.waitForEvent('download'), dialog(page).locator('.preview-content').getByRole('button', { name: 'Download' }).click()]);
      expect(download.suggestedFilename()).toBe('e-data.bin');
      expect(errors).toEqual([]);
    } catch (e) {
      throw await explained(e, page, errors);
    } finally {
      await context.close();
    }
  });
});
