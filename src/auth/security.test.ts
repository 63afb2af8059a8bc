import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Instance, TwoFactorStore } from '../instances/types.js';
import { derivePassphrase, passphraseSalt } from './passphrase.js';
import { SESSION_COOKIE, sessionCookieValue } from './sessions.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());
/** The SQLite registry also stores the second factor (as twofactor-flow.test.ts reads it). */
const store = () => h.hearth.registry as unknown as TwoFactorStore;

async function cookieFor(instance: Instance): Promise<string> {
  const session = await h.hearth.sessions.create(instance, { userAgent: 'test', ip: '127.0.0.1' });
  return `${SESSION_COOKIE}=${sessionCookieValue((await h.hearth.registry.secrets(instance)).session, session.id)}`;
}

describe('GET /auth/security', () => {
  it('sends visitors without a session to the login page, which comes back here', async () => {
    const res = await h.req('GET', '/auth/security');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/auth/login?redirect=/auth/security');
    const forged = await h.req('GET', '/auth/security', { headers: { cookie: `${SESSION_COOKIE}=${'a'.repeat(32)}.${'b'.repeat(43)}` } });
    expect(forged.status).toBe(303);
  });

  it('shows the page to the owner: nonce CSP for its one script and style, no cache, no referrer, no CORS', async () => {
    const cookie = await cookieFor(h.instance);
    const res = await h.req('GET', '/auth/security', { headers: { cookie, origin: 'http://evil.example' } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const csp = String(res.headers['content-security-policy']);
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain(`style-src 'nonce-${nonce}'`);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    // Exactly one executable script and one style, both carrying this response's nonce.
    expect(res.text.match(/<script nonce="/g)).toHaveLength(1);
    expect(res.text).toContain(`<script nonce="${nonce}">`);
    expect(res.text).toContain(`<style nonce="${nonce}">`);
    expect(res.text.match(/<script(?! type="application\/json")/g)).toHaveLength(1);
    expect(res.text).toContain('<html lang="en">');
    expect(res.text).toContain(`<title>Security · ${h.domain}</title>`);
    for (const heading of ['Two-factor authentication', 'Passphrase', 'Sessions']) expect(res.text).toContain(`>${heading}</h2>`);
    // Two factors off: the mode, and the enrolment button; the turn-off form is hidden.
    expect(res.text).toContain('<span id="tf-mode" class="pill">Off</span>');
    expect(res.text).toContain('<div id="tf-basic">');
    expect(res.text).toContain('<div id="tf-on" hidden>');
    expect(res.text).toContain('Set up an authenticator app');
    // The derivation parameters, as the login page gives them.
    expect(res.text).toContain(`data-salt="${passphraseSalt(h.domain)}" data-iterations="${h.instance.kdfIterations}"`);
    // Every form is validated by the page, and every field has its label.
    expect(res.text.match(/<form /g)).toHaveLength(4);
    expect(res.text.match(/<form [^>]*novalidate/g)).toHaveLength(4);
    for (const id of ['totp-code', 'tf-pass', 'pass-current', 'pass-new', 'pass-confirm']) expect(res.text).toContain(`<label for="${id}">`);
    expect(res.text.match(/role="alert"/g)).toHaveLength(5);
    expect(res.text).toContain('href="/"');
  });

  it('counts the open sessions of this instance', async () => {
    const cookie = await cookieFor(h.instance);
    const n = (await h.hearth.sessions.list(h.instance)).length;
    expect(n).toBeGreaterThan(1);
    const res = await h.req('GET', '/auth/security', { headers: { cookie } });
    expect(res.text).toContain(`${n} sessions are open, this one included.`);
    await h.hearth.sessions.deleteOthers(h.instance, /^cozysessid=([0-9a-f]{32})\./.exec(cookie)![1]!);
    expect((await h.req('GET', '/auth/security', { headers: { cookie } })).text).toContain('Only this session is open.');
  });

  it('labels the sessions of command-line app tokens and lists them apart from the browsers', async () => {
    const cookie = await cookieFor(h.instance);
    const id = /^cozysessid=([0-9a-f]{32})\./.exec(cookie)![1]!;
    await h.hearth.sessions.deleteOthers(h.instance, id);
    const before = await h.req('GET', '/auth/security', { headers: { cookie } });
    expect(before.text).toContain('<p id="app-sessions" class="hint" hidden></p>');
    await h.hearth.appToken(h.instance, 'notes');
    await h.hearth.appToken(h.instance, 'drive');
    const page = await h.req('GET', '/auth/security', { headers: { cookie } });
    expect(page.text).toContain('Only this session is open.');
    expect(page.text).toContain('<p id="app-sessions" class="hint">Apart from your browsers, 2 sessions belong to app tokens made on the command line; logging out the other sessions ends them too.</p>');
    const list = await h.req('GET', '/settings/sessions', { headers: { cookie } });
    expect(list.body.data.map((s: { id: string; attributes: { kind: string } }) => [s.id === id, s.attributes.kind])).toEqual([[true, 'web'], [false, 'app-token'], [false, 'app-token']]);
    const home = await h.req('GET', '/', { headers: { cookie } });
    expect(home.text).toContain('Active sessions: 1');
    expect((await h.req('DELETE', '/auth/login/others', { headers: { cookie } })).status).toBe(204);
    expect((await h.hearth.sessions.list(h.instance)).map((s) => s.kind)).toEqual(['web']);
  });

  it('shows the turn-off form when an authenticator app is enrolled', async () => {
    const cookie = await cookieFor(h.instance);
    await store().setTwoFactor(h.instance, { authMode: 'two_factor_totp' });
    try {
      const res = await h.req('GET', '/auth/security', { headers: { cookie } });
      expect(res.text).toContain('<span id="tf-mode" class="pill on">On, with an authenticator app</span>');
      expect(res.text).toContain('<div id="tf-basic" hidden>');
      expect(res.text).toContain('<div id="tf-on">');
      expect(res.text).toContain('Turn off two-factor authentication');
    } finally {
      await store().setTwoFactor(h.instance, { authMode: 'basic' });
    }
  });

  it('speaks French on an instance whose locale is fr', async () => {
    const fr = await h.hearth.registry.create({ domain: `fr.localhost:${h.port}`, locale: 'fr', passphrase: 'mot-de-passe' });
    const res = await h.req('GET', '/auth/security', { host: fr.domain, headers: { cookie: await cookieFor(fr) } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('<html lang="fr">');
    expect(res.text).toContain(`<title>Sécurité · ${fr.domain}</title>`);
    expect(res.text).toContain('>Authentification à deux facteurs</h2>');
    expect(res.text).toContain('>Phrase de passe</h2>');
    expect(res.text).toContain('Configurer une application d’authentification');
    expect(res.text).toContain('Seule cette session est ouverte.');
    expect(res.text).toContain("Retour à l'accueil");
    expect(res.text).not.toContain('Set up an authenticator app');
    // The page's own messages (shown by the script) are French too.
    const texts = JSON.parse(/<script type="application\/json" id="texts">(.*?)<\/script>/.exec(res.text)![1]!);
    expect(texts.mismatch).toBe('Les deux nouvelles phrases de passe diffèrent.');
    expect(texts.errCode).toMatch(/^Code incorrect/);
    const home = await h.req('GET', '/', { host: fr.domain, headers: { cookie: await cookieFor(fr) } });
    expect(home.text).toContain('<a id="security" href="/auth/security">Sécurité : phrase de passe, authentification à deux facteurs, sessions</a>');
  });

  it('is linked from the home page', async () => {
    const res = await h.req('GET', '/', { headers: { cookie: await cookieFor(h.instance) } });
    expect(res.status).toBe(200);
    expect(res.text).toContain('<a id="security" href="/auth/security">Security: passphrase, two-factor authentication, sessions</a>');
  });

  it('counts only real sessions: with two factors on, the passphrase step opens none and keeps the failures of the code step', async () => {
    const derived = await derivePassphrase('owner-pass', h.domain, h.instance.kdfIterations);
    await store().setTwoFactor(h.instance, { authMode: 'two_factor_totp' });
    try {
      await h.hearth.sessions.deleteAll(h.instance);
      const step1 = await h.req('POST', '/auth/login', { body: { passphrase: derived } });
      expect(step1.status).toBe(200);
      expect(step1.headers['set-cookie']).toBeUndefined();
      const token = step1.body.two_factor_token as string;
      expect(token).toBeTruthy();
      expect(await h.hearth.sessions.list(h.instance)).toEqual([]);
      const wrong = await h.req('POST', '/auth/twofactor', { body: { two_factor_token: token, passcode: '000000' } });
      expect(wrong.status).toBe(401);
      expect((await h.hearth.lockout.status(h.instance.id, '127.0.0.1')).failures).toBe(1);
      // The passphrase again: the failure of the code step still counts, and still no session.
      expect((await h.req('POST', '/auth/login', { body: { passphrase: derived } })).status).toBe(200);
      expect((await h.hearth.lockout.status(h.instance.id, '127.0.0.1')).failures).toBe(1);
      expect(await h.hearth.sessions.list(h.instance)).toEqual([]);
    } finally {
      await store().setTwoFactor(h.instance, { authMode: 'basic' });
      await h.hearth.lockout.unlock(h.instance.id);
    }
  });

  it('refuses a session cookie of another instance', async () => {
    const cookie = await cookieFor(h.instance);
    expect((await h.req('GET', '/auth/security', { headers: { cookie } })).status).toBe(200);
    const other = await h.req('GET', '/auth/security', { headers: { cookie }, host: h.otherDomain });
    expect(other.status).toBe(303);
    expect(other.headers.location).toBe('/auth/login?redirect=/auth/security');
    expect(other.text).not.toContain('Two-factor');
  });
});
