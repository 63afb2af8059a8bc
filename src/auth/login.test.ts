import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../test/helpers/hearth.js';
import { derivePassphrase } from './passphrase.js';
import { sessionCookieValue } from './sessions.js';

const ITER = 1000;
let h: TestHearth;
let good: string;

beforeAll(async () => {
  h = await startTestHearth();
  good = await derivePassphrase('owner-pass', h.domain, ITER);
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, good, ITER);
});
afterAll(() => h.close());

const CSRF = 'c'.repeat(43);
const setCookies = (r: Res): string[] => [r.headers['set-cookie'] ?? []].flat();
const cookieOf = (r: Res): string => (setCookies(r).find((c) => c.startsWith('cozysessid=')) ?? '').split(';')[0] as string;
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

function postLogin(fields: Record<string, string>, opts: { host?: string; csrf?: string | null } = {}): Promise<Res> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (opts.csrf !== null) headers.cookie = `hearth_csrf=${opts.csrf ?? CSRF}`;
  return h.req('POST', '/auth/login', { raw: form({ csrf_token: CSRF, ...fields }), headers, host: opts.host ?? h.domain });
}

async function login(redirect = ''): Promise<{ res: Res; cookie: string }> {
  const res = await postLogin({ passphrase: good, redirect });
  return { res, cookie: cookieOf(res) };
}

const sessions = (cookie: string, host?: string) => h.req('GET', '/settings/sessions', { headers: { cookie }, host: host ?? h.domain });

describe('passphrase parameters', () => {
  it('serves the KDF salt and iterations on /settings/passphrase and /public/prelogin', async () => {
    const want = { salt: `me@${h.domain}`, kdf: 0, iterations: ITER };
    expect((await h.req('GET', '/settings/passphrase')).body).toEqual(want);
    const pre = await h.req('GET', '/public/prelogin');
    expect(pre.body).toMatchObject({ ...want, Kdf: 0, KdfIterations: ITER, OIDC: false, magic_link: false });
  });
});

describe('login page', () => {
  it('has a CSP nonce on its only script, a CSRF cookie and field, and no CORS', async () => {
    const r = await h.req('GET', '/auth/login?redirect=%2Fx', { headers: { origin: 'https://evil.example' } });
    expect(r.status).toBe(200);
    const nonce = /script-src 'nonce-([^']+)'/.exec(String(r.headers['content-security-policy']))?.[1];
    expect(nonce).toBeTruthy();
    expect(r.text).toContain(`<script nonce="${nonce}">`);
    expect(r.text).toContain('<html lang="en">');
    const csrf = setCookies(r).find((c) => c.startsWith('hearth_csrf='));
    expect(csrf).toMatch(/HttpOnly; SameSite=Strict/);
    expect(r.text).toContain(`name="csrf_token" value="${/hearth_csrf=([^;]+)/.exec(csrf ?? '')?.[1]}"`);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('speaks French when the instance locale is fr', async () => {
    await h.hearth.registry.modify(h.otherDomain, { locale: 'fr' });
    const r = await h.req('GET', '/auth/login', { host: h.otherDomain });
    expect(r.text).toContain('<html lang="fr">');
    expect(r.text).toContain('Phrase de passe');
    expect(r.text).toContain('Se connecter');
  });
});

describe('login and sessions', () => {
  it('logs in with the derived passphrase: 303 and a session cookie', async () => {
    const { res, cookie } = await login(`http://drive.${h.domain}/#/folder`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`http://drive.${h.domain}/#/folder`);
    const c = setCookies(res).find((x) => x.startsWith('cozysessid=')) as string;
    expect(c).toMatch(/HttpOnly/);
    expect(c).toMatch(/SameSite=Lax/);
    expect(c).toMatch(/Domain=localhost(;|$)/);
    expect(c).toMatch(/Path=\//);
    const maxAge = Number(/Max-Age=(\d+)/.exec(c)?.[1]);
    expect(maxAge).toBeGreaterThan(30 * 86400 - 60);
    expect(maxAge).toBeLessThanOrEqual(30 * 86400);
    expect(c).not.toMatch(/Secure/);
    const list = await sessions(cookie);
    expect(list.status).toBe(200);
    const current = await h.req('GET', '/settings/sessions/current', { headers: { cookie } });
    expect(current.body.data).toMatchObject({ type: 'io.cozy.sessions' });
    expect(list.body.data.map((s: { id: string }) => s.id)).toContain(current.body.data.id);
  });

  it('accepts a JSON login for clients', async () => {
    const r = await h.req('POST', '/auth/login', { body: { passphrase: good }, headers: { accept: 'application/json' } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ redirect: `http://${h.domain}/` });
    expect((await sessions(cookieOf(r))).status).toBe(200);
  });

  it('logs out, and logs out the others while keeping the current session', async () => {
    const a = await login();
    const b = await login();
    expect((await h.req('DELETE', '/auth/login/others', { headers: { cookie: a.cookie } })).status).toBe(204);
    expect((await sessions(a.cookie)).body.data).toHaveLength(1);
    expect((await sessions(b.cookie)).status).toBe(401);
    const out = await h.req('DELETE', '/auth/login', { headers: { cookie: a.cookie } });
    expect(out.status).toBe(204);
    expect(setCookies(out)[0]).toMatch(/^cozysessid=; .*Max-Age=0/);
    expect((await sessions(a.cookie)).status).toBe(401);
    expect((await h.req('DELETE', '/auth/login', { headers: { cookie: a.cookie } })).status).toBe(401);
  });

  it('refuses a logout sent with the cookie from another origin (CSRF), as the other cookie-authenticated writes', async () => {
    const a = await login();
    const b = await login();
    const evil = { origin: 'https://evil.example' };
    const app = { origin: `http://drive.${h.domain}` };
    const crossSite = { 'sec-fetch-site': 'cross-site' };
    for (const headers of [evil, app, crossSite]) {
      const others = await h.req('DELETE', '/auth/login/others', { headers: { cookie: a.cookie, ...headers } });
      expect(others.status).toBe(403);
      expect(others.body.errors[0].detail).toContain('the session cookie alone is accepted from the pages of');
      expect((await h.req('DELETE', '/auth/login', { headers: { cookie: a.cookie, ...headers } })).status).toBe(403);
    }
    expect((await sessions(a.cookie)).status).toBe(200);
    expect((await sessions(b.cookie)).status).toBe(200);
    const same = { origin: `http://${h.domain}`, 'sec-fetch-site': 'same-origin' };
    expect((await h.req('DELETE', '/auth/login/others', { headers: { cookie: a.cookie, ...same } })).status).toBe(204);
    expect((await sessions(b.cookie)).status).toBe(401);
    expect((await h.req('DELETE', '/auth/login', { headers: { cookie: a.cookie, ...same } })).status).toBe(204);
    expect((await sessions(a.cookie)).status).toBe(401);
  });
});

describe('refusals', () => {
  it('refuses a wrong passphrase with 401 and the attempts left', async () => {
    const r = await postLogin({ passphrase: await derivePassphrase('nope', h.domain, ITER) });
    expect(r.status).toBe(401);
    expect(r.text).toContain('Wrong passphrase. 9 attempt(s) left');
    expect(cookieOf(r)).toBe('');
    await login(); // a success resets the count
  });

  it('refuses a form without the CSRF token or cookie with 403', async () => {
    expect((await postLogin({ passphrase: good }, { csrf: null })).status).toBe(403);
    expect((await postLogin({ passphrase: good }, { csrf: 'd'.repeat(43) })).status).toBe(403);
  });

  it('never redirects outside the instance and its app subdomains', async () => {
    for (const evil of ['https://evil.example', '//evil.example', '/\\evil.example', `http://localhost.evil.example:${h.port}/`,
      `http://${h.otherDomain}/`, `http://drive.${h.domain.replace(/:\d+$/, '')}:1/`, 'javascript:alert(1)', `http://user@${h.domain}/`]) {
      const { res } = await login(evil);
      expect(res.status, evil).toBe(303);
      expect(res.headers.location, evil).toBe(`http://${h.domain}/`);
    }
    expect((await login('/apps?x=1')).res.headers.location).toBe(`http://${h.domain}/apps?x=1`);
  });

  it('does not accept a session cookie of another instance, a forged one or an expired one', async () => {
    const { cookie } = await login();
    expect((await sessions(cookie, h.otherDomain)).status).toBe(401);
    const id = cookie.slice('cozysessid='.length, cookie.indexOf('.'));
    const otherSecret = (await h.hearth.registry.secrets(h.other)).session;
    expect((await sessions(`cozysessid=${sessionCookieValue(otherSecret, id)}`)).status).toBe(401);
    expect((await sessions(`cozysessid=${id}.${'A'.repeat(43)}`)).status).toBe(401);
    const expired = await h.hearth.sessions.create(h.instance, {}, -1000);
    const secret = (await h.hearth.registry.secrets(h.instance)).session;
    expect((await sessions(`cozysessid=${sessionCookieValue(secret, expired.id)}`)).status).toBe(401);
  });

  it('locks logins after 10 failures: 429 even with the right passphrase', async () => {
    const bad = await derivePassphrase('wrong', h.domain, ITER);
    for (let i = 0; i < 9; i++) expect((await postLogin({ passphrase: bad })).status).toBe(401);
    const tenth = await postLogin({ passphrase: bad });
    expect(tenth.status).toBe(429);
    const r = await postLogin({ passphrase: good });
    expect(r.status).toBe(429);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(800);
    // a visitor gets a human way on, not an operator's command
    expect(r.text).toContain('If you forgot your passphrase, choosing a new one (“Forgot your passphrase?”) lifts the lock at once.');
    expect(r.text).not.toContain('hearth instances');
    expect(r.text).not.toContain('`');
    expect(cookieOf(r)).toBe('');
    const auth = 'Basic ' + Buffer.from('admin:admin-secret').toString('base64');
    const unlock = await h.hearth.adminApp.inject({ method: 'PATCH', url: `/instances/${encodeURIComponent(h.domain)}`, payload: { unlock: true }, headers: { authorization: auth } });
    expect(unlock.statusCode).toBe(200);
    expect((await login()).res.status).toBe(303);
  });
});

describe('the page script', () => {
  it('derives the passphrase in the browser exactly as the server expects', async () => {
    const html = (await h.req('GET', '/auth/login')).text;
    const src = /async function derive\(pw,salt,it\)\{[\s\S]*?return btoa\([^;]*\);\}/.exec(html)?.[0];
    expect(src).toBeTruthy();
    const derive = new Function('t', `${src}; return derive;`)(new TextEncoder()) as (p: string, s: string, i: number) => Promise<string>;
    expect(await derive('owner-pass', `me@${h.domain}`, ITER)).toBe(good);
  });
});
