import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { appDir, ownerCookie } from '../../../test/helpers/apps.js';
import { DEFAULTS } from '../../config/schema.js';
import { StackAssets, type PinnedExternals } from './assets.js';

let h: TestHearth;
beforeAll(async () => {
  const app = appDir({ 'index.html': '<head>{{.CozyBar}}{{.CozyClientJS}}{{.CozyFonts}}{{.ThemeCSS}}{{.Favicon}}</head><img src="{{.DefaultWallpaper}}">' }, { slug: 'drive' });
  h = await startTestHearth({ apps: { ...DEFAULTS.apps, devDirs: `drive:${app}` } });
});
afterAll(() => h.close());

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('stack assets', () => {
  it('serves cozy-bar and cozy-client-js from their pinned packages, as checked by the build', async () => {
    const pinned = JSON.parse(readFileSync('src/apps/assets/externals.json', 'utf8')) as { files: Array<{ asset: string; package: string; version: string; path: string; sha256: string }> };
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };
    for (const f of pinned.files) {
      expect(pkg.dependencies[f.package]).toBe(f.version);
      const res = await h.req('GET', `/assets/${f.asset}`);
      expect(res.status).toBe(200);
      expect(sha(readFileSync(join('node_modules', f.package, f.path)))).toBe(f.sha256);
      expect(sha(res.text)).toBe(sha(readFileSync(join('node_modules', f.package, f.path), 'utf8')));
    }
    expect(spawnSync(process.execPath, ['scripts/check-externals.mjs']).status).toBe(0);
  });

  it('refuses to load a file whose sha256 is not the pinned one', () => {
    const pinned = JSON.parse(readFileSync('src/apps/assets/externals.json', 'utf8')) as PinnedExternals;
    pinned.files[0]!.sha256 = '0'.repeat(64);
    expect(() => new StackAssets(pinned).get('robots.txt')).toThrow(/is not the pinned 7\.26\.0 with sha256 0{64}/);
  });

  it('points every asset variable of an app page at a served asset: hashed names immutable, the theme and the icons', async () => {
    const { cookie } = await ownerCookie(h, h.instance);
    const page = await h.req('GET', '/', { host: `drive.${h.domain}`, headers: { cookie } });
    const urls = [...page.text.matchAll(/(?:href|src)="\/\/([^"]+)"/g)].map((m) => m[1]!);
    expect(urls.length).toBe(11);
    for (const url of urls) {
      expect(url.startsWith(`${h.domain}/assets/`)).toBe(true);
      const res = await h.req('GET', url.slice(h.domain.length));
      expect([url, res.status]).toEqual([url, 200]);
      if (/\.[0-9a-f]{16}\./.test(url)) expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      const again = await h.req('GET', url.slice(h.domain.length), { headers: { 'if-none-match': String(res.headers.etag) } });
      expect(again.status).toBe(304);
    }
    const fonts = await h.req('GET', '/assets/fonts/fonts.css');
    expect(fonts.headers['content-type']).toBe('text/css; charset=utf-8');
    const font = /url\((lato-latin-400-normal\.[0-9a-f]{16}\.woff2)\)/.exec(fonts.text)![1]!;
    const woff2 = await h.req('GET', `/assets/fonts/${font}`);
    expect([woff2.status, woff2.headers['content-type']]).toEqual([200, 'font/woff2']);
    expect((await h.req('GET', '/assets/styles/theme.css')).text).toContain('--');
    expect((await h.req('GET', '/assets/nope.js')).status).toBe(404);
  });

  it('answers robots.txt and security.txt on the instance host', async () => {
    expect((await h.req('GET', '/robots.txt')).text).toBe('User-agent: *\nDisallow: /\n');
    expect((await h.req('GET', '/security.txt')).text).toMatch(/^Contact: .+\nExpires: \d{4}-/);
  });
});
