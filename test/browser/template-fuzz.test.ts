/**
 * Fuzzing the index template's escaping in Chromium: whatever a value holds, rendered in HTML text, an attribute, a
 * `<script>` (as a JS value and inside a JS string) and a URL attribute, the browser reads back exactly that value, and
 * nothing of it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser.js';
import { parseTemplate, renderTemplate } from '../../src/apps/serve/template.js';

const TEMPLATE = parseTemplate(`<!doctype html><html><head><title>{{.V}}</title></head><body>
<p id="text">{{.V}}</p><div id="attr" title="{{.V}}" data-v={{.V}}></div><a id="url" href="/s?q={{.V}}">q</a><a id="url2" href="{{.V}}">r</a>
<script>window.value = {{.V}}; window.str = "{{.V}}"; window.sq = '{{.V}}';</script><div id="end"></div></body></html>`);

const PIECES = ['</script>', '<script>', 'alert(1)', '"', "'", '<', '>', '&', '`', '\\', '\n', '\u2028', '/', '-->', '<!--', 'javascript:', ' ', '=', 'a', 'é', '${x}', '}}', '{{', '&amp;', '<b>', '</p>', '\t', '?#'];
const value = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((a) => a.join('')),
  fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/[\r\0]/g, '')),
);

let browser: Browser;
let page: Page;
beforeAll(async () => {
  browser = await launchBrowser();
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
});

describe('the template escaping, fuzzed in Chromium', () => {
  it('reads every value back unchanged and runs none of it', async () => {
    await fc.assert(fc.asyncProperty(value, async (v) => {
      await page.setContent(`<script>window.alerts = 0; window.alert = () => { window.alerts += 1; };</script>${renderTemplate(TEMPLATE, { V: v })}`);
      const got = await page.evaluate<Record<string, unknown>>(`({
        alerts: window.alerts, scripts: document.scripts.length, bold: document.querySelectorAll('b').length, end: !!document.getElementById('end'),
        title: document.title, text: document.getElementById('text').textContent, attr: document.getElementById('attr').title,
        unquoted: document.getElementById('attr').dataset.v, value: window.value, str: window.str, sq: window.sq,
        q: new URL(document.getElementById('url').getAttribute('href'), 'http://x.test/').searchParams.get('q'), href: document.getElementById('url2').getAttribute('href'),
      })`);
      expect(got).toMatchObject({ alerts: 0, scripts: 2, bold: 0, end: true, text: v, attr: v, unquoted: v, value: v, str: v, sq: v, q: v });
      expect(got.title).toBe(v.replace(/[\t\n\f ]+/g, ' ').replace(/^ | $/g, ''));
      expect(String(got.href)).not.toMatch(/[<>"'\s]|^javascript:/i);
    }), { numRuns: 150 });
  });
});
