/**
 * Drive in Chromium: a large file goes through a resumable upload session; paused midway (the third chunk held on
 * its way, then aborted by the pause), it resumes from the server's offset, and a network failure under a chunk
 * sends that chunk again: the session's history, kept by the server, shows every byte range sent once, and the file's
 * MD5 is right. Sent again, it meets its name taken and is kept under the next name.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILES_DOCTYPE } from '../../src/files/types.js';
import type { UploadSession } from '../../src/files/upload-sessions.js';
import { launchBrowser } from '../helpers/browser.js';
import { openApp, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';
import { dropFromDisk, row } from '../helpers/webapps-drive.js';

const MiB = 1024 * 1024;
let w: WebappsHearth;
let browser: Browser;
const disk = mkdtempSync(join(tmpdir(), 'drive-resume-'));

beforeAll(async () => {
  [w, browser] = await Promise.all([startWithWebapps({ label: 'resume', slugs: ['drive'] }), launchBrowser()]);
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await w?.close();
  rmSync(disk, { recursive: true, force: true });
});

/** The upload sessions of the instance, read from the server's store (whoever owns them). */
async function sessions(): Promise<UploadSession[]> {
  const store = w.h.hearth.storeOf(w.instance);
  const index = (await store.getLocal(FILES_DOCTYPE, 'upload-sessions').catch(() => ({ sessions: {} }))).sessions as Record<string, string>;
  return Promise.all(Object.keys(index).map(async (id) => (await store.getLocal(FILES_DOCTYPE, `upload-session-${id}`)).session as unknown as UploadSession));
}

describe('Drive: a paused large upload', () => {
  it('resumes from the server\'s offset: the bytes sent after the pause are only the rest', async () => {
    const big = randomBytes(22 * MiB + 123);
    writeFileSync(join(disk, 'video.bin'), big);
    const { context, page, errors } = await openApp(browser, w, 'drive');
    try {
      await page.locator('[role=grid], .empty').first().waitFor({ timeout: 30_000 });
      // chunks pass until the third one, which is held until the pause aborts it
      let patches = 0;
      let held: (() => void) | null = null;
      const heldChunk = new Promise<void>((r) => (held = r));
      let release: (() => void) | null = null;
      const released = new Promise<void>((r) => (release = r));
      const hold = async (route: Route) => {
        if (route.request().method() === 'PATCH' && ++patches === 3) {
          held!();
          await released;
        }
        await route.continue().catch(() => undefined);
      };
      await page.route('**/files/uploads/**', hold);
      await dropFromDisk(page, page.locator('main .page'), [join(disk, 'video.bin')]);
      const panel = page.getByRole('region', { name: 'Uploads' });
      await heldChunk;
      await panel.getByRole('button', { name: 'Pause the uploads' }).click();
      await panel.getByText('Paused: 0 of 1 done').waitFor();
      release!();
      await page.unroute('**/files/uploads/**', hold);

      const [paused] = await sessions();
      expect(paused?.offset).toBe(16 * MiB);
      expect(paused?.file_id).toBeUndefined();
      // the total progress keeps what the server holds
      expect(Number(await panel.locator('progress.up-total').getAttribute('value'))).toBeGreaterThanOrEqual(Math.floor((100 * 16 * MiB) / big.length));

      // after the resume, the network fails once under the first chunk: it is sent again
      let failed = 0;
      const failOnce = async (route: Route) => {
        if (route.request().method() === 'PATCH' && failed++ === 0) await route.abort('connectionreset');
        else await route.continue();
      };
      await page.route('**/files/uploads/**', failOnce);
      await panel.getByRole('button', { name: 'Resume the uploads' }).click();
      await panel.getByText('Uploads: 1 of 1 done').waitFor({ timeout: 60_000 });
      await row(page, 'video.bin').waitFor();
      await page.unroute('**/files/uploads/**', failOnce);
      expect(failed).toBeGreaterThan(1);
      const [done] = await sessions();
      expect(done?.file_id).toBeTruthy();
      const ranges = done!.history.map((x) => [x.offset, x.bytes]);
      const after = ranges.filter(([offset]) => offset! >= paused!.offset);
      // after the pause: the rest only, each byte once
      expect(after.reduce((n, [, bytes]) => n + bytes!, 0)).toBe(big.length - 16 * MiB);
      expect(ranges).toEqual([[0, 8 * MiB], [8 * MiB, 8 * MiB], [16 * MiB, 6 * MiB + 123]]);
      const file = await w.api('GET', `/files/${done!.file_id}`, await w.token('io.cozy.files'));
      expect(file.body.data.attributes).toMatchObject({ name: 'video.bin', size: String(big.length), md5sum: createHash('md5').update(big).digest('base64') });

      // the same file again: the name is taken when its session opens; "Keep both" sends it under the next name
      await dropFromDisk(page, page.locator('main .page'), [join(disk, 'video.bin')]);
      await panel.getByText('"video.bin" already exists in this folder.').waitFor({ timeout: 30_000 });
      await panel.getByRole('button', { name: 'Keep both' }).click();
      await row(page, 'video (2).bin').waitFor({ timeout: 30_000 });
      const list = await w.api('GET', `/files/metadata?Path=${encodeURIComponent('/video (2).bin')}`, await w.token('io.cozy.files'));
      expect(list.body.data.attributes.md5sum).toBe(createHash('md5').update(big).digest('base64'));
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);
});
