/**
 * Drive in the browser tests: a drop of real files and folders from the disk (Chromium's DevTools protocol
 * `Input.dispatchDragEvent` with file paths: the page gets a drop as from the desktop, with DataTransferItem entries
 * for folders), rows by name, and a zip's entries read by Python's zipfile (an independent reader).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';

/** Drops `paths` (files or folders on this machine) onto the middle of `target`, as a person dragging them from the desktop. */
export async function dropFromDisk(page: Page, target: Locator, paths: string[]): Promise<void> {
  const box = await target.boundingBox();
  if (!box) throw new Error('drop target not visible');
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  const cdp = await page.context().newCDPSession(page);
  const data = { items: [], files: paths, dragOperationsMask: 1 };
  try {
    await cdp.send('Input.dispatchDragEvent', { type: 'dragEnter', x, y, data });
    await cdp.send('Input.dispatchDragEvent', { type: 'dragOver', x, y, data });
    await cdp.send('Input.dispatchDragEvent', { type: 'drop', x, y, data });
  } finally {
    await cdp.detach();
  }
}

/** The row (list) or tile (grid) of the file named `name`. */
export function row(page: Page, name: string): Locator {
  const exact = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  return page.locator('[role=grid] [role=row][data-file-id]').filter({ has: page.locator('.fname', { hasText: exact }) });
}

/** A zip's entry names, as Python's zipfile lists them (after checking every entry's CRC). */
export function zipEntries(bytes: Buffer): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'drive-zip-')), 'a.zip');
  writeFileSync(file, bytes);
  const py = 'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint(json.dumps(sorted(z.namelist())))';
  return JSON.parse(execFileSync('python3', ['-c', py, file], { encoding: 'utf8' })) as string[];
}

/**
 * Waits until `expression` is true in the page. Evaluated through the DevTools protocol, which the app's CSP does
 * not govern (waitForFunction's string form is an eval, refused by it).
 */
export async function pageUntil(page: Page, expression: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate(expression))) {
    if (Date.now() > end) throw new Error(`not true after ${timeoutMs} ms in the page: ${expression}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
