/**
 * Drive in Chromium, as a person uses it: uploads by drag and drop (a 30 MB file and a folder of 50 files, from the
 * disk) with progress, a name conflict and the quota said in words; rename, move (dialog and drag), copy, trash,
 * restore, empty trash, a zip of a selection; another client's upload appearing live; a keyboard-only flow; French,
 * dark and 375 px, with axe-core on every page and dialog.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { rawRequest } from '../helpers/hearth.js';
import { png } from '../helpers/images.js';
import { expectAccessible } from '../helpers/a11y.js';
import { openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { dropFromDisk, pageUntil, row, zipEntries } from '../helpers/webapps-drive.js';

const ROOT = 'io.cozy.files.root-dir';
let w: WebappsHearth;
let browser: Browser;
let token: string;
const disk = mkdtempSync(join(tmpdir(), 'drive-e2e-'));

beforeAll(async () => {
  [w, browser] = await Promise.all([startWithWebapps({ label: 'drive', slugs: ['drive'] }), launchBrowser()]);
  token = await w.token('io.cozy.files');
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
});

async function mkdir(parent: string, name: string): Promise<string> {
  const r = await w.api('POST', `/files/${parent}?Type=directory&Name=${encodeURIComponent(name)}`, token);
  if (r.status !== 201) throw new Error(`mkdir ${name}: ${r.status} ${r.text}`);
  return r.body.data.id as string;
}
async function put(parent: string, name: string, content: string): Promise<string> {
  const r = await rawRequest(w.h.port, 'POST', `/files/${parent}?Type=file&Name=${encodeURIComponent(name)}`, { host: w.domain, token, raw: content, headers: { 'content-type': 'text/plain' } });
  if (r.status !== 201) throw new Error(`upload ${name}: ${r.status} ${r.text}`);
  return r.body.data.id as string;
}
interface Res { id: string; attributes: Record<string, unknown> & { name: string } }
async function children(dirId: string): Promise<Res[]> {
  const r = await w.api('GET', `/files/${dirId}?page[limit]=100`, token);
  if (r.status !== 200) throw new Error(`list ${dirId}: ${r.status} ${r.text}`);
  return r.body.included as Res[];
}
async function child(dirId: string, name: string): Promise<Res | undefined> {
  return (await children(dirId)).find((x) => x.attributes.name === name);
}
async function childNames(dirId: string): Promise<string[]> {
  return (await children(dirId)).map((x) => x.attributes.name).sort();
}
async function openFolder(dirId: string, opts: Parameters<typeof openApp>[3] = {}): Promise<{ page: Page; close(): Promise<void>; errors: string[] }> {
  // the login's way back drops the fragment: the route is set once the app is open
  const { context, page, errors } = await openApp(browser, w, 'drive', opts);
  await page.locator('header.appbar').waitFor();
  await page.evaluate(`location.hash = ${JSON.stringify(`#/folder/${dirId}`)}`);
  await page.locator('[role=grid], .empty').first().waitFor({ timeout: 30_000 });
  return { page, errors, close: () => context.close() };
}

describe('Drive: uploads', () => {
  it('uploads a 30 MB file and a folder of 50 files dropped from the disk, with per-file and total progress, then lists them', async () => {
    const dirId = await mkdir(ROOT, 'Drops');
    const big = randomBytes(30 * 1024 * 1024);
    writeFileSync(join(disk, 'big.bin'), big);
    mkdirSync(join(disk, 'Album', 'Inner'), { recursive: true });
    for (let i = 1; i <= 48; i++) writeFileSync(join(disk, 'Album', `p${String(i).padStart(2, '0')}.txt`), `photo ${i}\n`);
    writeFileSync(join(disk, 'Album', 'Inner', 'a.txt'), 'a');
    writeFileSync(join(disk, 'Album', 'Inner', 'b.txt'), 'b');
    const { page, close, errors } = await openFolder(dirId);
    try {
      // every value the total progress bar takes (runs in the page: no DOM types in the Node project)
      await page.evaluate(`window.seen = []; new MutationObserver(() => {
        const p = document.querySelector('.uploads progress.up-total');
        if (p) window.seen.push(p.value);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true })`);
      await dropFromDisk(page, page.locator('main .page'), [join(disk, 'big.bin'), join(disk, 'Album')]);
      const panel = page.getByRole('region', { name: 'Uploads' });
      await panel.waitFor();
      await panel.getByText('Uploads: 51 of 51 done').waitFor({ timeout: 120_000 });
      const seen = (await page.evaluate('window.seen')) as number[];
      expect(seen.some((v) => v > 0 && v < 100)).toBe(true);
      expect(seen.at(-1)).toBe(100);
      await row(page, 'big.bin').waitFor();
      await row(page, 'Album').waitFor();
      const got = await child(dirId, 'big.bin');
      expect(got?.attributes.size).toBe(String(big.length));
      expect(got?.attributes.md5sum).toBe(createHash('md5').update(big).digest('base64'));
      const album = await child(dirId, 'Album');
      expect((await childNames(album!.id)).length).toBe(49);
      expect(await childNames((await child(album!.id, 'Inner'))!.id)).toEqual(['a.txt', 'b.txt']);
      expect(errors).toEqual([]);
      await expectAccessible(page, 'a folder with the uploads panel');
      await screenshot(page, 'drive-uploads');
    } finally {
      await close();
    }
  }, 240_000);
});

describe('Drive: operations', () => {
  it('renames (refusals said in words), moves by dialog and by drag, copies, with no accessibility violation in the dialogs', async () => {
    const dirId = await mkdir(ROOT, 'Ops');
    const dest = await mkdir(dirId, 'Dest');
    for (const n of ['a.txt', 'b.txt', 'c.txt', 'd.txt']) await put(dirId, n, `content of ${n}`);
    const { page, close, errors } = await openFolder(dirId);
    try {
      await row(page, 'a.txt').click();
      await page.keyboard.press('F2');
      const dialog = page.getByRole('dialog', { name: 'Rename' });
      const input = dialog.getByLabel('Name');
      await input.fill('bad/name');
      await input.press('Enter');
      await dialog.getByRole('alert').getByText('A name cannot contain "/" or line breaks.').waitFor();
      await input.fill('b.txt');
      await input.press('Enter');
      await dialog.getByRole('alert').getByText('"b.txt" already exists in this folder: choose another name.').waitFor();
      await expectAccessible(page, 'the rename dialog with an error');
      await input.fill('renamed.txt');
      await input.press('Enter');
      await dialog.waitFor({ state: 'detached' });
      await row(page, 'renamed.txt').waitFor();
      expect(await childNames(dirId)).toEqual(['Dest', 'b.txt', 'c.txt', 'd.txt', 'renamed.txt']);

      await row(page, 'b.txt').click();
      await page.getByRole('toolbar', { name: 'Actions on the selection' }).getByRole('button', { name: 'Move…' }).click();
      const picker = page.getByRole('dialog', { name: 'Move 1 item to…' });
      await picker.getByRole('button', { name: 'Dest' }).click();
      await picker.getByText('Dest', { exact: true }).first().waitFor();
      await expectAccessible(page, 'the move dialog');
      await picker.getByRole('button', { name: 'Move here' }).click();
      await picker.waitFor({ state: 'detached' });
      await row(page, 'b.txt').waitFor({ state: 'detached' });

      await row(page, 'c.txt').dragTo(row(page, 'Dest'));
      await row(page, 'c.txt').waitFor({ state: 'detached' });
      expect(await childNames(dest)).toEqual(['b.txt', 'c.txt']);

      await row(page, 'd.txt').click({ button: 'right' });
      const menu = page.getByRole('menu');
      await expectAccessible(page, 'the context menu');
      await menu.getByRole('menuitem', { name: 'Copy…' }).click();
      const copier = page.getByRole('dialog', { name: 'Copy 1 item to…' });
      await copier.getByRole('button', { name: 'Dest' }).click();
      await copier.getByRole('button', { name: 'Copy here' }).click();
      await copier.waitFor({ state: 'detached' });
      await page.getByText('1 item copied.').waitFor();
      // a copy in another folder keeps its name; beside the original the stack names it "d (copy).txt"
      expect(await childNames(dest)).toEqual(['b.txt', 'c.txt', 'd.txt']);
      await row(page, 'd.txt').click({ button: 'right' });
      await menu.getByRole('menuitem', { name: 'Copy…' }).click();
      await copier.getByRole('button', { name: 'Copy here' }).click();
      await row(page, 'd (copy).txt').waitFor();
      expect(await childNames(dirId)).toEqual(['Dest', 'd (copy).txt', 'd.txt', 'renamed.txt']);
      await row(page, 'renamed.txt').click({ button: 'right' });
      await menu.getByRole('menuitem', { name: 'Details' }).click();
      const details = page.getByRole('dialog', { name: 'renamed.txt' });
      await details.getByText('/Ops/renamed.txt').waitFor();
      await expectAccessible(page, 'the details dialog');
      await page.keyboard.press('Escape');
      await details.waitFor({ state: 'detached' });
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  }, 120_000);

  it('trashes with Delete, restores from the trash, empties the trash after a confirmation', async () => {
    const dirId = await mkdir(ROOT, 'Bin');
    await put(dirId, 'keep.txt', 'keep');
    await put(dirId, 'gone.txt', 'gone');
    const { page, close, errors } = await openFolder(dirId);
    try {
      await row(page, 'keep.txt').click();
      await row(page, 'gone.txt').click({ modifiers: ['Control'] });
      await page.keyboard.press('Delete');
      await page.getByText('2 items moved to the trash.').waitFor();
      await row(page, 'keep.txt').waitFor({ state: 'detached' });
      await page.getByRole('link', { name: 'Trash' }).click();
      await row(page, 'keep.txt').waitFor();
      await expectAccessible(page, 'the trash');
      await row(page, 'keep.txt').click();
      await page.getByRole('toolbar', { name: 'Actions on the selection' }).getByRole('button', { name: 'Restore' }).click();
      await row(page, 'keep.txt').waitFor({ state: 'detached' });
      expect(await childNames(dirId)).toEqual(['keep.txt']);
      await put(dirId, 'doomed.txt', 'doomed');
      const doomed = (await child(dirId, 'doomed.txt'))!.id;
      expect((await w.api('DELETE', `/files/${doomed}`, token)).status).toBe(200);
      await row(page, 'doomed.txt').click();
      await page.keyboard.press('Delete');
      const forever = page.getByRole('dialog', { name: 'Delete 1 item forever?' });
      await forever.getByRole('button', { name: 'Delete forever' }).click();
      await row(page, 'doomed.txt').waitFor({ state: 'detached' });
      expect((await w.api('GET', `/files/${doomed}`, token)).status).toBe(404);
      await page.getByRole('button', { name: 'Empty trash' }).click();
      const confirm = page.getByRole('dialog', { name: 'Empty the trash?' });
      await expectAccessible(page, 'the empty-trash confirmation');
      await confirm.getByRole('button', { name: 'Empty trash' }).click();
      await page.getByText('The trash is empty', { exact: true }).waitFor();
      expect((await w.api('GET', '/files/trash', token)).body.data).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  }, 120_000);

  it('downloads a selection as a zip (a folder and a file), and a single file as itself', async () => {
    const dirId = await mkdir(ROOT, 'Zip');
    const sub = await mkdir(dirId, 'Sub');
    await put(sub, 'inner.txt', 'inner');
    await put(dirId, 'top.txt', 'top');
    const { page, close } = await openFolder(dirId);
    try {
      await row(page, 'Sub').click();
      await row(page, 'top.txt').click({ modifiers: ['Shift'] });
      await page.getByText('2 items selected').first().waitFor();
      const [zip] = await Promise.all([page.waitForEvent('download'), page.getByRole('toolbar', { name: 'Actions on the selection' }).getByRole('button', { name: 'Download' }).click()]);
      expect(zip.suggestedFilename()).toBe('Zip.zip');
      expect(zipEntries(readFileSync(await zip.path()))).toEqual(['Sub/', 'Sub/inner.txt', 'top.txt']);
      await row(page, 'top.txt').click();
      const [one] = await Promise.all([page.waitForEvent('download'), page.getByRole('toolbar', { name: 'Actions on the selection' }).getByRole('button', { name: 'Download' }).click()]);
      expect(one.suggestedFilename()).toBe('top.txt');
      expect(readFileSync(await one.path(), 'utf8')).toBe('top');
    } finally {
      await close();
    }
  }, 120_000);
});

describe('Drive: live updates and the keyboard', () => {
  it('shows another client\'s upload, move out and move in without a reload', async () => {
    const dirId = await mkdir(ROOT, 'Live');
    const other = await mkdir(ROOT, 'Elsewhere');
    const { page, close } = await openFolder(dirId);
    try {
      await page.getByText('This folder is empty').waitFor();
      // the realtime socket may still be opening: the other client writes until the row shows
      const id = await put(dirId, 'from-elsewhere.txt', 'hello');
      await row(page, 'from-elsewhere.txt').waitFor({ timeout: 30_000 });
      const patch = (to: string) => w.api('PATCH', `/files/${id}`, token, { data: { type: 'io.cozy.files', id, attributes: { dir_id: to } } });
      expect((await patch(other)).status).toBe(200);
      await row(page, 'from-elsewhere.txt').waitFor({ state: 'detached', timeout: 30_000 });
      expect((await patch(dirId)).status).toBe(200);
      await row(page, 'from-elsewhere.txt').waitFor({ timeout: 30_000 });
    } finally {
      await close();
    }
  }, 120_000);

  it('shows thumbnails in the grid, also of a photo another client adds while the folder is open', async () => {
    const dirId = await mkdir(ROOT, 'Pictures');
    const upload = async (name: string) => {
      const r = await rawRequest(w.h.port, 'POST', `/files/${dirId}?Type=file&Name=${name}`, { host: w.domain, token, raw: await png(320, 240), headers: { 'content-type': 'image/png' } });
      expect(r.status).toBe(201);
    };
    await upload('before.png');
    const { page, close } = await openFolder(dirId);
    try {
      await page.getByRole('button', { name: 'Grid view' }).click();
      const thumb = (name: string) => row(page, name).locator('img.thumb');
      await thumb('before.png').waitFor({ timeout: 60_000 }).catch(async () => {
        // the thumbnail worker may not have run when the page read the folder: a reload shows it
        await page.reload();
        await thumb('before.png').waitFor({ timeout: 60_000 });
      });
      await upload('live.png');
      await thumb('live.png').waitFor({ timeout: 60_000 });
      expect(await thumb('live.png').getAttribute('src')).toMatch(/\/files\/[^/]+\/thumbnails\/[^/]+\/small$/);
      // the picture loaded (the app's CSP lets it come from the stack)
      await pageUntil(page, `[...document.querySelectorAll('img.thumb')].length === 2 && [...document.querySelectorAll('img.thumb')].every((i) => i.complete && i.naturalWidth > 0)`);
    } finally {
      await close();
    }
  }, 180_000);

  it('works from the keyboard alone: focus, arrows, range selection announced, F2 rename, Enter opens a folder', async () => {
    const dirId = await mkdir(ROOT, 'Keys');
    await mkdir(dirId, 'Sub');
    for (const n of ['k1.txt', 'k2.txt', 'k3.txt']) await put(dirId, n, n);
    const { page, close } = await openFolder(dirId);
    try {
      await row(page, 'k3.txt').waitFor();
      let focused: string | null = null;
      for (let i = 0; i < 30 && !focused; i++) {
        await page.keyboard.press('Tab');
        focused = (await page.evaluate('document.activeElement?.getAttribute("data-file-id") ?? null')) as string | null;
      }
      expect(focused).not.toBeNull();
      const focusedName = async () => page.evaluate('document.activeElement?.querySelector(".fname")?.textContent ?? null');
      expect(await focusedName()).toBe('Sub');
      await page.keyboard.press('ArrowDown');
      expect(await focusedName()).toBe('k1.txt');
      await page.keyboard.press('Space');
      await page.keyboard.press('Shift+ArrowDown');
      await page.locator('p[aria-live=polite]').getByText(/^2 items selected\./).waitFor();
      expect(await page.locator('[role=row][aria-selected=true] .fname').allTextContents()).toEqual(['k1.txt', 'k2.txt']);
      // the folder's tools under the selection's bar are out of the Tab order while it shows
      expect(await page.locator('.page-head .tools[inert]').count()).toBe(1);
      await page.keyboard.press('Escape');
      expect(await page.locator('[role=row][aria-selected=true]').count()).toBe(0);
      expect(await page.locator('.page-head .tools[inert]').count()).toBe(0);
      await page.keyboard.press('End');
      expect(await focusedName()).toBe('k3.txt');
      await page.keyboard.press('Space');
      await page.keyboard.press('F2');
      await page.getByRole('dialog', { name: 'Rename' }).waitFor();
      await page.keyboard.press('Control+A');
      await page.keyboard.type('typed.txt');
      await page.keyboard.press('Enter');
      await row(page, 'typed.txt').waitFor();
      // the focus is back in the listing once the dialog is gone
      await pageUntil(page, 'document.activeElement?.getAttribute("role") === "row"');
      await page.keyboard.press('Home');
      await page.keyboard.press('Enter');
      await page.locator('.crumbs h1', { hasText: 'Sub' }).waitFor();
      expect(await childNames(dirId)).toEqual(['Sub', 'k1.txt', 'k2.txt', 'typed.txt']);
    } finally {
      await close();
    }
  }, 120_000);
});

describe('Drive: the upload queue', () => {
  it('pauses and resumes the queue, cancels one upload and retries it (on a slowed-down link)', async () => {
    const dirId = await mkdir(ROOT, 'Slow');
    mkdirSync(join(disk, 'slow'), { recursive: true });
    writeFileSync(join(disk, 'slow', 'slow.bin'), randomBytes(1024 * 1024));
    const { page, close } = await openFolder(dirId);
    const cdp = await page.context().newCDPSession(page);
    try {
      // about 8 s for the file: time to pause and to cancel while it is sending
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 128 * 1024 });
      await page.getByText('This folder is empty').waitFor();
      await dropFromDisk(page, page.locator('main .page'), [join(disk, 'slow', 'slow.bin')]);
      const panel = page.getByRole('region', { name: 'Uploads' });
      await panel.getByRole('progressbar', { name: 'Progress of slow.bin' }).waitFor({ timeout: 30_000 });
      await panel.getByRole('button', { name: 'Pause the uploads' }).click();
      await panel.getByText('Paused: 0 of 1 done').waitFor();
      await panel.getByText('Waiting').waitFor();
      await panel.getByRole('button', { name: 'Resume the uploads' }).click();
      await panel.getByRole('progressbar', { name: 'Progress of slow.bin' }).waitFor({ timeout: 30_000 });
      await panel.getByRole('button', { name: 'Cancel slow.bin' }).click();
      await panel.getByText('Canceled').waitFor();
      expect(await childNames(dirId)).toEqual([]);
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await panel.getByRole('button', { name: 'Try slow.bin again' }).click();
      await panel.getByText('Uploads: 1 of 1 done').waitFor({ timeout: 60_000 });
      await row(page, 'slow.bin').waitFor();
      expect(await childNames(dirId)).toEqual(['slow.bin']);
    } finally {
      await cdp.detach().catch(() => undefined);
      await close();
    }
  }, 120_000);
});

describe('Drive: failures said in words', () => {
  it('offers replace, keep both or skip on a name conflict, and says when the quota is reached', async () => {
    const dirId = await mkdir(ROOT, 'Clash');
    await put(dirId, 'same.txt', 'old');
    mkdirSync(join(disk, 'clash'), { recursive: true });
    writeFileSync(join(disk, 'clash', 'same.txt'), 'new content');
    writeFileSync(join(disk, 'clash', 'heavy.bin'), randomBytes(64 * 1024));
    const { page, close } = await openFolder(dirId);
    try {
      await row(page, 'same.txt').waitFor();
      await dropFromDisk(page, page.locator('main .page'), [join(disk, 'clash', 'same.txt')]);
      const panel = page.getByRole('region', { name: 'Uploads' });
      await panel.getByText('"same.txt" already exists in this folder.').waitFor({ timeout: 60_000 });
      await expectAccessible(page, 'the uploads panel with a conflict');
      await panel.getByRole('button', { name: 'Keep both' }).click();
      await row(page, 'same (2).txt').waitFor({ timeout: 60_000 });

      const used = Number((await w.api('GET', '/settings/disk-usage', token)).body.data.attributes.used);
      await w.h.hearth.registry.modify(w.domain, { diskQuota: used + 1000 });
      try {
        await dropFromDisk(page, page.locator('main .page'), [join(disk, 'clash', 'heavy.bin')]);
        await panel.getByText('Not uploaded: there is not enough space left. Free some space (empty the trash) or ask for more.').waitFor({ timeout: 60_000 });
      } finally {
        await w.h.hearth.registry.modify(w.domain, { diskQuota: null });
      }
      await panel.getByRole('button', { name: 'Try heavy.bin again' }).click();
      await row(page, 'heavy.bin').waitFor({ timeout: 60_000 });
      expect(await childNames(dirId)).toEqual(['heavy.bin', 'same (2).txt', 'same.txt']);
    } finally {
      await close();
    }
  }, 120_000);
});

describe('Drive: French, dark, 375 px', () => {
  it('is French from the instance locale, dark from the theme, usable at 375 px, with no accessibility violation', async () => {
    const dirId = await mkdir(ROOT, 'Phone');
    await mkdir(dirId, 'Dossier');
    await put(dirId, 'note.txt', 'note');
    await w.h.hearth.registry.modify(w.domain, { locale: 'fr' });
    const { page, close, errors } = await openFolder(dirId, { colorScheme: 'dark', viewport: { width: 375, height: 740 }, locale: 'fr-FR' });
    try {
      await page.getByRole('navigation', { name: 'Drive' }).getByRole('link', { name: 'Mes fichiers' }).waitFor();
      await row(page, 'note.txt').waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth <= 375')).toBe(true);
      await expectAccessible(page, 'a folder in French, dark, at 375 px');
      await screenshot(page, 'drive-fr-dark-375');
      // the list shows neither size nor date at a phone's width (app.css): they are not formatted; wider, they are
      const cells = () => Promise.all(['.c-size', '.c-date'].map((c) => row(page, 'note.txt').locator(c).textContent()));
      expect(await cells()).toEqual(['', '']);
      const phone = page.viewportSize()!;
      await page.setViewportSize({ width: 900, height: phone.height });
      await pageUntil(page, `[...document.querySelectorAll('[role=row][data-file-id] .c-size')].some((c) => c.textContent !== '')`);
      expect(await cells()).toEqual([expect.stringMatching(/^\d+ o$/), expect.stringMatching(/\d{4}$/)]);
      await page.setViewportSize(phone);
      await page.getByRole('button', { name: 'Vue en grille' }).click();
      await page.locator('.files-grid').waitFor();
      await expectAccessible(page, 'the grid view in French, dark, at 375 px');
      await row(page, 'note.txt').locator('input[type=checkbox]').check();
      await page.getByRole('toolbar', { name: 'Actions sur la sélection' }).getByRole('button', { name: 'Renommer' }).click();
      await page.getByRole('dialog', { name: 'Renommer' }).waitFor();
      await expectAccessible(page, 'the rename dialog in French, dark, at 375 px');
      await page.keyboard.press('Escape');
      await page.getByRole('link', { name: 'Corbeille' }).click();
      await page.getByText('La corbeille est vide').waitFor();
      await expectAccessible(page, 'the trash in French, dark, at 375 px');
      await page.getByRole('link', { name: 'Récents' }).click();
      // the recent files of the whole suite, by name: the rows below the screen are drawn once the person scrolls
      await page.locator('[role=grid] [role=row][data-file-id]').first().waitFor();
      await page.locator('[role=grid] [role=row][data-file-id]').last().scrollIntoViewIfNeeded();
      await row(page, 'note.txt').waitFor();
      await expectAccessible(page, 'the recent files in French, dark, at 375 px');
      expect(errors).toEqual([]);
    } finally {
      await close();
      await w.h.hearth.registry.modify(w.domain, { locale: 'en' });
    }
  }, 120_000);
});

describe('Drive: big folders and the views\' routes', () => {
  it('lists a folder of 250 files page by page: a small first page, the rows a screen holds, the rest drawn as the person scrolls', async () => {
    const dirId = await mkdir(ROOT, 'Many');
    for (let i = 0; i < 250; i++) await put(dirId, `f${String(i).padStart(3, '0')}.txt`, String(i));
    const { page, close } = await openFolder(dirId);
    try {
      // the listing's requests, from a fresh load of the folder (once the first load has asked for all its pages)
      await row(page, 'f000.txt').waitFor();
      await page.getByText('Showing', { exact: false }).waitFor({ state: 'detached', timeout: 30_000 });
      const asked: string[] = [];
      page.on('request', (r) => { if (r.method() === 'GET' && r.url().includes(`/files/${dirId}?`)) asked.push(decodeURIComponent(new URL(r.url()).search)); });
      // the later pages: POST /files/_find after the last name listed (one URL for every page: one preflight)
      const after: string[] = [];
      page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/files/_find')) after.push((r.postDataJSON() as { selector: { name: { $gt: string } } }).selector.name.$gt); });
      // the rows the listing's first render drew (seen once that render's changes are done), and the frame after the
      // app's first render (an effect runs after it)
      await page.addInitScript(`window.firstRows = null; window.firstFrame = null; new MutationObserver(() => {
        if (window.firstFrame === null && document.querySelector('header.appbar')) {
          window.firstFrame = 0;
          requestAnimationFrame(() => { window.firstFrame = performance.now(); });
        }
        const n = document.querySelectorAll('[role=grid] [role=row][data-file-id]').length;
        if (window.firstRows === null && n > 0) window.firstRows = n;
      }).observe(document, { childList: true, subtree: true });`);
      await page.reload();
      await row(page, 'f000.txt').waitFor();
      await page.getByText('Showing', { exact: false }).waitFor({ state: 'detached', timeout: 30_000 });
      expect(asked[0]).toMatch(/^\?page\[limit\]=50$/);
      expect(asked).toEqual(['?page[limit]=50']);
      expect(after).toEqual(['f049.txt', 'f149.txt']);
      // the first page is asked for by the app's first render, not after its first frame
      const [frame, firstPage] = await page.evaluate(`[window.firstFrame,
        performance.getEntriesByType('resource').find((r) => /page(%5B|\\[)limit(%5D|\\])=50/.test(r.name))?.startTime]`) as [number, number];
      expect(frame).toBeGreaterThan(0);
      expect(firstPage).toBeLessThan(frame);
      // a screen of rows first (12), then 12 more at a time while the screen is not full; nothing below it until the
      // person scrolls (the old code drew 40 rows whatever the screen), then 200 more each time the end comes near
      expect(await page.evaluate('window.firstRows')).toBe(12);
      const rows = page.locator('[role=grid] [role=row][data-file-id]');
      await pageUntil(page, `document.querySelector('.sentinel')?.getBoundingClientRect().top >= innerHeight`);
      const onScreen = await rows.count();
      expect(onScreen % 12).toBe(0);
      expect(onScreen).toBeLessThan(40);
      // the rows before the last 12 did not fill the screen
      if (onScreen > 12) expect(await page.evaluate(`document.querySelectorAll('[role=grid] [role=row][data-file-id]')[${onScreen - 13}].getBoundingClientRect().bottom < innerHeight`)).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      expect(await rows.count()).toBe(onScreen);
      // a row is a few elements: its icons use the listing's symbols (lucide's own svg made 19 elements a text file's row)
      expect(await page.evaluate(`Math.max(...[...document.querySelectorAll('[role=grid] [role=row][data-file-id]')].map((r) => r.querySelectorAll('*').length + 1))`)).toBeLessThanOrEqual(14);
      await rows.last().scrollIntoViewIfNeeded();
      const next = `f${String(onScreen + 199).padStart(3, '0')}.txt`;
      await row(page, next).waitFor();
      expect(await rows.count()).toBe(onScreen + 200);
      await rows.last().scrollIntoViewIfNeeded();
      await row(page, 'f249.txt').waitFor();
      expect(await rows.count()).toBe(250);

      // another folder's later pages need no preflight of their own (its `links.next`, a cursor each, needed one each)
      const other = await mkdir(ROOT, 'Many more');
      for (let i = 0; i < 60; i++) await put(other, `g${String(i).padStart(3, '0')}.txt`, String(i));
      const cdp = await page.context().newCDPSession(page);
      const preflights: string[] = [];
      cdp.on('Network.requestWillBeSent', (e) => { if (e.initiator.type === 'preflight' && e.request.url.includes('/files/')) preflights.push(decodeURIComponent(e.request.url)); });
      await cdp.send('Network.enable');
      await page.evaluate(`location.hash = ${JSON.stringify(`#/folder/${other}`)}`);
      await row(page, 'g000.txt').waitFor();
      await page.getByText('Showing', { exact: false }).waitFor({ state: 'detached', timeout: 30_000 });
      expect(after.at(-1)).toBe('g049.txt');
      expect(preflights).toEqual([expect.stringMatching(new RegExp(`/files/${other}\\?page\\[limit\\]=50$`))]);
      await cdp.detach();
      await page.evaluate(`location.hash = ${JSON.stringify(`#/folder/${dirId}`)}`);
      await row(page, 'f000.txt').waitFor();
      await page.getByText('Showing', { exact: false }).waitFor({ state: 'detached', timeout: 30_000 });
      after.length = 0;

      // the first page is asked for by the page's early script, while the bundle is still on its way (held here until
      // the request is seen, 5 s at most), and the app uses that response: the folder's first page is asked for once
      let seen = (): void => undefined;
      const firstAsked = new Promise<void>((resolve) => { seen = resolve; });
      let heldUntilAsked = false;
      page.on('request', (r) => { if (r.method() === 'GET' && r.url().includes(`/files/${dirId}?`) && /page(%5B|\[)limit(%5D|\])=50$/.test(r.url())) seen(); });
      await page.route(/\/main\.[0-9a-f]+\.js$/, async (route) => {
        heldUntilAsked = await Promise.race([firstAsked.then(() => true), new Promise<boolean>((resolve) => { setTimeout(() => resolve(false), 5000); })]);
        await route.continue();
      });
      asked.length = 0;
      await page.reload();
      await row(page, 'f000.txt').waitFor();
      await page.getByText('Showing', { exact: false }).waitFor({ state: 'detached', timeout: 30_000 });
      expect(heldUntilAsked).toBe(true);
      expect(asked.filter((q) => q === '?page[limit]=50')).toHaveLength(1);
      expect(asked).toHaveLength(1);
      expect(after).toEqual(['f049.txt', 'f149.txt']);
    } finally {
      await close();
    }
  }, 180_000);

  it('opens the Preview, Versions and Share views from their routes, over the folder, and goes back to the folder on close', async () => {
    const dirId = await mkdir(ROOT, 'Views');
    const id = await put(dirId, 'read.txt', 'read me');
    const { page, close } = await openFolder(dirId);
    try {
      await page.locator('.crumbs h1', { hasText: 'Views' }).waitFor();
      await row(page, 'read.txt').dblclick();
      await page.waitForURL(new RegExp(`#/folder/${dirId}/file/${id}$`));
      await page.getByRole('dialog').waitFor();
      await page.keyboard.press('Escape');
      await page.waitForURL(new RegExp(`#/folder/${dirId}$`));
      await row(page, 'read.txt').click({ button: 'right' });
      await page.getByRole('menu').getByRole('menuitem', { name: 'Versions…' }).click();
      await page.waitForURL(new RegExp(`#/file/${id}/versions$`));
      await page.getByRole('dialog').waitFor();
      await row(page, 'read.txt').waitFor();
      await page.keyboard.press('Escape');
      await page.waitForURL(new RegExp(`#/folder/${dirId}$`));
      await row(page, 'read.txt').click();
      await page.getByRole('toolbar', { name: 'Actions on the selection' }).getByRole('button', { name: 'Share…' }).click();
      await page.waitForURL(new RegExp(`#/file/${id}/share$`));
      await page.getByRole('dialog').waitFor();
      await page.keyboard.press('Escape');
      await page.waitForURL(new RegExp(`#/folder/${dirId}$`));
      // a file the open listing does not hold (a link from elsewhere) is read by itself
      await page.evaluate(`location.hash = ${JSON.stringify(`#/folder/${ROOT}/file/${id}`)}`);
      await page.getByRole('dialog', { name: 'read.txt' }).waitFor();
      await page.keyboard.press('Escape');
      await page.waitForURL(new RegExp(`#/folder/${ROOT}$`));
    } finally {
      await close();
    }
  }, 120_000);

  it('leaves the Preview\'s route on Escape when the page had no click since the last Escape (a link to a file: Chromium then closes the dialog without a cancel event)', async () => {
    const dirId = await mkdir(ROOT, 'Linked');
    const id = await put(dirId, 'linked.txt', 'opened by a link');
    const { page, close } = await openFolder(dirId);
    try {
      // a preview opened by a double click and closed by Escape: that Escape uses the page's user activation up
      await row(page, 'linked.txt').dblclick();
      await page.getByRole('dialog', { name: 'linked.txt' }).waitFor();
      await page.keyboard.press('Escape');
      await page.waitForURL(new RegExp(`#/folder/${dirId}$`));
      // then the same preview opened by a link, with no click since: Escape must still leave its route
      for (let i = 0; i < 2; i++) {
        await page.evaluate(`location.hash = ${JSON.stringify(`#/folder/${dirId}/file/${id}`)}`);
        await page.getByRole('dialog', { name: 'linked.txt' }).waitFor();
        await page.keyboard.press('Escape');
        await page.waitForURL(new RegExp(`#/folder/${dirId}$`));
        await page.getByRole('dialog').waitFor({ state: 'detached' });
      }
      // an Escape the browser does nothing with (an untrusted event: no cancel, no close, as Chromium's close-watcher
      // sometimes does with a real key): the page closes the Preview and the shared Dialog all the same
      const escape = `document.activeElement.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))`;
      await page.evaluate(`location.hash = ${JSON.stringify(`#/folder/${dirId}/file/${id}`)}`);
      await page.getByRole('dialog', { name: 'linked.txt' }).waitFor();
      await page.evaluate(escape);
      await page.waitForURL(new RegExp(`#/folder/${dirId}$`));
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await row(page, 'linked.txt').click();
      await page.keyboard.press('F2');
      const named = page.getByRole('dialog', { name: 'Rename' });
      await named.getByLabel('Name').waitFor();
      expect(await page.evaluate('document.activeElement?.closest("dialog") !== null')).toBe(true);
      await page.evaluate(escape);
      await named.waitFor({ state: 'detached' });
    } finally {
      await close();
    }
  }, 60_000);
});
