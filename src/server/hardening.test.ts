/** App tokens bound to their session, security headers, and secrets kept out of the logs. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { rawRequest, startTestHearth, testConfig, type TestHearth } from '../../test/helpers/hearth.js';
import { sessionCookieValue } from '../auth/sessions.js';
import type { Instance } from '../instances/types.js';
import { createHearth } from './compose.js';
import { createLogger, redactUrl } from './logger.js';
import { securityHeaders } from './public.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
  await h.hearth.perms.grantApp(h.instance, 'notes', 'io.cozy.notes');
});
afterAll(() => h.close());

const cookieOf = (value: string) => ({ cookie: `cozysessid=${value}` });
async function otherSessionCookie(instance: Instance): Promise<string> {
  const s = await h.hearth.sessions.create(instance, { userAgent: 'other browser' });
  return sessionCookieValue((await h.hearth.registry.secrets(instance)).session, s.id);
}

describe('app tokens are bound to their session', () => {
  it('is accepted with the cookie of its session only', async () => {
    const { token, session_cookie } = await h.hearth.appToken(h.instance, 'notes');
    expect((await h.req('GET', '/data/io.cozy.notes/_all_docs', { token, headers: cookieOf(session_cookie) })).status).toBe(200);
    const bare = await h.req('GET', '/data/io.cozy.notes/_all_docs', { token });
    expect(bare.status).toBe(400);
    expect(bare.body.reason).toBe('Invalid JWT token');
    const other = await h.req('GET', '/data/io.cozy.notes/_all_docs', { token, headers: cookieOf(await otherSessionCookie(h.instance)) });
    expect(other.status).toBe(400);
    expect(other.body.reason).toBe('Invalid JWT token');
    const forged = await h.req('GET', '/data/io.cozy.notes/_all_docs', { token, headers: cookieOf(`${session_cookie.slice(0, 33)}${'A'.repeat(43)}`) });
    expect(forged.status).toBe(400);
  });

  it('refuses an app token issued without a session', async () => {
    const token = await h.hearth.tokens.issue(h.instance, { aud: 'app', sub: 'notes' });
    const res = await h.req('GET', '/data/io.cozy.notes/_all_docs', { token, headers: cookieOf(await otherSessionCookie(h.instance)) });
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('Invalid JWT token');
  });

  it('is revoked by logging out', async () => {
    const { token, session_cookie } = await h.hearth.appToken(h.instance, 'notes');
    const headers = cookieOf(session_cookie);
    expect((await h.req('GET', '/data/io.cozy.notes/_all_docs', { token, headers })).status).toBe(200);
    expect((await h.req('DELETE', '/auth/login', { headers })).status).toBe(204);
    const after = await h.req('GET', '/data/io.cozy.notes/_all_docs', { token, headers });
    expect(after.status).toBe(400);
    expect(after.body.reason).toBe('Invalid JWT token');
  });

  it('is refused on another instance, even with a session cookie of that instance', async () => {
    const { token, session_cookie } = await h.hearth.appToken(h.instance, 'notes');
    await h.hearth.perms.grantApp(h.other, 'notes', 'io.cozy.notes');
    const withA = await h.req('GET', '/data/io.cozy.notes/_all_docs', { token, headers: cookieOf(session_cookie), host: h.otherDomain });
    expect(withA.status).toBe(400);
    const withB = await h.req('GET', '/data/io.cozy.notes/_all_docs', { token, headers: cookieOf(await otherSessionCookie(h.other)), host: h.otherDomain });
    expect(withB.status).toBe(400);
    expect(withB.body.reason).toBe('Invalid JWT token');
  });

  it('mints app tokens with their session from the admin API', async () => {
    const instance = await h.hearth.registry.create({ domain: 'apps.example.org' });
    const res = await h.hearth.adminApp.inject({
      method: 'POST', url: '/instances/token', headers: { authorization: `Basic ${Buffer.from(':admin-secret').toString('base64')}` },
      payload: { domain: 'apps.example.org', audience: 'app', subject: 'notes', scope: 'io.cozy.notes' },
    });
    expect(res.statusCode).toBe(200);
    const { token, session_cookie } = res.json() as { token: string; session_cookie: string };
    expect((await h.hearth.sessions.list(instance)).map((s) => s.userAgent)).toEqual(['hearth-cli']);
    const host = 'apps.example.org';
    expect((await h.req('GET', '/data/io.cozy.notes/_all_docs', { token, headers: cookieOf(session_cookie), host })).status).toBe(200);
    expect((await h.req('GET', '/data/io.cozy.notes/_all_docs', { token, host })).status).toBe(400);
  });
});

describe('security headers', () => {
  it('sets nosniff and a closed CSP on API answers, and no HSTS over http', async () => {
    for (const res of [await h.req('GET', '/status'), await h.req('GET', '/data/io.cozy.notes/_all_docs')]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-src 'none'; frame-ancestors 'none'; base-uri 'none';");
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('keeps the CSP of HTML pages and adds Referrer-Policy to them', async () => {
    const res = await h.req('GET', '/', { headers: cookieOf(await otherSessionCookie(h.instance)) });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'nonce-/);
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect((await h.req('GET', '/status')).headers['referrer-policy']).toBeUndefined();
  });

  it('sets them on the admin API too', async () => {
    const res = await h.hearth.adminApp.inject({ url: '/version' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe("default-src 'none'; frame-src 'none'; frame-ancestors 'none'; base-uri 'none';");
  });

  it('believes X-Forwarded-* only with server.trustProxy: then https (HSTS, Secure cookies) and the client IP are the real ones', async () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' };
    expect((await h.req('GET', '/status', { headers: forwarded })).headers['strict-transport-security']).toBeUndefined();
    const proxied = await startTestHearth({ server: { ...h.hearth.config.server, port: 0, trustProxy: '127.0.0.1' } });
    try {
      const res = await proxied.req('GET', '/status', { headers: forwarded });
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      const login = await proxied.req('GET', '/auth/login', { headers: forwarded });
      expect([login.headers['set-cookie'] ?? []].flat().join('\n')).toMatch(/; Secure/);
      // rate limits count per client: a sprayer behind the proxy (30 guesses per 15 min) does not lock out the others
      let n = 0; // another link each time: the per-link limit is not what is measured here
      const guess = (ip: string) => proxied.req('POST', '/auth/share-by-link/password', { body: { perm_id: (++n).toString(16).padStart(32, '0'), password: 'x' }, headers: { 'x-forwarded-for': ip } });
      for (let i = 0; i < 30; i++) expect((await guess('203.0.113.7')).status).toBe(404);
      expect((await guess('203.0.113.7')).status).toBe(429);
      expect((await guess('198.51.100.9')).status).toBe(404);
    } finally {
      await proxied.close();
    }
  });

  it('adds HSTS for a year when the request came over https', () => {
    const reply = () => {
      const headers = new Map<string, unknown>();
      return { headers, header: (k: string, v: unknown) => (headers.set(k.toLowerCase(), v), undefined), getHeader: (k: string) => headers.get(k.toLowerCase()) };
    };
    const https = reply();
    securityHeaders({ protocol: 'https' }, https as never);
    expect(https.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    const http = reply();
    securityHeaders({ protocol: 'http' }, http as never);
    expect(http.headers.has('strict-transport-security')).toBe(false);
    expect(http.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('log redaction', () => {
  it('writes no token, cookie, passphrase or secret of a real request', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-logs-'));
    let logs = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((logs += String(chunk)), done()) });
    const config = testConfig(dataDir, { log: { ...testConfig(dataDir).log, level: 'trace' } });
    const hearth = await createHearth(config, createLogger(config, sink));
    try {
      await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
      const port = (hearth.publicApp.server.address() as AddressInfo).port;
      const host = `localhost:${port}`;
      const instance = await hearth.registry.create({ domain: host, passphrase: 'owner-pass-SECRET' });
      const cli = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.notes' });
      const { token: app, session_cookie } = await hearth.appToken(instance, 'notes');
      expect((await rawRequest(port, 'GET', '/data/io.cozy.notes/_all_docs', { token: cli, headers: { cookie: `cozysessid=${session_cookie}` }, host })).status).toBe(200);
      await rawRequest(port, 'GET', `/data/io.cozy.notes/_all_docs?bearer_token=${app}`, { host });
      await rawRequest(port, 'POST', '/auth/login', { body: { passphrase: 'owner-pass-SECRET' }, headers: { accept: 'application/json' }, host });
      hearth.logger.info({ token: 'TOKEN-SECRET', headers: { authorization: 'Bearer AUTH-SECRET', cookie: 'COOKIE-SECRET' }, user: { password: 'PW-SECRET', client_secret: 'CS-SECRET' } }, 'a careless log');
      hearth.logger.info({ res: { headers: { 'set-cookie': 'SETCOOKIE-SECRET' } } }, 'another');
      await new Promise((r) => setImmediate(r));
      expect(logs).toContain('incoming request');
      expect(logs).toContain('[redacted]');
      for (const secret of [cli, app, session_cookie, 'owner-pass-SECRET', 'TOKEN-SECRET', 'AUTH-SECRET', 'COOKIE-SECRET', 'PW-SECRET', 'CS-SECRET', 'SETCOOKIE-SECRET']) {
        expect(logs).not.toContain(secret);
      }
    } finally {
      await hearth.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('strips secret query parameters from logged URLs', () => {
    expect(redactUrl('/data/x/_changes?feed=longpoll&bearer_token=abc.def&since=1')).toBe('/data/x/_changes?feed=longpoll&bearer_token=[redacted]&since=1');
    expect(redactUrl('/auth/authorize?code=xyz')).toBe('/auth/authorize?code=[redacted]');
    expect(redactUrl('/auth/passphrase?registerToken=0123abcd&x=1')).toBe('/auth/passphrase?registerToken=[redacted]&x=1');
    expect(redactUrl('/public?sharecode=eyJ.a.b')).toBe('/public?sharecode=[redacted]');
    expect(redactUrl('/callback?access_code=c0de&state=s')).toBe('/callback?access_code=[redacted]&state=s');
  });
});
