/**
 * Per-context stack assets on a real server: an instance of context A gets A's version of an asset, one of the default
 * context the default's (or the built-in one), removing falls back; pages link to the override by its hashed name;
 * hostile names and sources are refused; `hearth assets add|ls|rm` drive the admin API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { appDir, ownerCookie } from '../../../test/helpers/apps.js';
import { captureStdio } from '../../../test/helpers/stdio.js';
import { DEFAULTS } from '../../config/schema.js';
import { main } from '../../main.js';

const auth = { authorization: `Basic ${Buffer.from('admin:admin-secret').toString('base64')}` };
const dir = mkdtempSync(join(tmpdir(), 'hearth-assets-'));
const file = (name: string, content: string) => {
  writeFileSync(join(dir, name), content);
  return pathToFileURL(join(dir, name)).href;
};
let h: TestHearth;
const io = captureStdio();

beforeAll(async () => {
  h = await startTestHearth({ apps: { ...DEFAULTS.apps, devDirs: `drive:${appDir({ 'index.html': '<html><head>{{.CozyFonts}}{{.ThemeCSS}}<!--style-->{{.ThemeStyle}}</head><body></body></html>' }, { slug: 'drive' })}` } });
  h.instance = await h.hearth.registry.modify(h.domain, { contextName: 'partner' });
});
afterAll(() => h.close());

const admin = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: Record<string, unknown>) => h.hearth.adminApp.inject({ method, url, headers: auth, ...(payload ? { payload } : {}) });
const add = async (context: string | undefined, name: string, content: string) => {
  const res = await admin('POST', '/assets', { ...(context ? { context } : {}), name, url: file(`${context ?? 'default'}-${name.replace(/\W/g, '_')}`, content) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data;
};
const get = (path: string, host = h.domain, headers: Record<string, string> = {}) => h.req('GET', path, { host, headers });

describe('per-context stack assets', () => {
  it('serves the instance\'s context\'s version first, then the default context\'s, and falls back when removed', async () => {
    expect((await get('/assets/images/logo.svg')).status).toBe(404);
    const a = await add('partner', '/images/logo.svg', '<svg id="partner"/>');
    expect(a).toMatchObject({ context: 'partner', name: '/images/logo.svg', size: 19, type: 'image/svg+xml' });
    const mine = await get('/assets/images/logo.svg');
    expect([mine.status, mine.text, mine.headers['content-type'], mine.headers['cache-control']]).toEqual([200, '<svg id="partner"/>', 'image/svg+xml', 'public, max-age=3600']);
    expect((await get('/assets/images/logo.svg', h.domain, { 'if-none-match': String(mine.headers.etag) })).status).toBe(304);
    expect((await get('/assets/images/logo.svg', h.otherDomain)).status).toBe(404); // the other instance is of the default context

    await add(undefined, '/images/logo.svg', '<svg id="default"/>');
    expect((await get('/assets/images/logo.svg', h.otherDomain)).text).toBe('<svg id="default"/>');
    expect((await get('/assets/images/logo.svg')).text).toBe('<svg id="partner"/>');

    expect((await admin('DELETE', '/assets?context=partner&name=/images/logo.svg')).statusCode).toBe(204);
    expect((await get('/assets/images/logo.svg')).text).toBe('<svg id="default"/>');
    expect((await admin('DELETE', '/assets?name=%2Fimages%2Flogo.svg')).statusCode).toBe(204);
    expect((await get('/assets/images/logo.svg')).status).toBe(404);
    expect((await admin('DELETE', '/assets?name=/images/logo.svg')).statusCode).toBe(404);
  });

  it('serves a context\'s favicon.ico at the root /favicon.ico too, and the built-in one elsewhere and once removed', async () => {
    const builtin = await get('/favicon.ico');
    expect([builtin.status, builtin.headers['content-type'], builtin.headers['cache-control']]).toEqual([200, 'image/x-icon', 'public, max-age=86400']);
    await add('partner', '/favicon.ico', 'partner-icon');
    for (const path of ['/favicon.ico', '/assets/favicon.ico']) {
      const mine = await get(path);
      expect([mine.status, mine.text]).toEqual([200, 'partner-icon']);
      expect(mine.headers['content-type']).toMatch(/^image\/(x-icon|vnd\.microsoft\.icon)/);
      expect((await get(path, h.domain, { 'if-none-match': String(mine.headers.etag) })).status).toBe(304);
    }
    expect((await get('/favicon.ico', h.otherDomain)).headers.etag).toBe(builtin.headers.etag);
    expect((await admin('DELETE', '/assets?context=partner&name=/favicon.ico')).statusCode).toBe(204);
    expect((await get('/favicon.ico')).headers.etag).toBe(builtin.headers.etag);
  });

  it('replaces a built-in asset (theme CSS, fonts) for its context only, and the pages link to it by its hashed name', async () => {
    const builtinFonts = (await get('/assets/fonts/fonts.css')).text;
    await add('partner', '/fonts/fonts.css', '@font-face{font-family:Partner}');
    await add('partner', '/styles/theme.css', ':root{--primaryColor:#123456}');
    expect((await get('/assets/styles/theme.css')).text).toBe(':root{--primaryColor:#123456}');
    expect((await get('/assets/styles/theme.css', h.otherDomain)).text).not.toContain('#123456');
    expect((await get('/assets/fonts/fonts.css', h.otherDomain)).text).toBe(builtinFonts);

    const { cookie } = await ownerCookie(h, h.instance);
    const page = (await h.req('GET', '/', { host: `drive.${h.domain}`, headers: { cookie } })).text;
    const fonts = /href="\/\/[^/]+\/assets\/(fonts\/fonts\.[0-9a-f]{16}\.css)"/.exec(page)![1]!;
    const hashed = await get(`/assets/${fonts}`);
    expect([hashed.text, hashed.headers['cache-control']]).toEqual(['@font-face{font-family:Partner}', 'public, max-age=31536000, immutable']);
    expect(page).toMatch(/href="\/\/[^/]+\/assets\/styles\/theme\.[0-9a-f]{16}\.css"/);
    // {{.ThemeStyle}} does not inline the instance's theme over the context's stylesheet: the override alone, blocking
    const style = page.slice(page.indexOf('<!--style-->'));
    expect(style).not.toContain('<style>');
    expect(style).toMatch(/^<!--style--><link rel="stylesheet" type="text\/css" href="\/\/[^/]+\/assets\/styles\/theme\.[0-9a-f]{16}\.css"><\/head>/);

    await add('partner', '/fonts/fonts.css', '@font-face{font-family:Partner2}');
    const again = (await h.req('GET', '/', { host: `drive.${h.domain}`, headers: { cookie } })).text;
    const next = /href="\/\/[^/]+\/assets\/(fonts\/fonts\.[0-9a-f]{16}\.css)"/.exec(again)![1]!;
    expect(next).not.toBe(fonts);
    expect((await get(`/assets/${next}`)).text).toBe('@font-face{font-family:Partner2}');
    expect((await get(`/assets/${fonts}`)).status).toBe(404); // the replaced version is gone with its blob
  });

  it('refuses names that could leave /assets/, bad contexts and sources (400)', async () => {
    const url = file('x.txt', 'x');
    for (const name of ['../x', '/images/../../etc/passwd', 'a\\b', '', '/', '%2e%2e/x', 'a//b', '.hidden', '/images/a b.png']) {
      const res = await admin('POST', '/assets', { name, url });
      expect([name, res.statusCode]).toEqual([name, 400]);
    }
    for (const context of ['../x', 'a/b', '']) expect((await admin('POST', '/assets', { context, name: '/x.txt', url })).statusCode).toBe(400);
    for (const bad of ['ftp://example.org/x', 'file:///nonexistent/x.svg', 'not a url']) expect((await admin('POST', '/assets', { name: '/x.txt', url: bad })).statusCode).toBe(400);
    expect((await admin('DELETE', '/assets?name=../x')).statusCode).toBe(400);
    expect((await admin('GET', '/assets')).json().data.every((a: { name: string }) => !a.name.includes('..'))).toBe(true);
  });

  it('is driven by hearth assets add|ls|rm (--json, --help)', async () => {
    await h.hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
    const base = ['--admin-url', `http://127.0.0.1:${(h.hearth.adminApp.server.address() as AddressInfo).port}`, '--admin-passphrase', 'admin-secret'];
    writeFileSync(join(dir, 'cli-logo.png'), 'png bytes');
    expect(await main(['assets', 'add', '--context', 'partner', '--name', '/images/cli.png', '--url', join(dir, 'cli-logo.png'), '--json', ...base], {})).toBe(0);
    expect(JSON.parse(io.stdout)).toMatchObject({ context: 'partner', name: '/images/cli.png', size: 9, type: 'image/png' });
    expect((await get('/assets/images/cli.png')).text).toBe('png bytes');
    io.stdout = '';
    expect(await main(['assets', 'ls', '--context', 'partner', ...base], {})).toBe(0);
    expect(io.stdout).toMatch(/partner\s+\/images\/cli\.png\s+9 B\s+image\/png/);
    expect(await main(['assets', 'rm', '--context', 'partner', '--name', '/images/cli.png', ...base], {})).toBe(0);
    io.stdout = '';
    expect(await main(['assets', 'ls', '--context', 'partner', '--json', ...base], {})).toBe(0);
    expect((JSON.parse(io.stdout) as Array<{ name: string }>).map((a) => a.name)).not.toContain('/images/cli.png');
    expect(await main(['assets', 'add', '--context', '../x', '--name', '/a.png', '--url', 'x', ...base], {})).toBe(2);
    io.stdout = '';
    expect(await main(['assets', 'add', '--help'], {})).toBe(0);
    expect(io.stdout).toMatch(/--context <name>[\s\S]*Examples:/);
  });
});
