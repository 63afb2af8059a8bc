/**
 * `{{.Warnings}}`, `{{.Tracking}}` and `{{.ContextName}}` of app pages and their routes on a real server: the latest terms
 * of service (admin API) warn the owner from 30 days before their date until signed (PUT /settings/instance/sign_tos);
 * the settings document's `tracking`; the instance's context (admin API).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { appDir, ownerCookie } from '../../test/helpers/apps.js';
import { DEFAULTS } from '../config/schema.js';
import { parseTosVersion, tosDeadline } from '../instances/context.js';
import { listWarnings, warningsHtml } from './warnings.js';

const auth = { authorization: `Basic ${Buffer.from('admin:admin-secret').toString('base64')}` };
const INDEX = '<html><head><title>t</title></head><body><p id="t">{{.Tracking}}</p><p id="c">{{.ContextName}}</p><div data-cozy="{{.CozyData}}"></div></body></html>';
const day = (offset: number) => new Date(Date.now() + offset * 24 * 3600 * 1000).toISOString().slice(0, 10).replace(/-/g, '');
let h: TestHearth;
let owner = '';

beforeAll(async () => {
  h = await startTestHearth({
    apps: { ...DEFAULTS.apps, devDirs: `drive:${appDir({ 'index.html': INDEX }, { slug: 'drive' })}` },
    settings: { ...DEFAULTS.settings, tosLink: 'https://terms.example.org/tos?domain={domain}' },
  });
  owner = (await ownerCookie(h, h.instance)).cookie;
});
afterAll(() => h.close());

const admin = (method: 'PATCH' | 'POST', url: string, payload: Record<string, unknown>) => h.hearth.adminApp.inject({ method, url, headers: auth, payload });
const page = async () => (await h.req('GET', '/', { host: `drive.${h.domain}`, headers: { cookie: owner } })).text;
const setTerms = async (fields: Record<string, unknown>) => expect((await admin('PATCH', `/instances/${encodeURIComponent(h.domain)}`, fields)).statusCode).toBe(200);

describe('terms of service and {{.Warnings}}', () => {
  it('reads terms versions and their deadline as cozy-stack does', () => {
    expect(parseTosVersion('1.2.3-20270115')).toEqual({ major: 1, date: new Date(Date.UTC(2027, 0, 15)) });
    expect(parseTosVersion('v2.0.0')).toEqual({ major: 2, date: null });
    expect(parseTosVersion('20270115')).toEqual({ major: 1, date: new Date(Date.UTC(2027, 0, 15)) });
    expect(parseTosVersion('nope')).toBeNull();
    const now = Date.UTC(2027, 0, 1);
    expect(tosDeadline({ tosSigned: null, tosLatest: '2.0.0-20270201' }, now)).toBe('none'); // 31 days ahead
    expect(tosDeadline({ tosSigned: null, tosLatest: '2.0.0-20270125' }, now)).toBe('warning');
    expect(tosDeadline({ tosSigned: '1.0.0-20260101', tosLatest: '2.0.0-20270125' }, now)).toBe('warning');
    expect(tosDeadline({ tosSigned: '2.0.0-20270125', tosLatest: '2.0.0-20270125' }, now)).toBe('none');
    expect(tosDeadline({ tosSigned: null, tosLatest: '2.0.0-20261201' }, now)).toBe('blocked');
    expect(tosDeadline({ tosSigned: null, tosLatest: '2.0.0' }, now)).toBe('none'); // no date: nothing to warn about
  });

  it('warns the owner from 30 days before the latest terms until they are signed: the page\'s meta and GET /settings/warnings', async () => {
    const token = await h.cliToken('io.cozy.settings');
    expect((await h.req('GET', '/settings/warnings', { token })).status).toBe(404);
    expect(await page()).not.toContain('user-action-required');

    await setTerms({ tos_signed: '1.0.0-20200101', tos_latest: `2.0.0-${day(60)}` });
    expect((await h.req('GET', '/settings/warnings', { token })).status).toBe(404);

    await setTerms({ tos_latest: `2.0.0-${day(10)}` });
    const warned = await h.req('GET', '/settings/warnings', { token });
    expect(warned.status).toBe(402);
    // linked to the terms page of settings.tosLink, for this instance (cozy-stack: its manager's terms page)
    const link = `https://terms.example.org/tos?domain=${encodeURIComponent(h.domain)}`;
    expect(JSON.parse(warned.text)).toEqual({ errors: [{ status: '402', title: 'TOS Updated', code: 'tos-updated', detail: 'Terms of services have been updated', links: { self: link } }] });
    const html = await page();
    expect(html).toContain(`<meta name="user-action-required" data-title="TOS Updated" data-code="tos-updated" data-detail="Terms of services have been updated" data-links="${link}" /></head>`);
    expect((await h.req('GET', '/settings/instance', { token })).body.data.attributes).toMatchObject({ tos: '1.0.0-20200101', tos_latest: `2.0.0-${day(10)}` });

    // only an OAuth client or the CLI signs (cozy-stack); an app token cannot
    const app = await h.hearth.appToken(h.instance, 'drive');
    await h.hearth.perms.grantApp(h.instance, 'drive', 'io.cozy.settings');
    const byApp = await h.req('PUT', '/settings/instance/sign_tos', { token: app.token, headers: { cookie: `cozysessid=${app.session_cookie}` } });
    expect(byApp.status, byApp.text).toBe(403);
    expect((await h.req('PUT', '/settings/instance/sign_tos')).status).toBe(401);
    expect((await h.req('PUT', '/settings/instance/sign_tos', { token })).status).toBe(204);
    expect((await h.req('GET', '/settings/warnings', { token })).status).toBe(404);
    expect(await page()).not.toContain('user-action-required');
  });

  it('writes no warning for a visitor, and escapes what it writes', () => {
    const terms = { ...h.instance, locale: 'fr', tosSigned: null, tosLatest: `1.0.0-${day(-1)}` };
    const w = listWarnings(terms, null);
    expect(w).toEqual([{ status: '402', title: 'TOS Updated', code: 'tos-updated', detail: 'Les conditions générales d\'utilisation ont été mises à jour' }]);
    expect(warningsHtml(w, false)).toBe('');
    expect(warningsHtml(w, true)).toContain('data-detail="Les conditions générales d&#39;utilisation ont été mises à jour" />');
    const linked = warningsHtml(listWarnings(terms, 'https://t.example/"><script>?d={domain}'), true);
    expect(linked).toContain(`data-links="https://t.example/&#34;&gt;&lt;script&gt;?d=${encodeURIComponent(h.domain)}" />`);
  });

  it('refuses terms versions and context names that are not ones (400)', async () => {
    const url = `/instances/${encodeURIComponent(h.domain)}`;
    for (const body of [{ tos_latest: '2.0' }, { tos_signed: '<script>' }, { context_name: '../etc' }, { context_name: 'a/b' }, { context_name: '' }]) {
      expect([body, (await admin('PATCH', url, body)).statusCode]).toEqual([body, 400]);
    }
  });
});

describe('{{.Tracking}} and {{.ContextName}}', () => {
  it('follows the settings document\'s tracking, as PUT /settings/instance sets it', async () => {
    const token = await h.cliToken('io.cozy.settings');
    expect(await page()).toContain('<p id="t">false</p>');
    const read = async () => (await h.req('GET', '/settings/instance', { token })).body.data;
    const put = (tracking: unknown, rev: string) => h.req('PUT', '/settings/instance', { token, body: { data: { type: 'io.cozy.settings', id: 'io.cozy.settings.instance', meta: { rev }, attributes: { tracking } } }, headers: { 'content-type': 'application/vnd.api+json' } });
    expect((await read()).attributes.tracking).toBe('false');
    expect((await put('maybe', (await read()).meta.rev)).status).toBe(400);
    const done = await put('true', (await read()).meta.rev);
    expect(done.status, done.text).toBe(200);
    expect(done.body.data.attributes.tracking).toBe('true');
    const html = await page();
    expect(html).toContain('<p id="t">true</p>');
    expect(html).toContain('&#34;tracking&#34;:true');
    expect((await put(false, (await read()).meta.rev)).status).toBe(200);
    expect(await page()).toContain('<p id="t">false</p>');
  });

  it('names the instance\'s context, default unless the admin API set one', async () => {
    expect(await page()).toContain('<p id="c">default</p>');
    await setTerms({ context_name: 'beta_users' });
    expect(await page()).toContain('<p id="c">beta_users</p>');
    const token = await h.cliToken('io.cozy.settings');
    expect((await h.req('GET', '/settings/instance', { token })).body.data.attributes.context).toBe('beta_users');
    const created = await admin('POST', '/instances', { domain: 'ctx.example.org', context_name: 'partner' });
    expect(created.json().data.attributes).toMatchObject({ context_name: 'partner', tos_signed: null, tos_latest: null });
    expect((await h.hearth.registry.get('ctx.example.org'))?.contextName).toBe('partner');
  });
});
