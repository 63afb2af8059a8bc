/**
 * The built-in apps' lazy components (webapps/shared/lazy.tsx) in Chromium: a component whose code arrives between its
 * first render (Loading) and that render's effect, because another instance or a prefetch loaded it meanwhile, must
 * render the component, not stay on Loading. CI saw Drive's Preview stuck on "Loading…" that way under load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from '../helpers/browser.js';

const ENTRY = `
import { render } from 'preact';
import { lazy } from './webapps/shared/lazy';
import { BootContext } from './webapps/shared/components';
let resolve;
const Lazy = lazy(() => new Promise((r) => { resolve = r; }));
const Shown = () => <p class="shown">the component</p>;
const one = document.getElementById('one');
const two = document.getElementById('two');
// what Loading reads of the app's boot: its text
const boot = { t: (key) => key };
const app = () => <BootContext.Provider value={boot}><Lazy /></BootContext.Provider>;
window.step1 = () => render(app(), one);
// the second instance renders (Loading) and, before its effect runs, the code arrives (the first instance asked for it)
window.step2 = async () => {
  render(app(), two);
  resolve(Shown);
  await Promise.resolve();
};
`;

let browser: Browser;
let script: string;
const dir = mkdtempSync(join(tmpdir(), 'hearth-lazy-'));

beforeAll(async () => {
  const out = await build({
    stdin: { contents: ENTRY, loader: 'tsx', resolveDir: process.cwd(), sourcefile: 'lazy-entry.tsx' },
    bundle: true, write: false, format: 'iife', jsx: 'automatic', jsxImportSource: 'preact', outdir: dir,
    define: { 'process.env.NODE_ENV': '"production"' }, logLevel: 'silent',
  });
  script = out.outputFiles.find((f) => f.path.endsWith('.js'))!.text;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('lazy components', () => {
  it('render once their code is there, even when it came between their first render and its effect', async () => {
    const page = await browser.newPage();
    try {
      await page.setContent('<div id="one"></div><div id="two"></div>');
      await page.addScriptTag({ content: script });
      await page.evaluate('window.step1()');
      // the first instance's effect has asked for the code
      await page.locator('#one [role=status]').waitFor({ timeout: 5_000 });
      await page.waitForTimeout(100);
      await page.evaluate('window.step2()');
      await page.locator('#one .shown').waitFor({ timeout: 5_000 });
      await page.locator('#two .shown').waitFor({ timeout: 5_000 });
      expect(await page.locator('[role=status]').count()).toBe(0);
    } finally {
      await page.close();
    }
  });
});
