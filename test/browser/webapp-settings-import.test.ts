/**
 * The Settings app's import page in Chromium, keyboard only at phone width: a link with no export behind it says so
 * (412) and an instance too small for it (413), then the real link is checked, the replacement confirmed, the browser lands on the waiting page, and the
 * export (served by a tiny server speaking the contract's two GET routes, test/helpers/move-archive.ts) is imported.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { expectAccessible } from '../helpers/a11y.js';
import { startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { openSection } from '../helpers/webapps-settings.js';
import { dir, doc, file, instanceEntry, startExportServer, writeZip, type ExportServer } from '../helpers/move-archive.js';

let w: WebappsHearth;
let browser: Browser;
let server: ExportServer;
let work: string;
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'hearth-settings-import-'));
  const zip = join(work, 'part0.zip');
  await writeZip(zip, [
    instanceEntry(),
    doc('io.cozy.notes.things', { _id: 'imported-note', _rev: '2-a', title: 'from the other Cozy' }),
    dir('io.cozy.files.root-dir', '/', ''),
    dir('dir-docs', '/Documents', 'io.cozy.files.root-dir'),
    ...file('file-a', '/Documents', 'dir-docs', 'a.txt', 'hello from the export'),
  ]);
  [w, browser, server] = await Promise.all([
    startWithWebapps({ label: 'settingsimport', slugs: ['settings'], config: { imports: { allowPrivateUrls: true } } }),
    launchBrowser(),
    startExportServer([zip]),
  ]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  await w?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('Settings: import', () => {
  it('refuses a link without an export (412) and an export too big for the quota (413), then imports the real one after the confirmation, keyboard only on a phone', async () => {
    await w.h.hearth.storeOf(w.instance).put('io.cozy.notes.things', { _id: 'before', x: 1 });
    const { context, page, errors } = await openSection(browser, w, '#/import', { viewport: { width: 390, height: 844 }, hasTouch: true });
    try {
      await page.getByRole('heading', { name: 'Import', level: 1 }).waitFor();
      const input = page.getByLabel('Export link');
      await input.focus();
      await page.keyboard.type(server.link.replace('TESTMAC_1', 'NOTHING_HERE'));
      await page.keyboard.press('Enter');
      await page.getByText('There is no finished export at this link, or it has expired').waitFor();
      await expectAccessible(page, 'import, link refused');

      // the real link on an instance too small for the export (1000 bytes): 413, said as such
      await w.h.hearth.registry.modify(w.domain, { diskQuota: 10 });
      await input.focus();
      await page.keyboard.press('ControlOrMeta+a');
      await page.keyboard.type(server.link);
      await page.keyboard.press('Enter');
      await page.getByText('There is not enough space on this Hearth for this export').waitFor();
      await w.h.hearth.registry.modify(w.domain, { diskQuota: null });

      await input.focus();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'This export can be imported' }).waitFor();
      const start = page.getByRole('button', { name: 'Replace my data and import' });
      expect(await start.isDisabled()).toBe(true);
      await expectAccessible(page, 'import, confirmation');
      // nothing replaced before the confirmation
      expect(await w.h.hearth.moveStates.get(w.instance.id)).toBeNull();
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.type')).toBe('checkbox');
      await page.keyboard.press('Space');
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.textContent')).toBe('Replace my data and import');
      const visited: string[] = [];
      page.on('framenavigated', (f) => { if (f === page.mainFrame()) visited.push(f.url()); });
      await page.keyboard.press('Enter');

      await page.waitForURL((u) => u.host === w.domain, { timeout: 60_000 });
      const store = w.h.hearth.storeOf(w.instance);
      const end = Date.now() + 120_000;
      while (!(await store.get('io.cozy.notes.things', 'imported-note').catch(() => null)) || (await w.h.hearth.moveStates.get(w.instance.id))) {
        if (Date.now() > end) throw new Error(`the import did not end: ${JSON.stringify(server.served)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await store.get('io.cozy.notes.things', 'imported-note')).toMatchObject({ title: 'from the other Cozy' });
      await expect(store.get('io.cozy.notes.things', 'before')).rejects.toThrow();
      const fs = w.h.hearth.vfs.fs;
      const content = Buffer.concat(await (await fs.open(w.instance, await fs.stat(w.instance, 'file-a'))).toArray()).toString();
      expect(content).toBe('hello from the export');
      // the tab went to the waiting page, which sent it on (login, or the home of a still logged-in browser) once the import was over
      expect(visited[0]).toBe(`http://${w.domain}/move/importing`);
      await page.waitForURL((u) => u.host === w.domain && u.pathname !== '/move/importing', { timeout: 60_000 });
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 300_000);
});
