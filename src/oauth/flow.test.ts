import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as oauth from 'oauth4webapi';
import { startTestHearth, type Res, type TestHearth } from '../../test/helpers/hearth.js';
import { derivePassphrase } from '../auth/passphrase.js';
import { AccessCodes } from './codes.js';
import { describeAccessCodes } from '../../test/helpers/access-codes-suite.js';
import { describeRule } from './consent-page.js';

const ITER = 1000;
const CSRF = 'c'.repeat(43);
const REDIRECT = 'http://localhost:9999/callback';
let h: TestHearth;
let session: string;
let cookies: string;

interface Registered { id: string; secret: string; registrationToken: string }

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

async function login(host = h.domain): Promise<string> {
  const res = await h.req('POST', '/auth/login', { raw: form({ csrf_token: CSRF, passphrase: await derivePassphrase('owner-pass', host, ITER) }), headers: { ...FORM, cookie: `hearth_csrf=${CSRF}` }, host });
  expect(res.status).toBe(303);
  return ([res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('cozysessid=')) ?? '').split(';')[0] as string;
}

async function register(): Promise<Registered> {
  const r = await h.req('POST', '/auth/register', {
    body: { redirect_uris: [REDIRECT], client_name: 'Notes <sync>', software_id: 'github.com/hearth/notes-sync', client_uri: 'https://notes.example/' },
    headers: { accept: 'application/json' },
  });
  expect(r.status).toBe(201);
  return { id: r.body.client_id, secret: r.body.client_secret, registrationToken: r.body.registration_access_token };
}

const as = (): oauth.AuthorizationServer => ({ issuer: h.url, authorization_endpoint: `${h.url}/auth/authorize`, token_endpoint: `${h.url}/auth/access_token` });

/** Sends oauth4webapi's requests through the test helper (Host = the instance, loopback socket). */
const options = (): oauth.TokenEndpointRequestOptions => ({
  [oauth.allowInsecureRequests]: true,
  [oauth.customFetch]: async (url: string, init: { method: string; headers: Record<string, string> | Headers; body?: unknown }) => {
    const u = new URL(url);
    const headers = Object.fromEntries(new Headers(init.headers as ConstructorParameters<typeof Headers>[0]));
    const r = await h.req(init.method, u.pathname + u.search, { raw: String(init.body ?? ''), headers });
    const out = new Headers();
    for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) out.set(k, [v].flat().join(', '));
    return new Response(r.text, { status: r.status, headers: out });
  },
});

function authorizeUrl(client: Registered, params: Record<string, string | undefined>): string {
  const url = new URL('/auth/authorize', h.url);
  const all: Record<string, string | undefined> = { client_id: client.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'io.cozy.notes:GET io.cozy.contacts', state: 'st', ...params };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v);
  return url.pathname + url.search;
}

/** The browser: GET the consent page with the session, read the form, POST it. */
async function consent(path: string, approve = 'accept'): Promise<{ page: Res; post: Res }> {
  const page = await h.req('GET', path, { headers: { cookie: cookies } });
  expect(page.status).toBe(200);
  const fields = Object.fromEntries([...page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], (m[2] as string).replace(/&amp;/g, '&').replace(/&quot;/g, '"')]));
  expect(fields.csrf_token).toBe(CSRF);
  const post = await h.req('POST', '/auth/authorize', { raw: form({ ...fields, approve }), headers: { ...FORM, cookie: cookies } });
  return { page, post };
}

async function codeFor(client: Registered, params: Record<string, string | undefined> = {}): Promise<URL> {
  const { post } = await consent(authorizeUrl(client, params));
  expect(post.status).toBe(303);
  return new URL(String(post.headers.location));
}

const tokenPost = (fields: Record<string, string>) => h.req('POST', '/auth/access_token', { raw: form(fields), headers: FORM });

beforeAll(async () => {
  h = await startTestHearth();
  const good = await derivePassphrase('owner-pass', h.domain, ITER);
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, good, ITER);
  session = await login();
  cookies = `${session}; hearth_csrf=${CSRF}`;
});
afterAll(() => h.close());

describe('the authorization-code flow with oauth4webapi', () => {
  it('goes from consent to tokens with PKCE S256, refreshes, and the token reads its doctypes only', async () => {
    const c = await register();
    const client: oauth.Client = { client_id: c.id };
    const verifier = oauth.generateRandomCodeVerifier();
    const challenge = await oauth.calculatePKCECodeChallenge(verifier);
    const state = oauth.generateRandomState();
    const auth = new URL(as().authorization_endpoint as string);
    for (const [k, v] of Object.entries({ client_id: c.id, redirect_uri: REDIRECT, response_type: 'code', scope: 'io.cozy.notes:GET io.cozy.contacts', state, code_challenge: challenge, code_challenge_method: 'S256' })) auth.searchParams.set(k, v);

    const { page, post } = await consent(auth.pathname + auth.search);
    expect(page.text).toContain('Notes &lt;sync&gt; wants to access');
    expect(page.text).toContain('https://notes.example/');
    expect(page.text).toContain('Read your notes');
    expect(page.text).toContain('Read and modify your contacts');
    expect(page.text.indexOf('value="refuse"')).toBeLessThan(page.text.indexOf('value="accept"'));
    const csp = String(page.headers['content-security-policy']);
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
    expect(page.text).toContain(`<style nonce="${nonce}">`);
    expect(csp).toContain("form-action 'self' http://localhost:9999");
    expect(csp).not.toContain('script-src');
    expect(post.status).toBe(303);

    const params = oauth.validateAuthResponse(as(), client, new URL(String(post.headers.location)), state);
    const res = await oauth.authorizationCodeGrantRequest(as(), client, oauth.ClientSecretPost(c.secret), params, REDIRECT, verifier, options());
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const tokens = await oauth.processAuthorizationCodeResponse(as(), client, res);
    expect(tokens).toMatchObject({ token_type: 'bearer', scope: 'io.cozy.notes:GET io.cozy.contacts' });
    expect(tokens.refresh_token).toBeTruthy();
    const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1] as string, 'base64url').toString());
    expect(claims).toMatchObject({ aud: 'access', sub: c.id, iss: h.domain, scope: 'io.cozy.notes:GET io.cozy.contacts' });
    expect(claims.exp - claims.iat).toBe(7 * 24 * 3600);

    const doc = await h.hearth.storeOf(h.instance).get('io.cozy.oauth.clients', c.id);
    expect(doc.pending).toBe(false);
    expect(typeof doc.last_refreshed_at).toBe('string');

    const refreshed = await oauth.processRefreshTokenResponse(as(), client,
      await oauth.refreshTokenGrantRequest(as(), client, oauth.ClientSecretPost(c.secret), tokens.refresh_token as string, options()));
    expect(refreshed.scope).toBe('io.cozy.notes:GET io.cozy.contacts');

    const cli = await h.cliToken('io.cozy.notes');
    const note = await h.req('POST', '/data/io.cozy.notes/', { token: cli, body: { title: 'n' } });
    expect(note.status).toBe(201);
    for (const token of [tokens.access_token, refreshed.access_token]) {
      expect((await h.req('GET', `/data/io.cozy.notes/${note.body.id}`, { token })).status).toBe(200);
      expect((await h.req('GET', '/data/io.cozy.contacts/_all_docs', { token })).status).toBe(200);
      expect((await h.req('PUT', `/data/io.cozy.notes/${note.body.id}`, { token, body: { title: 'x' } })).status).toBe(403);
      expect((await h.req('GET', '/data/io.cozy.files/_all_docs', { token })).status).toBe(403);
    }
    // another instance does not accept this instance's token
    const other = await h.req('GET', '/data/io.cozy.contacts/_all_docs', { token: tokens.access_token, host: h.otherDomain });
    expect(other.status).toBe(400);

    // revocation: deleting the client refuses its tokens on the next request
    expect((await h.req('DELETE', `/auth/register/${c.id}`, { token: c.registrationToken })).status).toBe(204);
    const after = await h.req('GET', '/data/io.cozy.contacts/_all_docs', { token: tokens.access_token });
    expect(after.status).toBe(400);
    expect(after.text).toContain('Invalid JWT token');
    const refreshAfter = await tokenPost({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string, client_id: c.id, client_secret: c.secret });
    expect(refreshAfter.body.error).toBe('invalid_client');
  });

  it('revokes through DELETE /settings/clients/:id too, and works without PKCE', async () => {
    const c = await register();
    const code = (await codeFor(c)).searchParams.get('code') as string;
    const r = await tokenPost({ grant_type: 'authorization_code', code, client_id: c.id, client_secret: c.secret, redirect_uri: REDIRECT });
    expect(r.status).toBe(200);
    expect(r.headers['cache-control']).toBe('no-store');
    const token = r.body.access_token;
    expect((await h.req('GET', '/data/io.cozy.contacts/_all_docs', { token })).status).toBe(200);
    const admin = await h.cliToken('io.cozy.oauth.clients');
    expect((await h.req('DELETE', `/settings/clients/${c.id}`, { token: admin })).status).toBe(204);
    expect((await h.req('GET', '/data/io.cozy.contacts/_all_docs', { token })).status).toBe(400);
  });

  it('accepts a JSON token request', async () => {
    const c = await register();
    const code = (await codeFor(c)).searchParams.get('code') as string;
    const r = await h.req('POST', '/auth/access_token', { body: { grant_type: 'authorization_code', code, client_id: c.id, client_secret: c.secret } });
    expect(r.status).toBe(200);
    expect(r.body.token_type).toBe('bearer');
  });

  it('redirects with access_denied when the owner refuses', async () => {
    const c = await register();
    const { post } = await consent(authorizeUrl(c, { state: 'abc' }), 'refuse');
    expect(post.status).toBe(303);
    const loc = new URL(String(post.headers.location));
    expect(loc.origin + loc.pathname).toBe(REDIRECT);
    expect(Object.fromEntries(loc.searchParams)).toEqual({ error: 'access_denied', state: 'abc' });
  });

  it('speaks French when the instance locale is fr', async () => {
    await h.hearth.registry.modify(h.otherDomain, { locale: 'fr' });
    await h.hearth.registry.setDerivedPassphrase(h.other, await derivePassphrase('owner-pass', h.otherDomain, ITER), ITER);
    const other = await login(h.otherDomain);
    const r = await h.req('POST', '/auth/register', { host: h.otherDomain, body: { redirect_uris: [REDIRECT], client_name: 'X', software_id: 'x' } });
    const page = await h.req('GET', `/auth/authorize?client_id=${r.body.client_id}&redirect_uri=${encodeURIComponent(REDIRECT)}&state=s&response_type=code&scope=io.cozy.notes:GET`,
      { host: h.otherDomain, headers: { cookie: other } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<html lang="fr">');
    expect(page.text).toContain('Lire vos notes');
    expect(page.text).toContain('Refuser');
    expect([page.headers['set-cookie'] ?? []].flat().join()).toMatch(/hearth_csrf=.*Path=\/auth/);
  });
});

describe('refusals', () => {
  it('sends a visitor without a session to the login page, and back', async () => {
    const c = await register();
    const path = authorizeUrl(c, {});
    const r = await h.req('GET', path);
    expect(r.status).toBe(303);
    const loc = new URL(String(r.headers.location), h.url);
    expect(loc.pathname).toBe('/auth/login');
    expect(loc.searchParams.get('redirect')).toBe(`${h.url}${path}`);
    const posted = await h.req('POST', '/auth/authorize', { raw: form({ csrf_token: CSRF, client_id: c.id }), headers: { ...FORM, cookie: `hearth_csrf=${CSRF}` } });
    expect(posted.status).toBe(401);
  });

  it('answers a 400 page, never a redirect, for an unknown client or a redirect_uri mismatch', async () => {
    const c = await register();
    for (const params of [{ redirect_uri: 'http://localhost:9999/other' }, { redirect_uri: undefined }, { client_id: 'f'.repeat(32) }, { client_id: 'nope' }]) {
      const r = await h.req('GET', authorizeUrl(c, params), { headers: { cookie: cookies } });
      expect(r.status, JSON.stringify(params)).toBe(400);
      expect(r.headers.location).toBeUndefined();
      expect(r.headers['content-type']).toMatch(/^text\/html/);
    }
  });

  it('requires state (400), and redirects back with invalid_scope or invalid_request', async () => {
    const c = await register();
    const noState = await h.req('GET', authorizeUrl(c, { state: undefined }), { headers: { cookie: cookies } });
    expect(noState.status).toBe(400);
    expect(noState.headers.location).toBeUndefined();
    const cases: [Record<string, string | undefined>, string][] = [
      [{ scope: 'io.cozy.notes:FETCH' }, 'invalid_scope'],
      [{ scope: undefined }, 'invalid_scope'],
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }, 'invalid_request'],
      [{ code_challenge: 'a'.repeat(43) }, 'invalid_request'],
    ];
    for (const [params, error] of cases) {
      const r = await h.req('GET', authorizeUrl(c, params), { headers: { cookie: cookies } });
      expect(r.status, error).toBe(303);
      const loc = new URL(String(r.headers.location));
      expect(loc.searchParams.get('error')).toBe(error);
      expect(loc.searchParams.get('state')).toBe('st');
    }
  });

  it('refuses POST /auth/authorize without the CSRF token: 403', async () => {
    const c = await register();
    const fields = { client_id: c.id, redirect_uri: REDIRECT, state: 's', response_type: 'code', scope: 'io.cozy.notes', approve: 'accept' };
    const none = await h.req('POST', '/auth/authorize', { raw: form(fields), headers: { ...FORM, cookie: cookies } });
    expect(none.status).toBe(403);
    const wrong = await h.req('POST', '/auth/authorize', { raw: form({ ...fields, csrf_token: 'd'.repeat(43) }), headers: { ...FORM, cookie: cookies } });
    expect(wrong.status).toBe(403);
    expect(wrong.headers.location).toBeUndefined();
  });

  it('refuses a reused code with invalid_grant', async () => {
    const c = await register();
    const code = (await codeFor(c)).searchParams.get('code') as string;
    const fields = { grant_type: 'authorization_code', code, client_id: c.id, client_secret: c.secret };
    expect((await tokenPost(fields)).status).toBe(200);
    const again = await tokenPost(fields);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error: 'invalid_grant', error_description: 'this code was already used' });
  });

  it('refuses an expired code with invalid_grant', async () => {
    const c = await register();
    const code = (await codeFor(c)).searchParams.get('code') as string;
    const now = Date.now();
    const spy = vi.spyOn(Date, 'now').mockReturnValue(now + 5 * 60 * 1000 + 1000);
    try {
      const r = await tokenPost({ grant_type: 'authorization_code', code, client_id: c.id, client_secret: c.secret });
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: 'invalid_grant', error_description: 'this code has expired' });
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses a wrong PKCE verifier (or none) with invalid_grant', async () => {
    const c = await register();
    const challenge = await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier());
    for (const verifier of [oauth.generateRandomCodeVerifier(), undefined]) {
      const code = (await codeFor(c, { code_challenge: challenge, code_challenge_method: 'S256' })).searchParams.get('code') as string;
      const fields: Record<string, string> = { grant_type: 'authorization_code', code, client_id: c.id, client_secret: c.secret };
      if (verifier) fields.code_verifier = verifier;
      const r = await tokenPost(fields);
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('invalid_grant');
    }
  });

  it('refuses a wrong secret or another client with invalid_client / invalid_grant, and a wrong redirect_uri', async () => {
    const c = await register();
    const d = await register();
    const code = (await codeFor(c)).searchParams.get('code') as string;
    const wrong = await tokenPost({ grant_type: 'authorization_code', code, client_id: c.id, client_secret: d.secret });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toBe('invalid_client');
    const stolen = await tokenPost({ grant_type: 'authorization_code', code, client_id: d.id, client_secret: d.secret });
    expect(stolen.body.error).toBe('invalid_grant');
    const code2 = (await codeFor(c)).searchParams.get('code') as string;
    const uri = await tokenPost({ grant_type: 'authorization_code', code: code2, client_id: c.id, client_secret: c.secret, redirect_uri: 'http://localhost:9999/x' });
    expect(uri.body.error).toBe('invalid_grant');
    expect((await tokenPost({ grant_type: 'password', client_id: c.id, client_secret: c.secret })).body.error).toBe('unsupported_grant_type');
  });

  it('refuses a code of another instance, and an access token used as refresh token', async () => {
    const c = await register();
    const code = (await codeFor(c)).searchParams.get('code') as string;
    const r = await h.req('POST', '/auth/access_token', { raw: form({ grant_type: 'authorization_code', code, client_id: c.id, client_secret: c.secret }), headers: FORM, host: h.otherDomain });
    expect(r.body.error).toBe('invalid_client'); // the client does not exist there
    const code2 = (await codeFor(c)).searchParams.get('code') as string;
    const ok = await tokenPost({ grant_type: 'authorization_code', code: code2, client_id: c.id, client_secret: c.secret });
    const bad = await tokenPost({ grant_type: 'refresh_token', refresh_token: ok.body.access_token, client_id: c.id, client_secret: c.secret });
    expect(bad.body.error).toBe('invalid_grant');
  });
});

describeAccessCodes('memory', async (now, ttlMs) => new AccessCodes({ now, ttlMs }));

describe('units', () => {
  it('describes rights in plain words', () => {
    expect(describeRule('en', { type: 'io.cozy.contacts' })).toBe('Read and modify your contacts');
    expect(describeRule('en', { type: 'io.cozy.notes', verbs: ['GET'] })).toBe('Read your notes');
    expect(describeRule('en', { type: 'org.example.things', verbs: ['GET', 'POST'] })).toBe('GET, POST on org.example.things');
    expect(describeRule('fr', { type: 'io.cozy.files', verbs: ['GET'], values: ['x'] })).toBe('Lire vos fichiers (certains documents seulement)');
  });
});
