/**
 * Drive in Chromium: copying a whole folder (beside it and into another folder, never into itself; its progress, the
 * quota's refusal, a cancel), and revoking from
 * Shared links a link that another app made on a file.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { row } from '../helpers/webapps-drive.js';
import { ROOT_DIR, mkdirOn, uploadOn } from '../helpers/webapps-drive-views.js';

let w: WebappsHearth;
let browser: Browser;
let token: string;

beforeAll(async () => {
  [w, browser] = await Promise.all([startWithWebapps({ label: 'folders', slugs: ['drive'] }), launchBrowser()]);
  token = await w.token('io.cozy.files');
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
});

interface Item { id: string; attributes: { name: string; type: string } }
/** Every path below a folder (folders end with "/"), with each file's content. */
async function treeOf(id: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const res = await w.api('GET', `/files/${id}?page[limit]=100`, token);
  for (const c of res.body.included as Item[]) {
    const path = `${prefix}${c.attributes.name}`;
    if (c.attributes.type === 'directory') Object.assign(out, { [`${path}/`]: '' }, await treeOf(c.id, `${path}/`));
    else out[path] = (await w.api('GET', `/files/download/${c.id}`, token)).text;
  }
  return out;
}
async function childId(dirId: string, name: string): Promise<string | undefined> {
  return ((await w.api('GET', `/files/${dirId}?page[limit]=100`, token)).body.included as Item[]).find((c) => c.attributes.name === name)?.id;
}

async function openFolder(dirId: string): ReturnType<typeof openApp> {
  const opened = await openApp(browser, w, 'drive');
  await opened.page.locator('header.appbar').waitFor({ timeout: 30_000 });
  await opened.page.evaluate(`location.hash = ${JSON.stringify(`#/folder/${dirId}`)}`);
  await opened.page.locator('[role=grid], .empty').first().waitFor({ timeout: 30_000 });
  return opened;
}

describe('Drive: copying folders', () => {
  it('copies a folder with its subfolders and files into another folder and beside itself; the folder itself cannot be the target', async () => {
    const top = await mkdirOn(w, token, ROOT_DIR, 'Work');
    const album = await mkdirOn(w, token, top.id, 'Album');
    await uploadOn(w, token, album.id, 'a.txt', 'alpha', 'text/plain');
    const deep = await mkdirOn(w, token, album.id, 'Deep');
    await uploadOn(w, token, deep.id, 'b.txt', 'beta', 'text/plain');
    await mkdirOn(w, token, top.id, 'Archive');
    const want = { 'a.txt': 'alpha', 'Deep/': '', 'Deep/b.txt': 'beta' };
    const { context, page, errors } = await openFolder(top.id);
    try {
      await row(page, 'Album').click({ button: 'right' });
      await page.getByRole('menu').getByRole('menuitem', { name: 'Copy…' }).click();
      const copier = page.getByRole('dialog', { name: 'Copy 1 item to…' });
      await copier.waitFor();
      // the folder being copied cannot be opened as the target (a copy into itself)
      expect(await copier.getByRole('button', { name: 'Album' }).isDisabled()).toBe(true);
      await expectAccessible(page, 'the copy dialog of a folder');
      await copier.getByRole('button', { name: 'Archive' }).click();
      await copier.getByText('Archive', { exact: true }).first().waitFor();
      await copier.getByRole('button', { name: 'Copy here' }).click();
      await copier.waitFor({ state: 'detached' });
      await page.getByText('1 item copied.').waitFor({ timeout: 30_000 });
      const archive = (await childId(top.id, 'Archive'))!;
      const inArchive = await childId(archive, 'Album');
      expect(inArchive).toBeDefined();
      expect(await treeOf(inArchive!)).toEqual(want);

      // beside itself: "Album (copy)", shown in the open folder
      await row(page, 'Album').click({ button: 'right' });
      await page.getByRole('menu').getByRole('menuitem', { name: 'Copy…' }).click();
      await copier.getByRole('button', { name: 'Copy here' }).click();
      await row(page, 'Album (copy)').waitFor({ timeout: 30_000 });
      // the copy is made as "Album (copy) (incomplete copy)" and renamed once whole; its contents are checked all the same
      const copy = (await childId(top.id, 'Album (copy)'))!;
      for (let i = 0; i < 300 && !isDeepStrictEqual(await treeOf(copy), want); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await treeOf(copy)).toEqual(want);
      expect(await treeOf(album.id)).toEqual(want);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});

describe('Drive: a folder copy with its progress', () => {
  it('refuses a copy that would not fit with the quota message, shows the progress dialog of one that fits, and cancels one', async () => {
    const top = await mkdirOn(w, token, ROOT_DIR, 'Copies');
    const trip = await mkdirOn(w, token, top.id, 'Trip');
    await uploadOn(w, token, trip.id, 'a.txt', 'a'.repeat(300), 'text/plain');
    await uploadOn(w, token, (await mkdirOn(w, token, trip.id, 'Day')).id, 'b.txt', 'b'.repeat(200), 'text/plain');
    const want = { 'a.txt': 'a'.repeat(300), 'Day/': '', 'Day/b.txt': 'b'.repeat(200) };
    const { context, page, errors } = await openFolder(top.id);
    const copyHere = async () => {
      await row(page, 'Trip').click({ button: 'right' });
      await page.getByRole('menu').getByRole('menuitem', { name: 'Copy…' }).click();
      const picker = page.getByRole('dialog', { name: 'Copy 1 item to…' });
      await picker.getByRole('button', { name: 'Copy here' }).click();
      await picker.waitFor({ state: 'detached' });
    };
    try {
      const used = Number((await w.api('GET', '/settings/disk-usage', await w.token('io.cozy.settings'))).body.data.attributes.used);
      await w.h.hearth.registry.modify(w.domain, { diskQuota: used + 100 });
      try {
        await copyHere();
        await page.getByText('There is not enough space left. (the copy needs 500 bytes (2 files) and only 100 bytes are left of the quota: free some space or copy less)').waitFor({ timeout: 30_000 });
      } finally {
        await w.h.hearth.registry.modify(w.domain, { diskQuota: null });
      }
      expect(await childId(top.id, 'Trip (copy)')).toBeUndefined();

      // the copy's request held back a moment, to see the dialog; then a copy cancelled before it is sent
      let hold: 'answer' | 'cancel' = 'answer';
      let release!: () => void;
      await page.route((u) => u.pathname.endsWith('/copy'), async (route) => {
        if (hold === 'cancel') {
          await new Promise<void>((resolve) => { release = resolve; });
          await route.abort().catch(() => undefined);
          return;
        }
        await new Promise<void>((resolve) => { release = resolve; });
        await route.continue();
      });
      await copyHere();
      const dialog = page.getByRole('dialog', { name: 'Copying 1 item…' });
      await dialog.waitFor();
      await dialog.getByRole('progressbar', { name: 'Progress of the copy of Trip' }).waitFor();
      await expectAccessible(page, 'the progress of a folder copy');
      release();
      await dialog.waitFor({ state: 'detached', timeout: 30_000 });
      await page.getByText('1 item copied.').waitFor({ timeout: 30_000 });
      const copy = await childId(top.id, 'Trip (copy)');
      expect(copy).toBeDefined();
      expect(await treeOf(copy!)).toEqual(want);

      hold = 'cancel';
      await copyHere();
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await page.getByText('Copy cancelled: the folder being copied was not kept.').waitFor({ timeout: 30_000 });
      release();
      expect(await dialog.count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});

describe('Drive: links made by other apps', () => {
  it('lists a link another app made on a file, says which app, and revokes it', async () => {
    const f = await uploadOn(w, token, ROOT_DIR, 'minutes.txt', 'the minutes', 'text/plain');
    await w.h.hearth.perms.grantApp(w.instance, 'notes', 'io.cozy.files');
    const notes = await w.h.hearth.appToken(w.instance, 'notes');
    const made = await w.api('POST', '/permissions?codes=email', notes.token, {
      data: { type: 'io.cozy.permissions', attributes: { permissions: { files: { type: 'io.cozy.files', verbs: ['GET'], values: [f.id] } } } },
    }, { cookie: `cozysessid=${notes.session_cookie}` });
    expect(made.status).toBe(201);
    const code = made.body.data.attributes.codes.email as string;
    expect((await w.api('GET', `/files/download/${f.id}`, code)).text).toBe('the minutes');
    const { context, page, errors } = await openApp(browser, w, 'drive');
    try {
      await page.locator('header.appbar').waitFor({ timeout: 30_000 });
      await page.evaluate(`location.hash = '#/links'`);
      const link = page.locator('main ul.links-list > li', { hasText: 'minutes.txt' });
      await link.waitFor({ timeout: 30_000 });
      await link.getByText('Made by the app notes').waitFor();
      await expectAccessible(page, 'the links view with a link of another app');
      await link.getByRole('button', { name: /^Revoke the link / }).click();
      await page.getByText('You have not shared anything by link.').waitFor({ timeout: 30_000 });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
    expect((await w.api('GET', `/files/download/${f.id}`, code)).status).toBe(400);
    expect((await w.api('GET', `/permissions/${made.body.data.id}`, await w.token('io.cozy.permissions'))).status).toBe(404);
  }, 120_000);
});
