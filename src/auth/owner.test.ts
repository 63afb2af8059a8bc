/**
 * The owner's settings routes on a real server: the session cookie alone works from the instance's
 * own origin only; apps and clients need a token with rights on io.cozy.settings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { derivePassphrase } from './passphrase.js';

const ITER = 1000;
let h: TestHearth;
let derived = '';
/** A real owner session (opened for an app token by the composition root). */
let cookie = '';

beforeAll(async () => {
  h = await startTestHearth();
  derived = await derivePassphrase('owner-pass', h.domain, ITER);
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, derived, ITER);
  await h.hearth.perms.grantApp(h.instance, 'settings', 'io.cozy.settings');
  await h.hearth.perms.grantApp(h.instance, 'notes', 'io.cozy.notes');
  cookie = `cozysessid=${(await h.hearth.appToken(h.instance, 'notes')).session_cookie}`;
});
afterAll(() => h.close());

const check = (headers: Record<string, string>, token?: string, passphrase = derived) =>
  h.req('POST', '/settings/passphrase/check', { body: { passphrase }, headers, ...(token ? { token } : {}) });
const enrol = (headers: Record<string, string>) => h.req('POST', '/settings/twofactor/totp', { body: {}, headers });

describe('the session cookie alone', () => {
  it('works from the instance origin, and from clients that are not browsers', async () => {
    expect((await check({ cookie, origin: h.url, 'sec-fetch-site': 'same-origin' })).status).toBe(204);
    expect((await check({ cookie })).status).toBe(204);
  });

  it('is refused from an app subdomain or another site, and nothing changes', async () => {
    const app = `http://drive.localhost:${h.port}`;
    const attempts: Array<Record<string, string>> = [{ cookie, origin: app }, { cookie, origin: 'https://evil.example' }, { cookie, 'sec-fetch-site': 'same-site' }, { cookie, 'sec-fetch-site': 'cross-site' }];
    for (const headers of attempts) {
      const res = await enrol(headers);
      expect(res.status).toBe(403);
      expect(res.text).not.toContain('secret');
      expect(res.body.errors[0].detail).toMatch(/io\.cozy\.settings/);
    }
    // no enrolment was started by any of them
    expect((await h.req('POST', '/settings/twofactor/totp/confirm', { body: { code: '123456' }, headers: { cookie } })).status).toBe(409);
    const mode = await h.req('PUT', '/settings/instance/auth_mode', { body: { auth_mode: 'two_factor_mail' }, headers: { cookie, origin: app } });
    expect(mode.status).toBe(403);
  });
});

describe('tokens', () => {
  it('an app with rights on io.cozy.settings uses the routes from its subdomain (with its session cookie)', async () => {
    const settings = await h.hearth.appToken(h.instance, 'settings');
    const headers = { cookie: `cozysessid=${settings.session_cookie}`, origin: `http://settings.localhost:${h.port}` };
    expect((await check(headers, settings.token)).status).toBe(204);
    expect((await check(headers, settings.token, 'A'.repeat(43) + '=')).status).toBe(403);
  });

  it('an app without that right is refused, even with the owner session cookie', async () => {
    const notes = await h.hearth.appToken(h.instance, 'notes');
    const res = await check({ cookie: `cozysessid=${notes.session_cookie}` }, notes.token);
    expect(res.status).toBe(403);
    expect(res.body.errors[0].detail).toBe('this token has no PUT right on io.cozy.settings');
  });

  it('a read-only token cannot change, a forged one gets 400', async () => {
    expect((await check({}, await h.cliToken('io.cozy.settings:GET'))).status).toBe(403);
    expect((await check({}, await h.cliToken('io.cozy.settings'))).status).toBe(204);
    const forged = await check({ cookie }, 'eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJjbGkifQ.c2lnbmF0dXJl');
    expect(forged.status).toBe(400);
    expect(forged.body.errors[0].detail).toBe('Invalid JWT token');
  });

  it('changing the passphrase with a token and no session logs every session out', async () => {
    const other = `cozysessid=${(await h.hearth.appToken(h.instance, 'notes')).session_cookie}`;
    expect((await h.req('GET', '/settings/sessions', { headers: { cookie: other } })).status).toBe(200);
    const next = await derivePassphrase('new owner pass', h.domain, ITER);
    const res = await h.req('PUT', '/settings/passphrase', { token: await h.cliToken('io.cozy.settings'), body: { current_passphrase: derived, new_passphrase: next } });
    expect(res.status).toBe(204);
    expect((await h.req('GET', '/settings/sessions', { headers: { cookie: other } })).status).toBe(401);
    expect(await h.hearth.registry.checkPassphrase(h.instance, next)).toBe(true);
  });
});
