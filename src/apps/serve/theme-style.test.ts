/**
 * `{{.ThemeStyle}}` (params.ts): the instance theme inline in the page, so that its first paint waits for no stylesheet
 * of the stack's origin, then the theme.css link with `media="print"` (not render-blocking; the page switches it on,
 * and a theme change reloads it). It follows the theme as it changes; `{{.ThemeCSS}}` stays cozy-stack's plain link.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { appDir, ownerCookie } from '../../../test/helpers/apps.js';
import { DEFAULTS } from '../../config/schema.js';

let h: TestHearth;
let cookie: string;
const host = () => `themed.${h.domain}`;

beforeAll(async () => {
  const themed = appDir({ 'index.html': '<!doctype html><html><head>{{.ThemeStyle}}\n{{.ThemeCSS}}</head><body>{{.AppName}}</body></html>' }, { slug: 'themed', name: 'Themed' });
  h = await startTestHearth({ apps: { ...DEFAULTS.apps, devDirs: `themed:${themed}` } });
  ({ cookie } = await ownerCookie(h, h.instance));
});
afterAll(() => h.close());

const page = async () => {
  const res = await h.req('GET', '/', { host: host(), headers: { cookie } });
  expect(res.status).toBe(200);
  return res;
};

describe('{{.ThemeStyle}}', () => {
  it('inlines the theme, then links theme.css for print; the CSP allows the inline style; {{.ThemeCSS}} is unchanged', async () => {
    const res = await page();
    const css = `//${h.domain}/assets/styles/theme.css`;
    const style = /<style>([^<]*)<\/style>\n<link rel="stylesheet" type="text\/css" href="([^"]+)" media="print">\n<link rel="stylesheet" type="text\/css" href="([^"]+)">/.exec(res.text);
    expect(style, res.text).not.toBeNull();
    expect(style![1]).toContain('--primaryColor: #1d4ed8;');
    expect(style![1]).toContain('@media (prefers-color-scheme: dark)');
    expect([style![2], style![3]]).toEqual([css, css]);
    // the inline copy is the stylesheet the link serves
    const served = await h.req('GET', '/assets/styles/theme.css');
    expect(style![1]).toBe(served.text);
    expect(String(res.headers['content-security-policy'])).toMatch(/style-src 'unsafe-inline' /);
  });

  it('follows the theme when it changes', async () => {
    const token = await h.cliToken('io.cozy.settings');
    const put = await h.req('PUT', '/settings/theme', { token, body: { colors: { primary: '#aa0011' }, font_family: 'Lato, sans-serif' } });
    expect(put.status).toBe(200);
    const changed = await page();
    expect(changed.text).toContain('--primaryColor: #aa0011;');
    expect(changed.text).toContain('--primaryFont: "Lato", sans-serif;');
    expect((await h.req('DELETE', '/settings/theme', { token })).status).toBe(204);
    expect((await page()).text).toContain('--primaryColor: #1d4ed8;');
  });
});
