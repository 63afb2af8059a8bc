/** The instance theme on a real server: CSS variables without a token, set by the owner, strictly validated. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { CSS as LOGIN_CSS } from '../auth/login-page.js';
import { DEFAULT_THEME } from './theme.js';
import { openWs } from '../../test/helpers/ws.js';
import { SESSION_COOKIE } from '../auth/sessions.js';
import { mayHearOpenEvent, THEME_EVENTS_DOCTYPE } from '../permissions/open-events.js';

let h: TestHearth;
let token = '';
beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.settings');
});
afterAll(() => h.close());

const css = (host = h.domain, headers: Record<string, string> = {}) => h.req('GET', '/settings/theme.css', { host, headers });
const putTheme = (attributes: unknown, opts: { token?: string; headers?: Record<string, string> } = { token }) =>
  h.req('PUT', '/settings/theme', { ...opts, body: { data: { type: 'io.cozy.settings', attributes } } });

describe('GET /settings/theme.css', () => {
  it('serves the defaults, the colours of Hearth\'s own pages, as cozy-ui variables, without a token', async () => {
    const res = await css();
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, no-cache');
    expect(res.text).toContain('--primaryColor: #1d4ed8;');
    expect(res.text).toContain('--defaultBackgroundColor: #f4f5f7;');
    expect(res.text).toContain('--fontFamily: system-ui, sans-serif;');
    expect(res.text).toMatch(/@media \(prefers-color-scheme: dark\) \{\n {2}:root \{\n {4}--primaryColor: #9db8ff;/);
    for (const c of [DEFAULT_THEME.colors.primary, DEFAULT_THEME.colors.background, DEFAULT_THEME.colors.text, DEFAULT_THEME.colors.border, DEFAULT_THEME.colors.error]) {
      expect(LOGIN_CSS).toContain(c);
    }
    expect((await css(h.domain, { 'if-none-match': String(res.headers.etag) })).status).toBe(304);
  });
});

describe('PUT /settings/theme', () => {
  it('sets colours and a font for this instance only; GET /settings/theme shows the effective theme; DELETE resets it', async () => {
    const before = await css();
    const res = await putTheme({ colors: { primary: '#AA3300', paper: '#fafafa' }, dark_colors: { primary: '#ffcc00' }, font_family: 'Lato, "Open Sans", sans-serif' });
    expect(res.status).toBe(200);
    expect(res.body.data.attributes).toMatchObject({ colors: { primary: '#aa3300', paper: '#fafafa', text: '#1d2330' }, dark_colors: { primary: '#ffcc00' }, font_family: '"Lato", "Open Sans", sans-serif' });
    const after = await css();
    expect(after.text).toContain('--primaryColor: #aa3300;');
    expect(after.text).toContain('--paperBackgroundColor: #fafafa;');
    expect(after.text).toContain('--primaryColor: #ffcc00;');
    expect(after.text).toContain('--fontFamily: "Lato", "Open Sans", sans-serif;');
    expect(after.text).toContain('--primaryFont: "Lato", "Open Sans", sans-serif;');
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect((await css(h.domain, { 'if-none-match': String(before.headers.etag) })).status).toBe(200);
    expect((await css(h.otherDomain)).text).toBe(before.text);
    const got = await h.req('GET', '/settings/theme', { token: await h.cliToken('io.cozy.files:GET') });
    expect(got.body.data).toMatchObject({ id: 'io.cozy.settings.theme', attributes: { colors: { primary: '#aa3300' } }, meta: { defaults: DEFAULT_THEME } });
    await h.restart();
    expect((await css()).text).toBe(after.text);
    expect((await h.req('DELETE', '/settings/theme', { token })).status).toBe(204);
    expect((await css()).text).toBe(before.text);
  });

  it('refuses anything that could leave its value in the stylesheet, and keeps the theme as it was', async () => {
    expect((await putTheme({ colors: { primary: '#112233' } })).status).toBe(200);
    const good = (await css()).text;
    const hostile: unknown[] = [
      { colors: { primary: '#fff;}body{background:url(//evil.example/x)}' } },
      { colors: { primary: 'red' } }, { colors: { primary: '#fff\n}' } }, { colors: { primary: 'expression(alert(1))' } },
      { colors: { primary: '#12345' } }, { colors: { primary: 123 } }, { colors: { primary: 'rgb(0,0,0)' } },
      { colors: { 'primary;}x{': '#fff' } }, { colors: ['#fff'] }, { dark_colors: { text: '#fff /* */' } },
      { font_family: 'Lato; } body { display:none' }, { font_family: 'Lato", x' }, { font_family: 'Lato</style><script>' },
      { font_family: 'url(https://evil.example/)' }, { font_family: '\\41 x' }, { font_family: '' }, { font_family: 'a,'.repeat(20) + 'b' },
      { background_image: 'url(x)' },
    ];
    for (const attributes of hostile) {
      const res = await putTheme(attributes);
      expect(res.status, JSON.stringify(attributes)).toBe(400);
      expect(res.body.errors[0].detail).toMatch(/colour|font|theme setting|object/);
    }
    expect((await css()).text).toBe(good);
    expect(good).not.toMatch(/url\(|expression|<|\\/);
  });

  it('needs PUT on the whole io.cozy.settings type or the owner\'s session from the instance\'s pages', async () => {
    const theme = { colors: { primary: '#000000' } };
    expect((await putTheme(theme, {})).status).toBe(401);
    expect((await putTheme(theme, { token: await h.cliToken('io.cozy.files') })).status).toBe(403);
    expect((await putTheme(theme, { token: await h.cliToken('io.cozy.settings:GET') })).status).toBe(403);
    expect((await putTheme(theme, { token: await h.cliToken('io.cozy.settings', h.other) })).status).toBe(400);
    expect((await h.req('DELETE', '/settings/theme', { token: await h.cliToken('io.cozy.settings:GET') })).status).toBe(403);
    await h.hearth.perms.grantApp(h.instance, 'settings', 'io.cozy.settings');
    const cookie = `cozysessid=${(await h.hearth.appToken(h.instance, 'settings')).session_cookie}`;
    expect((await putTheme(theme, { headers: { cookie, origin: `http://evil.localhost:${h.port}` } })).status).toBe(403);
    expect((await putTheme(theme, { headers: { cookie } })).status).toBe(200);
    expect((await css()).text).toContain('--primaryColor: #000000;');
    expect((await h.req('GET', '/settings/theme')).status).toBe(401);
  });
});

describe('the theme event, open to every app', () => {
  it('tells an app without any right on io.cozy.settings the new theme, and nothing else of io.cozy.settings', async () => {
    await h.hearth.perms.grantApp(h.instance, 'drive', 'io.cozy.files');
    const { token: app, session_cookie } = await h.hearth.appToken(h.instance, 'drive');
    const c = await openWs(h.port, h.domain, { headers: { cookie: `${SESSION_COOKIE}=${session_cookie}` } });
    const other = await openWs(h.port, h.otherDomain);
    try {
      c.auth(app);
      c.subscribe(THEME_EVENTS_DOCTYPE);
      c.subscribe('io.cozy.settings');
      c.subscribe('io.cozy.settings', 'io.cozy.settings.instance');
      c.subscribe('io.cozy.settings', 'io.cozy.settings.theme');
      await c.barrier();
      const refused = c.messages.filter((m) => m.event === 'error' && m.payload.status !== '405 Method Not Allowed').map((m) => [m.payload.status, m.payload.source.payload.type, m.payload.source.payload.id]);
      expect(refused).toEqual([
        ['403 Forbidden', 'io.cozy.settings', ''], ['403 Forbidden', 'io.cozy.settings', 'io.cozy.settings.instance'], ['403 Forbidden', 'io.cozy.settings', 'io.cozy.settings.theme'],
      ]);
      other.auth(await h.cliToken('io.cozy.files', h.other));
      other.subscribe(THEME_EVENTS_DOCTYPE);
      await other.barrier();

      // another settings change (the instance document) is not heard through the theme's events
      const settingsToken = await h.cliToken('io.cozy.settings');
      const inst = await h.req('GET', '/settings/instance', { token: settingsToken });
      expect((await h.req('PUT', '/settings/instance', { token: settingsToken, body: { data: { type: 'io.cozy.settings', id: 'io.cozy.settings.instance', meta: { rev: inst.body.data.meta.rev }, attributes: { public_name: 'Secret Name' } } }, headers: { 'content-type': 'application/vnd.api+json' } })).status).toBe(200);
      expect((await putTheme({ colors: { primary: '#123456' }, font_family: 'Lato, sans-serif' })).status).toBe(200);
      const event = await c.next((m) => m.event === 'UPDATED');
      expect(event.payload).toEqual({
        type: THEME_EVENTS_DOCTYPE, id: 'io.cozy.settings.theme',
        doc: { _id: 'io.cozy.settings.theme', colors: { ...DEFAULT_THEME.colors, primary: '#123456' }, dark_colors: DEFAULT_THEME.dark_colors, font_family: '"Lato", sans-serif' },
      });
      expect((await h.req('DELETE', '/settings/theme', { token })).status).toBe(204);
      expect((await c.next((m) => m.event === 'UPDATED')).payload.doc).toEqual({ _id: 'io.cozy.settings.theme', ...DEFAULT_THEME });
      await c.barrier();
      expect(c.raw.join('\n')).not.toContain('Secret Name');
      expect(c.messages.filter((m) => m.event === 'UPDATED')).toHaveLength(2);
      await other.barrier();
      expect(other.messages.filter((m) => m.event !== 'error')).toEqual([]); // another instance's change
    } finally {
      await c.close();
      await other.close();
    }
  });

  it('is not open to a WebDAV app password, which is no realtime client', () => {
    expect(mayHearOpenEvent({ type: 'app-password', sourceId: null, rules: [] }, THEME_EVENTS_DOCTYPE)).toBe(false);
    expect(mayHearOpenEvent({ type: 'app', sourceId: 'io.cozy.apps/store', rules: [] }, THEME_EVENTS_DOCTYPE)).toBe(true);
    expect(mayHearOpenEvent({ type: 'app', sourceId: 'io.cozy.apps/store', rules: [] }, 'io.cozy.settings')).toBe(false);
  });
});
