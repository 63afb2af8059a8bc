/**
 * Time to the first rows of a listing: from the navigation's start (the page's time origin) to the first frame after
 * `n` elements with a `data-file-id` attribute are in the document. Measured in the page: a MutationObserver installed
 * before any of its scripts runs (through the DevTools protocol, which the page's CSP does not govern) notes
 * `performance.now()` in the next animation frame; the bench only polls for that number. Each run is a new browser
 * context (empty cache) with the session of `state`.
 */
import type { Browser, BrowserContextOptions } from 'playwright-core';

type StorageState = Exclude<BrowserContextOptions['storageState'], undefined | string>;

const observer = (n: number) => `(() => {
  const seen = () => {
    if (document.querySelectorAll('[data-file-id]').length < ${n}) return;
    obs.disconnect();
    requestAnimationFrame(() => setTimeout(() => { window.__firstRows = performance.now(); }, 0));
  };
  const obs = new MutationObserver(seen);
  obs.observe(document, { childList: true, subtree: true });
})();`;

/** Thrown when the page never shows `n` rows: `<what> shows no [data-file-id] row` (or too few), never a hang. */
export class NoRows extends Error {}

export async function firstRows(browser: Browser, state: StorageState, url: string, opts: { n: number; what: string; timeoutMs: number; viewport?: { width: number; height: number } }): Promise<number> {
  const context = await browser.newContext({ storageState: state, viewport: opts.viewport ?? { width: 1280, height: 800 } });
  try {
    await context.addInitScript(observer(opts.n));
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'commit', timeout: opts.timeoutMs });
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      const at = await page.evaluate('window.__firstRows');
      if (typeof at === 'number') return at;
      if (Date.now() > deadline) {
        const rows = Number(await page.evaluate('document.querySelectorAll("[data-file-id]").length'));
        throw new NoRows(rows === 0
          ? `${opts.what} shows no [data-file-id] row after ${opts.timeoutMs / 1000} s`
          : `${opts.what} shows ${rows} [data-file-id] rows after ${opts.timeoutMs / 1000} s, fewer than the ${opts.n} measured`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await context.close();
  }
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
