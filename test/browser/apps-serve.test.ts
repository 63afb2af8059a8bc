/**
 * App pages in Chromium: the template's contextual escaping keeps hostile values inert in the four contexts (with the CSP
 * off, so that only the escaping protects the page), and the app CSP blocks a foreign script, an inline script and a
 * foreign frame (read from the console's CSP violations).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { launchBrowser } from '../helpers/browser.js';
import { appDir, ownerCookie } from '../helpers/apps.js';
import { DEFAULTS } from '../../src/config/schema.js';

const EVIL = '</script><script>alert(1)</script>"\'<b>&amp;';
const ESCAPING = `<!doctype html><html><head><title>t</title></head><body>
<p id="text">{{.AppName}}</p>
<div id="attr" title="{{.AppName}}" data-locale="{{.Locale}}" data-cozy="{{.CozyData}}"></div>
<a id="url" href="/search?q={{.AppName}}">q</a><a id="url2" href="{{.AppName}}">r</a>
<script>window.name_ = {{.AppName}}; window.locale_ = {{.Locale}}; window.flags_ = {{.Flags}}; window.str_ = '{{.AppName}}';</script>
</body></html>`;
const CSP_PAGE = (foreign: string) => `<!doctype html><html><head><script src="/watch.js"></script></head><body>
<script>window.inlineRan = true;</script>
<script src="${foreign}/assets/js/cozy-client.min.js"></script>
<iframe src="${foreign}/"></iframe>
<script src="/own.js"></script></body></html>`;

let h: TestHearth;
let csp: TestHearth;
let browser: Browser;

beforeAll(async () => {
  const evil = appDir({ 'index.html': ESCAPING }, { slug: 'evil', name: EVIL });
  const apps = { ...DEFAULTS.apps, devDirs: `evil:${evil}`, cspDisabled: true };
  [h, browser] = await Promise.all([startTestHearth({ apps, settings: { ...DEFAULTS.settings, flags: JSON.stringify({ evil: EVIL }) } }), launchBrowser()]);
  h.instance = await h.hearth.registry.modify(h.domain, { locale: EVIL });
  const watched = appDir({
    'index.html': CSP_PAGE('http://127.0.0.1:1'),
    'watch.js': "window.violations = []; document.addEventListener('securitypolicyviolation', (e) => window.violations.push(e.effectiveDirective));",
    'own.js': 'window.ownRan = true;',
  }, { slug: 'watched' });
  csp = await startTestHearth({ apps: { ...DEFAULTS.apps, devDirs: `watched:${watched}` } });
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await csp?.close();
});

async function openApp(t: TestHearth, slug: string) {
  const context = await browser.newContext();
  const { cookie } = await ownerCookie(t, t.instance);
  const [name, value] = cookie.split('=') as [string, string];
  await context.addCookies([{ name, value, domain: `${slug}.localhost`, path: '/' }]);
  const page = await context.newPage();
  const dialogs: string[] = [];
  const console: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (m) => console.push(m.text()));
  const res = await page.goto(`http://${slug}.localhost:${t.port}/`);
  return { context, page, dialogs, console, status: res?.status() };
}

describe('app pages in Chromium', () => {
  it('keep a hostile app name, locale and flag inert in text, attribute, script and URL', async () => {
    const { context, page, dialogs, status } = await openApp(h, 'evil');
    try {
      expect(status).toBe(200);
      expect(dialogs).toEqual([]);
      expect(await page.evaluate<number>('document.scripts.length')).toBe(1);
      expect(await page.evaluate<string>("document.getElementById('text').textContent")).toBe(EVIL);
      expect(await page.evaluate<string>("document.getElementById('attr').title")).toBe(EVIL);
      expect(await page.evaluate<string>("document.getElementById('attr').dataset.locale")).toBe(EVIL);
      const data = JSON.parse(await page.evaluate<string>("document.getElementById('attr').dataset.cozy")) as { locale: string; app: { name: string }; flags: { evil: string } };
      expect([data.locale, data.app.name, data.flags.evil]).toEqual([EVIL, EVIL, EVIL]);
      expect(await page.evaluate<string>('window.name_')).toBe(EVIL);
      expect(await page.evaluate<string>('window.str_')).toBe(EVIL);
      expect(await page.evaluate<string>('window.locale_')).toBe(EVIL);
      expect(JSON.parse(await page.evaluate<string>('window.flags_'))).toEqual({ evil: EVIL });
      expect(await page.evaluate<string>("new URL(document.getElementById('url').href).searchParams.get('q')")).toBe(EVIL);
      expect(await page.evaluate<string>("document.getElementById('url2').getAttribute('href')")).not.toMatch(/[<>"]/);
      expect(await page.evaluate<number>("document.querySelectorAll('b').length")).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('block a script from another origin, an inline script and a frame of a foreign origin with the CSP', async () => {
    const { context, page, console } = await openApp(csp, 'watched');
    try {
      await page.waitForFunction('window.ownRan === true');
      await page.waitForFunction('window.violations.length >= 3');
      expect(await page.evaluate<boolean>('window.inlineRan === true')).toBe(false);
      expect((await page.evaluate<string[]>('window.violations')).sort()).toEqual(['frame-src', 'script-src-elem', 'script-src-elem']);
      const cspLines = console.filter((l) => l.includes('Content Security Policy'));
      expect(cspLines.some((l) => l.includes('inline script'))).toBe(true);
      expect(cspLines.some((l) => l.includes('http://127.0.0.1:1/assets/js/cozy-client.min.js'))).toBe(true);
      expect(cspLines.some((l) => l.includes('frame') && l.includes('http://127.0.0.1:1/'))).toBe(true);
    } finally {
      await context.close();
    }
  });
});
