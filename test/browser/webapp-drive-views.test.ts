/**
 * Drive's views in Chromium, as a person uses them: the preview of a photo, a PDF, a text, a sound and an unknown
 * file (arrows, Escape, Download), and of a video that plays; the old versions of a file and a revert; a share link with a password opened in a
 * second context without a session; the list of links and a revoke; the photo timeline by EXIF date; the PICK intent
 * answered to another app; in French, in dark, at 375 px, by keyboard, with axe-core on each view and dialog.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { corruptJpeg, jpegWithExif } from '../helpers/images.js';
import { until } from '../helpers/jobs.js';
import { DEFAULTS } from '../../src/config/schema.js';
import { BUILTIN_SLUGS, openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { filesClientRegistry, mkdirOn, onePagePdf, overwriteOn, ROOT_DIR, uploadOn, wavTone } from '../helpers/webapps-drive-views.js';

let w: WebappsHearth;
let fr: WebappsHearth;
let browser: Browser;
let token: string;
const files = { ...DEFAULTS.files, versions: { max: 20, minDelayMs: 0 } };

beforeAll(async () => {
  const registries = await filesClientRegistry(mkdtempSync(join(tmpdir(), 'hearth-drive-views-')));
  [w, browser] = await Promise.all([
    startWithWebapps({ label: 'views', slugs: [...BUILTIN_SLUGS.filter((s) => s === 'drive'), 'e2e-files-client'], config: { files, apps: { ...DEFAULTS.apps, registries } } }),
    launchBrowser(),
  ]);
  // the French instance: another one on the same Hearth (its files config too; no second Hearth to start)
  fr = await startWithWebapps({ label: 'vues', locale: 'fr', slugs: ['drive'], on: w });
  token = await w.token('io.cozy.files');
}, 240_000);
afterAll(async () => {
  await browser?.close();
  await fr?.close();
  await w?.close();
});

const AUDIO = 'document.querySelector("audio.preview-audio")';
const VIDEO = 'document.querySelector("video.preview-video")';

/**
 * A clip of about a second (64×48, WebM VP8, a few KB) made by Chromium itself: a canvas whose colour changes, recorded
 * by MediaRecorder (Debian has no ffmpeg by default, and a made clip needs no fixture in the repository).
 */
async function webmClip(): Promise<Buffer> {
  const page = await browser.newPage();
  try {
    const b64 = await page.evaluate(`(async () => {
      const c = document.createElement('canvas');
      c.width = 64; c.height = 48;
      const g = c.getContext('2d');
      const rec = new MediaRecorder(c.captureStream(25), { mimeType: 'video/webm;codecs=vp8' });
      const chunks = [];
      rec.ondataavailable = (e) => chunks.push(e.data);
      let i = 0;
      const draw = () => { g.fillStyle = 'hsl(' + (i++ * 30) + ', 80%, 50%)'; g.fillRect(0, 0, 64, 48); };
      draw();
      const timer = setInterval(draw, 40);
      rec.start(100);
      await new Promise((r) => setTimeout(r, 1200));
      const stopped = new Promise((r) => { rec.onstop = r; });
      rec.stop();
      await stopped;
      clearInterval(timer);
      const bytes = new Uint8Array(await new Blob(chunks).arrayBuffer());
      let s = '';
      for (const x of bytes) s += String.fromCharCode(x);
      return btoa(s);
    })()`) as string;
    return Buffer.from(b64, 'base64');
  } finally {
    await page.close();
  }
}
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

      // an image the browser cannot decode: said in words, with Download
      const broken = await uploadOn(w, token, ROOT_DIR, 'broken.jpg', corruptJpeg(), 'image/jpeg');
      await page.evaluate(`location.hash = '#/folder/${ROOT_DIR}/file/${broken.id}'`);
      await dialog(page).getByText('The preview could not be shown.').waitFor({ timeout: 30_000 });
      expect(await dialog(page).locator('.preview-content').textContent()).toContain('Download the file to open it on your device.');
      await expectAccessible(page, 'a preview that failed');
      expect(errors).toEqual([]);
    } catch (e) {
      throw await explained(e, page, errors);
    } finally {
      await context.close();
    }
  });
  it('previews a short video: it loads with its size and plays', async () => {
    const dir = await mkdirOn(w, token, ROOT_DIR, 'Videos');
    const clip = await uploadOn(w, token, dir.id, 'clip.webm', await webmClip(), 'video/webm');
    expect(clip.attributes.class).toBe('video');
    const { context, page, errors } = await openView(w, `#/folder/${dir.id}/file/${clip.id}`);
    try {
      const d = dialog(page);
      await d.locator('h2', { hasText: 'clip.webm' }).waitFor({ timeout: 30_000 });
      await d.locator('video.preview-video').waitFor({ timeout: 30_000 });
      await until(async () => (await page.evaluate(`${VIDEO}.readyState`) as number) >= 2, 30_000);
      expect(await page.evaluate(`[${VIDEO}.videoWidth, ${VIDEO}.videoHeight]`)).toEqual([64, 48]);
      expect(await page.evaluate(`${VIDEO}.duration > 0`)).toBe(true);
      // it plays: the time moves on (muted, as a page may start a video without a gesture)
      await page.evaluate(`(v => { v.muted = true; return v.play(); })(${VIDEO})`);
      await until(async () => (await page.evaluate(`${VIDEO}.currentTime`) as number) > 0.2, 30_000);
      expect(await page.evaluate(`${VIDEO}.error`)).toBeNull();
      await expectAccessible(page, 'the preview of a video');
      expect(errors).toEqual([]);
    } catch (e) {
      throw await explained(e, page, errors);
    } finally {
      await context.close();
    }
  });

  it('lists the old versions of a file and restores one after a confirmation; a version gone says so', async () => {
    const f = await uploadOn(w, token, ROOT_DIR, 'report.txt', 'first draft', 'text/plain');
    await overwriteOn(w, token, f.id, 'second draft, longer');
    const { context, page, errors } = await openView(w, `#/file/${f.id}/versions`);
    try {
      const d = dialog(page);
      await d.locator('h2', { hasText: 'Versions of report.txt' }).waitFor({ timeout: 30_000 });
      const rows = d.locator('ul.versions-list > li');
      await rows.first().waitFor({ timeout: 30_000 });
      expect(await rows.count()).toBe(1);
      expect(await rows.first().textContent()).toContain('11 B');
      await expectAccessible(page, 'the versions dialog');
      await rows.first().getByRole('button', { name: /^Restore the version of / }).click();
      await d.locator('h2', { hasText: 'Restore this version?' }).waitFor({ timeout: 30_000 });
      await expectAccessible(page, 'the confirmation of a restore');
      await d.getByRole('button', { name: 'Restore', exact: true }).click();
      await page.locator('.toast', { hasText: 'is restored' }).waitFor({ timeout: 30_000 });
      expect((await w.api('GET', `/files/download/${f.id}`, token)).text).toBe('first draft');
      // the replaced content is now the version: the list shows it
      await d.locator('h2', { hasText: 'Versions of report.txt' }).waitFor({ timeout: 30_000 });
      await rows.first().filter({ hasText: '20 B' }).waitFor({ timeout: 30_000 });

      // a failure: the versions are deleted elsewhere, then one asks to restore one
      expect((await w.api('DELETE', '/files/versions', token)).status).toBe(204);
      await rows.first().getByRole('button', { name: /^Restore the version of / }).click();
      await d.getByRole('button', { name: 'Restore', exact: true }).click();
      await page.locator('.toast.error', { hasText: 'It no longer exists.' }).waitFor({ timeout: 30_000 });
      expect(await page.locator('.toast.error').textContent()).toContain('refresh the list');
      expect(errors).toEqual([]);
    } catch (e) {
      throw await explained(e, page, errors);
    } finally {
      await context.close();
    }
  });

  it('shares a file by a link with a password: a second context without session types it and downloads the file; the link is listed and revoked', async () => {
    const f = await uploadOn(w, token, ROOT_DIR, 'secret.txt', 'top secret content', 'text/plain');
    const { context, page, errors } = await openView(w, `#/file/${f.id}/share`);
    const visitor = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US', acceptDownloads: true });
    try {
      const d = dialog(page);
      await d.locator('h2', { hasText: 'Share secret.txt' }).waitFor({ timeout: 30_000 });
      await d.getByText('No link shares it yet.').waitFor({ timeout: 30_000 });
      await expectAccessible(page, 'the share dialog');
      await d.getByLabel('Password (optional)').fill('open sesame');
      await d.getByRole('button', { name: 'Create a link' }).click();
      const input = d.locator('#share-url');
      await input.waitFor({ timeout: 30_000 });
      const url = await input.inputValue();
      expect(url).toMatch(new RegExp(`^http://drive\\.${w.domain.replace(/\./g, '\\.')}/public\\?sharecode=\\w+$`));
      await d.locator('ul.links-list > li').first().waitFor({ timeout: 30_000 });
      expect(await d.locator('ul.links-list > li').first().textContent()).toContain('Password');
      await screenshot(page, 'drive-views-share');

      const anon = await visitor.newPage();
      const anonErrors: string[] = [];
      anon.on('pageerror', (e) => anonErrors.push(e.message));
      await anon.goto(url);
      await anon.locator('input[type=password]').fill('open sesame');
      await anon.keyboard.press('Enter');
      await anon.locator('h1', { hasText: 'secret.txt' }).waitFor({ timeout: 30_000 });
      await anon.locator('pre.preview-text', { hasText: 'top secret content' }).waitFor({ timeout: 30_000 });
      await expectAccessible(anon, 'the public page of a shared file');
      const [download] = await Promise.all([anon.waitForEvent('download'), anon.getByRole('button', { name: 'Download' }).click()]);
      expect(download.suggestedFilename()).toBe('secret.txt');
      expect(readFileSync(await download.path()).toString()).toBe('top secret content');

      // every link of the owner, with revoke
      await page.keyboard.press('Escape');
      await page.evaluate(`location.hash = '#/links'`);
      const row = page.locator('main ul.links-list > li', { hasText: 'secret.txt' });
      await row.waitFor({ timeout: 30_000 });
      await expectAccessible(page, 'the links view');
      await row.getByRole('button', { name: /^Revoke the link / }).click();
      await page.getByText('You have not shared anything by link.').waitFor({ timeout: 30_000 });
      // the revoked link no longer opens: the visitor is told so
      await anon.goto(url);
      await anon.getByText('This link does not work.').waitFor({ timeout: 30_000 });
      expect([...errors, ...anonErrors]).toEqual([]);
    } catch (e) {
      const pages = visitor.pages();
      throw await explained(e, pages[0] ?? page, errors);
    } finally {
      await visitor.close();
      await context.close();
    }
  });

  it('shares a folder: the visitor sees its listing, previews a file, opens a subfolder and downloads it all as a zip', async () => {
    const dir = await mkdirOn(w, token, ROOT_DIR, 'Holidays');
    await uploadOn(w, token, dir.id, 'plan.txt', 'day one: the sea', 'text/plain');
    const sub = await mkdirOn(w, token, dir.id, 'Tickets');
    await uploadOn(w, token, sub.id, 'train.txt', 'seat 42', 'text/plain');
    const { context, page, errors } = await openView(w, `#/file/${dir.id}/share`);
    const visitor = await browser.newContext({ viewport: { width: 375, height: 740 }, locale: 'en-US', acceptDownloads: true });
    try {
      // with an expiry day: a day in the past is refused in words, a later one is kept on the link
      await dialog(page).getByLabel('Expires on (optional)').fill('2020-01-15');
      await dialog(page).getByRole('button', { name: 'Create a link' }).click();
      await dialog(page).getByText('Choose a day after today.').waitFor({ timeout: 30_000 });
      await dialog(page).getByLabel('Expires on (optional)').fill('2040-01-15');
      await dialog(page).getByRole('button', { name: 'Create a link' }).click();
      await dialog(page).locator('ul.links-list > li', { hasText: 'Until Jan 15, 2040' }).waitFor({ timeout: 30_000 });
      const links = await w.api('GET', '/permissions/doctype/io.cozy.files/shared-by-link', token);
      const mine = links.body.data.find((d: { attributes: { permissions: Record<string, { values?: string[] }> } }) => Object.values(d.attributes.permissions).some((r) => r.values?.includes(dir.id)));
      expect(mine.attributes.expires_at.slice(0, 7)).toBe('2040-01');
      const url = await dialog(page).locator('#share-url').inputValue();
      const anon = await visitor.newPage();
      await anon.goto(url);
      await anon.locator('h1', { hasText: 'Holidays' }).waitFor({ timeout: 30_000 });
      await anon.getByText('2 items').waitFor({ timeout: 30_000 });
      await expectAccessible(anon, 'the public page of a shared folder');
      await screenshot(anon, 'drive-views-public-folder-375');
      await anon.getByRole('button', { name: 'Preview plan.txt' }).click();
      await anon.locator('dialog[open] pre.preview-text', { hasText: 'day one: the sea' }).waitFor({ timeout: 30_000 });
      await anon.keyboard.press('Escape');
      await anon.getByRole('button', { name: 'Tickets' }).click();
      await anon.getByRole('button', { name: 'Preview train.txt' }).waitFor({ timeout: 30_000 });
      await anon.getByRole('button', { name: 'Holidays' }).click();
      await anon.getByRole('button', { name: 'Preview plan.txt' }).waitFor({ timeout: 30_000 });
      const [zip] = await Promise.all([anon.waitForEvent('download'), anon.getByRole('button', { name: 'Download all (zip)' }).click()]);
      expect(zip.suggestedFilename()).toBe('Holidays.zip');
      const bytes = readFileSync(await zip.path());
      expect(bytes.subarray(0, 2).toString()).toBe('PK');
      expect(bytes.includes(Buffer.from('train.txt'))).toBe(true);
      expect(errors).toEqual([]);
    } catch (e) {
      throw await explained(e, visitor.pages()[0] ?? page, errors);
    } finally {
      await visitor.close();
      await context.close();
    }
  });

  it('shows the photos by month taken (EXIF), and opens one in the preview by keyboard', async () => {
    const dir = await mkdirOn(w, token, ROOT_DIR, 'Camera');
    const shots = [
      await uploadOn(w, token, dir.id, 'march-a.jpg', await jpegWithExif(640, 480, { taken: '2019:03:10 12:00:00' }), 'image/jpeg'),
      await uploadOn(w, token, dir.id, 'july.jpg', await jpegWithExif(640, 480, { taken: '2021:07:04 09:00:00' }), 'image/jpeg'),
      await uploadOn(w, token, dir.id, 'march-b.jpg', await jpegWithExif(480, 640, { taken: '2019:03:20 18:30:00' }), 'image/jpeg'),
    ];
    for (const s of shots) await thumbnails(w, token, s.id);
    const { context, page, errors } = await openView(w, '#/photos');
    try {
      await page.locator('h2.photos-month').first().waitFor({ timeout: 30_000 });
      const months = await page.locator('h2.photos-month').allTextContents();
      expect(months.indexOf('July 2021')).toBeGreaterThanOrEqual(0);
      expect(months.indexOf('July 2021')).toBeLessThan(months.indexOf('March 2019'));
      const march = page.locator('section[aria-labelledby="m-2019-03"] .photos-grid button');
      expect(await Promise.all((await march.all()).map((b) => b.getAttribute('aria-label')))).toEqual(['Open march-b.jpg', 'Open march-a.jpg']);
      // each photo shows its small thumbnail
      for (const name of ['march-a.jpg', 'march-b.jpg', 'july.jpg']) expect(await page.getByRole('button', { name: `Open ${name}` }).locator('img').count()).toBe(1);
      expect(await march.first().locator('img').getAttribute('src')).toMatch(new RegExp(`/files/${shots[2]!.id}/thumbnails/[0-9a-f]+/small$`));
      await until(async () => (await page.evaluate('[...document.querySelectorAll(".photos-grid img")].every((i) => i.complete && i.naturalWidth > 0)')) as boolean, 30_000);
      await expectAccessible(page, 'the photos timeline');
      await screenshot(page, 'drive-views-photos');
      // keyboard only: Tab to the first photo of July, Enter opens it, → moves, Escape closes
      await page.getByRole('button', { name: 'Open july.jpg' }).focus();
      await page.keyboard.press('Enter');
      await dialog(page).locator('h2', { hasText: 'july.jpg' }).waitFor({ timeout: 30_000 });
      await page.keyboard.press('ArrowRight');
      await dialog(page).locator('h2').filter({ hasNotText: 'july.jpg' }).waitFor({ timeout: 30_000 });
      await page.keyboard.press('Escape');
      await dialog(page).waitFor({ state: 'detached', timeout: 30_000 });
      expect(errors).toEqual([]);
    } catch (e) {
      throw await explained(e, page, errors);
    } finally {
      await context.close();
    }
  });

  it('answers another app\'s PICK intent on io.cozy.files with the file chosen in Drive\'s picker', async () => {
    const dir = await mkdirOn(w, token, ROOT_DIR, 'Pick here');
    const chosen = await uploadOn(w, token, dir.id, 'chosen.txt', 'the one', 'text/plain');
    const { context, page, errors } = await openApp(browser, w, 'e2e-files-client');
    try {
      await page.locator('#status', { hasText: 'ready' }).waitFor({ timeout: 30_000 });
      const picked = page.evaluate('window.e2e.pick()') as Promise<{ _id: string; name: string }>;
      picked.catch(() => undefined);
      const frame = page.frameLocator('#intent iframe');
      await frame.getByRole('heading', { name: 'Choose a file' }).waitFor({ timeout: 30_000 });
      expect(await page.locator('#intent iframe').getAttribute('src')).toMatch(new RegExp(`^http://drive\\.${w.domain.replace(/\./g, '\\.')}/intents\\?intent=`));
      // the picker's page on its own, light and dark, for axe (which reads one document)
      const alone = await context.newPage();
      await alone.goto(String(await page.locator('#intent iframe').getAttribute('src')));
      await alone.getByRole('button', { name: 'Open the folder Pick here' }).waitFor({ timeout: 30_000 });
      await expectAccessible(alone, 'the PICK intent page');
      await alone.emulateMedia({ colorScheme: 'dark' });
      await expectAccessible(alone, 'the PICK intent page, dark');
      await alone.close();
      await frame.getByRole('button', { name: 'Open the folder Pick here' }).click();
      await frame.getByRole('button', { name: 'Select chosen.txt' }).click();
      await frame.getByRole('button', { name: 'Choose' }).click();
      const got = await picked;
      expect(await page.locator('#picked').textContent()).toContain('"name":"chosen.txt"');
      expect([got._id, got.name]).toEqual([chosen.id, 'chosen.txt']);
      expect(errors).toEqual([]);
    } catch (e) {
      const frame = page.frames().find((f) => f.url().includes('/intents'));
      const inner = frame ? await frame.locator('body').innerText().catch(() => '') : '(no intent frame)';
      throw await explained(new Error(`${(e as Error).message}\n--- intent frame (${frame?.url() ?? ''}): ${inner}`), page, errors);
    } finally {
      await context.close();
    }
  });

  it('in French, dark, at 375 px: the share dialog, the versions, the preview, the photos and the links read well and pass axe', async () => {
    const t = await fr.token('io.cozy.files');
    const f = await uploadOn(fr, t, ROOT_DIR, 'notes.txt', 'Bonjour', 'text/plain');
    const { context, page, errors } = await openView(fr, `#/file/${f.id}/share`, { colorScheme: 'dark', viewport: { width: 375, height: 740 }, locale: 'fr-FR' });
    const fits = async () => expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    try {
      await dialog(page).locator('h2', { hasText: 'Partager notes.txt' }).waitFor({ timeout: 30_000 });
      await dialog(page).getByText('Aucun lien ne le partage pour l’instant.').waitFor({ timeout: 30_000 });
      await fits();
      await expectAccessible(page, 'the share dialog, in French and dark at 375 px');
      await screenshot(page, 'drive-views-share-fr-dark-375');
      await page.evaluate(`location.hash = '#/file/${f.id}/versions'`);
      await dialog(page).getByText('Aucune version précédente').waitFor({ timeout: 30_000 });
      await expectAccessible(page, 'the versions dialog, in French and dark');
      await page.evaluate(`location.hash = '#/folder/${ROOT_DIR}/file/${f.id}'`);
      await dialog(page).locator('pre.preview-text', { hasText: 'Bonjour' }).waitFor({ timeout: 30_000 });
      expect(await dialog(page).getByRole('button', { name: 'Télécharger' }).count()).toBe(1);
      await fits();
      await expectAccessible(page, 'the preview, in French and dark');
      await page.keyboard.press('Escape');
      await page.evaluate(`location.hash = '#/photos'`);
      await page.getByText('Aucune photo pour l’instant.').waitFor({ timeout: 30_000 });
      await fits();
      await expectAccessible(page, 'the photos, in French and dark');
      await page.evaluate(`location.hash = '#/links'`);
      await page.getByText('Vous n’avez rien partagé par lien.').waitFor({ timeout: 30_000 });
      await expectAccessible(page, 'the links, in French and dark');
      expect(errors).toEqual([]);
    } catch (e) {
      throw await explained(e, page, errors);
    } finally {
      await context.close();
    }
  });
});
