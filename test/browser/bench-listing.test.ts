/**
 * The built-in apps' benchmark (bench/webapps.bench.ts) measures the time to a listing's first rows with
 * bench/webapps-listing.ts: on the bench's bare page, it gives the in-page time of the rows; on a page that shows no row
 * (or too few) it fails with a message naming the page, after its timeout, instead of hanging. No timing is asserted.
 */
import type { Browser, BrowserContextOptions } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';
import { openApp } from '../helpers/webapps.js';
import { NoRows, firstRows } from '../../bench/webapps-listing.js';
import { ROOT_DIR, create, folderOf, startBenchInstance, type BenchInstance } from '../../bench/webapps-setup.js';

let b: BenchInstance;
let browser: Browser;
let state: Exclude<BrowserContextOptions['storageState'], undefined | string>;
beforeAll(async () => {
  [b, browser] = await Promise.all([startBenchInstance({ label: 'benchlisting' }), launchBrowser()]);
  const login = await openApp(browser, b.w, 'bare');
  state = await login.context.storageState();
  await login.context.close();
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await b?.close();
});

describe('time to the first rows (bench/webapps-listing.ts)', () => {
  it('on the bare page, gives the page time at which the first rows of the folder were there', async () => {
    const dir = await folderOf(b, ROOT_DIR, 'twenty-five', 25, 4);
    const at = await firstRows(browser, state, b.w.appUrl('bare', `#${dir}`), { n: 20, what: 'the bare page', timeoutMs: 60_000 });
    expect(Number.isFinite(at) && at > 0).toBe(true);
  });

  it('fails clearly, without hanging, when the page shows no row', async () => {
    const empty = await create(b, ROOT_DIR, 'empty');
    const run = firstRows(browser, state, b.w.appUrl('bare', `#${empty}`), { n: 20, what: 'the bare page', timeoutMs: 3_000 });
    await expect(run).rejects.toThrow(NoRows);
    await expect(run).rejects.toThrow('the bare page shows no [data-file-id] row after 3 s');
  });

  it('says how many rows it saw when there are fewer than it waits for', async () => {
    const dir = await folderOf(b, ROOT_DIR, 'three', 3, 1);
    await expect(firstRows(browser, state, b.w.appUrl('bare', `#${dir}`), { n: 20, what: 'the bare page', timeoutMs: 3_000 }))
      .rejects.toThrow('the bare page shows 3 [data-file-id] rows after 3 s, fewer than the 20 measured');
  });
});
