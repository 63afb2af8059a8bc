/** The small /settings routes apps call at start (onboarded, warnings, hint, external-ties) on a real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { CozyStackClient } from '../../test/helpers/stack-client.js';
import { DEFAULTS } from '../config/schema.js';

let h: TestHearth;
let settings = '';
let cookie = '';
let appToken = '';
beforeAll(async () => {
  h = await startTestHearth({ settings: { ...DEFAULTS.settings, onboardedRedirection: 'home/#/intro' } });
  settings = await h.cliToken('io.cozy.settings');
  await h.hearth.perms.grantApp(h.instance, 'drive', 'io.cozy.files');
  const app = await h.hearth.appToken(h.instance, 'drive');
  appToken = app.token;
  cookie = `cozysessid=${app.session_cookie}`;
});
afterAll(() => h.close());

describe('GET /settings/onboarded', () => {
  it('sends a logged-in owner (303) to the onboarded redirection on its app host, and anyone else to the login page', async () => {
    const res = await h.req('GET', '/settings/onboarded', { headers: { cookie } });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`http://home.${h.domain}/#/intro`);
    const anonymous = await h.req('GET', '/settings/onboarded');
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.location).toBe(`http://${h.domain}/auth/login`);
    // a session of another instance is no session here
    expect((await h.req('GET', '/settings/onboarded', { headers: { cookie }, host: h.otherDomain })).headers.location).toBe(`http://${h.otherDomain}/auth/login`);
  });
});

describe('GET /settings/warnings', () => {
  it('answers cozy-stack\'s "no warning": 404 with an empty JSON-API error list, to any token and to the owner\'s session', async () => {
    for (const opts of [{ token: settings }, { token: await h.cliToken('io.cozy.files') }, { headers: { cookie } }]) {
      const res = await h.req('GET', '/settings/warnings', opts);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toContain('application/vnd.api+json');
      expect(res.body).toEqual({ errors: [] });
    }
  });

  it('is refused without credentials (401), with another instance\'s token (400), to a session from another origin (403)', async () => {
    expect((await h.req('GET', '/settings/warnings')).status).toBe(401);
    expect((await h.req('GET', '/settings/warnings', { token: await h.cliToken('io.cozy.settings', h.other) })).status).toBe(400);
    expect((await h.req('GET', '/settings/warnings', { headers: { cookie, origin: `http://evil.localhost:${h.port}` } })).status).toBe(403);
  });
});

describe('GET/PUT /settings/hint', () => {
  it('says 404 until a hint is set, refuses the passphrase itself (422), then says 204; cozy-client reads the hint in io.cozy.settings.bitwarden', async () => {
    const none = await h.req('GET', '/settings/hint', { token: settings });
    expect(none.status).toBe(404);
    expect(none.body.errors[0].detail).toBe('No hint');
    const same = await h.req('PUT', '/settings/hint', { token: settings, body: { hint: 'owner-pass' } });
    expect(same.status).toBe(422);
    expect((await h.req('GET', '/settings/hint', { token: settings })).status).toBe(404);
    expect((await h.req('PUT', '/settings/hint', { token: settings, body: { hint: 'the name of my first cat' } })).status).toBe(204);
    expect((await h.req('GET', '/settings/hint', { token: settings })).status).toBe(204);
    expect((await h.req('GET', '/settings/hint', { headers: { cookie } })).status).toBe(204);
    const client = new CozyStackClient({ uri: h.url, token: settings });
    const { data } = await client.collection('io.cozy.settings').get('io.cozy.settings.bitwarden');
    expect(data.passphrase_hint).toBe('the name of my first cat');
    expect((await h.req('PUT', '/settings/hint', { token: settings, body: { hint: '' } })).status).toBe(204);
    expect((await h.req('GET', '/settings/hint', { token: settings })).status).toBe(404);
    // the other instance has its own
    expect((await h.req('GET', '/settings/hint', { token: await h.cliToken('io.cozy.settings', h.other), host: h.otherDomain })).status).toBe(404);
  });

  it('needs the verb on the whole io.cozy.settings: 401, 400 for another instance\'s token, 403 otherwise; a bad body is 400', async () => {
    expect((await h.req('GET', '/settings/hint')).status).toBe(401);
    expect((await h.req('PUT', '/settings/hint', { body: { hint: 'x' } })).status).toBe(401);
    expect((await h.req('GET', '/settings/hint', { token: await h.cliToken('io.cozy.settings', h.other) })).status).toBe(400);
    expect((await h.req('GET', '/settings/hint', { token: await h.cliToken('io.cozy.settings:GET:io.cozy.settings.bitwarden') })).status).toBe(403);
    expect((await h.req('GET', '/settings/hint', { token: appToken, headers: { cookie } })).status).toBe(403);
    expect((await h.req('PUT', '/settings/hint', { token: await h.cliToken('io.cozy.settings:GET'), body: { hint: 'x' } })).status).toBe(403);
    expect((await h.req('PUT', '/settings/hint', { token: settings, body: { hint: 42 } })).status).toBe(400);
    expect((await h.req('PUT', '/settings/hint', { token: settings, body: {} })).status).toBe(400);
  });

  it('bounds the hints set to 10 an hour per instance (each one tells whether it is the passphrase): then 429', async () => {
    const fresh = await startTestHearth();
    try {
      const token = await fresh.cliToken('io.cozy.settings');
      for (let i = 0; i < 10; i++) expect((await fresh.req('PUT', '/settings/hint', { token, body: { hint: `guess ${i}` } })).status).toBe(204);
      const over = await fresh.req('PUT', '/settings/hint', { token, body: { hint: 'owner-pass' } });
      expect(over.status).toBe(429);
      expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
      // the other instance has its own count
      expect((await fresh.req('PUT', '/settings/hint', { token: await fresh.cliToken('io.cozy.settings', fresh.other), body: { hint: 'x' }, host: fresh.otherDomain })).status).toBe(204);
    } finally {
      await fresh.close();
    }
  });
});

describe('GET /settings/external-ties', () => {
  it('answers no blocking subscription to the owner\'s session and to a web app\'s token', async () => {
    for (const opts of [{ headers: { cookie } }, { token: appToken, headers: { cookie } }]) {
      const res = await h.req('GET', '/settings/external-ties', opts);
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ type: 'io.cozy.settings', id: 'io.cozy.settings.external-ties', attributes: { has_blocking_subscription: false } });
    }
  });

  it('is refused to anyone else (403), to an app token without its session (400), and to another instance\'s token (400)', async () => {
    expect((await h.req('GET', '/settings/external-ties')).status).toBe(403);
    expect((await h.req('GET', '/settings/external-ties', { token: settings })).status).toBe(403);
    expect((await h.req('GET', '/settings/external-ties', { token: appToken })).status).toBe(400);
    expect((await h.req('GET', '/settings/external-ties', { token: await h.cliToken('io.cozy.settings', h.other) })).status).toBe(400);
  });
});
