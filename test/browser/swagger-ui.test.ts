/**
 * Swagger UI on the admin port in a real browser (Debian's headless Chromium through playwright-core):
 * with the admin passphrase (its refusal without it is in src/ops/openapi.test.ts), it loads its own scripts and styles under the page's Content-Security-
 * Policy (no violation, no request leaves the admin origin) and renders the public API's operations.
 * The screenshot lands in test-results/screenshots/swagger-ui.png.
 */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { TAGS } from '../../src/ops/openapi.js';

let h: TestHearth;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  h = await startTestHearth();
  await h.hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
  origin = `http://127.0.0.1:${(h.hearth.adminApp.server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

describe('Swagger UI', () => {
  it('renders the public API under its CSP, loading nothing from elsewhere', async () => {
    const context = await browser.newContext({ httpCredentials: { username: 'admin', password: 'admin-secret' } });
    const page = await context.newPage();
    const violations: string[] = [];
    const elsewhere: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) elsewhere.push(r.url());
    });
    await page.goto(`${origin}/docs/`);
    await page.getByText('Hearth public API').first().waitFor({ timeout: 20_000 });
    // Swagger UI renders the sections as they scroll into view: scroll to the end, noting what was shown
    // (no waitForFunction: the page's CSP refuses eval, as it should)
    const tags = new Set<string>();
    const paths = new Set<string>();
    await expect.poll(async () => {
      for (const t of await page.locator('.opblock-tag').allTextContents()) tags.add(t);
      // paths are broken with zero-width spaces
      for (const p of await page.locator('.opblock-summary-path').allTextContents()) paths.add(p.replace(/\u200b/g, ''));
      await page.mouse.wheel(0, 400);
      return TAGS.every((tag) => [...tags].some((shown) => shown.startsWith(tag.name)));
    }, { timeout: 50_000, interval: 20 }).toBe(true);
    expect([...paths]).toEqual(expect.arrayContaining(['/status', '/data/{doctype}/{docid}', '/files/{id}', '/jobs/triggers', '/dav/files/{path}']));
    await page.mouse.wheel(0, -1_000_000);
    await screenshot(page, 'swagger-ui');
    expect(violations).toEqual([]);
    expect(elsewhere).toEqual([]);
    await context.close();
  });
});
