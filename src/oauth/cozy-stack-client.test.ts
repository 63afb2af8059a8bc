/**
 * cozy-stack-client's OAuthClient (the npm package the cozy mobile, desktop and flagship apps use)
 * against Hearth's OAuth 2, with the global fetch of Node: RFC 7591 registration, RFC 7592
 * read/update/delete, the authorization-code flow with PKCE S256 through the consent page (an owner's
 * browser over plain HTTP), the token endpoint, refresh, refusals and revocation by unregistering.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FetchError, OAuthClient } from 'cozy-stack-client';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { derivePassphrase } from '../auth/passphrase.js';
import { CLIENTS_DOCTYPE } from './clients.js';

// cozy-stack-client ships no types (src/types/modules.d.ts)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Client = any;

const ITER = 1000;
const CSRF = 'c'.repeat(43);
const REDIRECT = 'http://localhost:9999/callback';
const SCOPES = ['io.cozy.notes:GET', 'io.cozy.contacts'];
const SCOPE = SCOPES.join(' ');

let h: TestHearth;
/** The owner's browser cookies: a session on the instance and the CSRF cookie of the /auth forms. */
let cookies: string;
let noteId: string;

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Logs the owner in as flow.test.ts does: the derived passphrase posted with the CSRF cookie and field. */
async function login(): Promise<string> {
  const res = await h.req('POST', '/auth/login', { raw: form({ csrf_token: CSRF, passphrase: await derivePassphrase('owner-pass', h.domain, ITER) }), headers: { ...FORM, cookie: `hearth_csrf=${CSRF}` } });
  expect(res.status).toBe(303);
  const session = ([res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith('cozysessid=')) ?? '').split(';')[0] as string;
  expect(session).toMatch(/^cozysessid=./);
  return session;
}

function newClient(options: Record<string, unknown> = {}, oauth: Record<string, unknown> = {}): Client {
  return new OAuthClient({
    uri: h.url,
    oauth: { clientName: 'Notes sync', softwareID: 'github.com/hearth/notes-sync', softwareVersion: '1.0.0', clientKind: 'desktop', redirectURI: REDIRECT, ...oauth },
    scope: SCOPES,
    ...options,
  });
}

async function registered(options: Record<string, unknown> = {}): Promise<Client> {
  const client = newClient(options);
  await client.register();
  return client;
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The owner's browser: opens the authorize URL with its session, reads the consent form, accepts it; the redirect it gets. */
async function consent(authorizeUrl: string): Promise<URL> {
  const url = new URL(authorizeUrl);
  expect(url.origin).toBe(h.url);
  const page = await h.req('GET', url.pathname + url.search, { headers: { cookie: cookies } });
  expect(page.status).toBe(200);
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  const fields = Object.fromEntries([...page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], (m[2] as string).replace(/&amp;/g, '&').replace(/&quot;/g, '"')]));
  expect(fields.csrf_token).toBe(CSRF);
  const post = await h.req('POST', '/auth/authorize', { raw: form({ ...fields, approve: 'accept' }), headers: { ...FORM, cookie: cookies } });
  expect([302, 303]).toContain(post.status);
  const location = new URL(String(post.headers.location));
  expect(location.origin + location.pathname).toBe(REDIRECT);
  return location;
}

/** A code for this client, through OAuthClient's own URL and redirect parsing. */
async function codeFor(client: Client, codeChallenge?: string): Promise<string> {
  const stateCode = client.generateStateCode();
  const location = await consent(client.getAuthCodeURL({ stateCode, scopes: SCOPES, codeChallenge }));
  expect(location.searchParams.get('state')).toBe(stateCode);
  const code = client.getAccessCodeFromURL(location.href, stateCode);
  expect(code).toBe(location.searchParams.get('code'));
  return code;
}

/** A registered client holding a token of the whole flow (no PKCE). */
async function connected(options: Record<string, unknown> = {}): Promise<Client> {
  const client = await registered(options);
  client.setToken(await client.fetchAccessToken(await codeFor(client)));
  return client;
}

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString());
const readNote = (client: Client) => client.fetchJSON('GET', `/data/io.cozy.notes/${noteId}`);

beforeAll(async () => {
  h = await startTestHearth();
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, await derivePassphrase('owner-pass', h.domain, ITER), ITER);
  cookies = `${await login()}; hearth_csrf=${CSRF}`;
  const note = await h.req('POST', '/data/io.cozy.notes/', { token: await h.cliToken('io.cozy.notes'), body: { title: 'Groceries' } });
  expect(note.status).toBe(201);
  noteId = note.body.id;
});
afterAll(() => h.close());

describe('OAuthClient registration (RFC 7591 and 7592)', () => {
  it('register() gets client_id, client_secret and registration_access_token, and the client keeps them', async () => {
    const client = newClient();
    expect(client.isRegistered()).toBe(false);
    const info = await client.register();
    expect(client.isRegistered()).toBe(true);
    expect(info).toBe(client.oauthOptions);
    expect(info.clientID).toMatch(/^[0-9a-f]{32}$/);
    expect(info.clientSecret).toMatch(/^[\w-]{40,}$/);
    expect(info.registrationAccessToken.split('.')).toHaveLength(3);
    expect(claimsOf(info.registrationAccessToken)).toMatchObject({ aud: 'registration', sub: info.clientID, iss: h.domain });
    expect(info).toMatchObject({ clientName: 'Notes sync', softwareID: 'github.com/hearth/notes-sync', redirectURI: REDIRECT });
    // OAuthClient sends every optional field, unset ones as "": Hearth stores the given ones only.
    const doc = await h.hearth.storeOf(h.instance).get(CLIENTS_DOCTYPE, info.clientID);
    expect(doc).toMatchObject({ client_name: 'Notes sync', client_kind: 'desktop', software_version: '1.0.0', redirect_uris: [REDIRECT], pending: true });
    for (const unset of ['client_uri', 'logo_uri', 'policy_uri', 'notification_platform', 'notification_device_token']) expect(doc[unset], unset).toBeUndefined();
    // A second register() of the same object is refused by OAuthClient itself.
    await expect(client.register()).rejects.toThrow('Client already registered');
  });

  it('fetchInformation() and updateInformation() read and change the registration with the registration token', async () => {
    const client = await registered();
    const { clientID, clientSecret, registrationAccessToken } = client.oauthOptions;
    const before = await client.fetchInformation();
    expect(before).toMatchObject({ client_id: clientID, client_name: 'Notes sync', software_id: 'github.com/hearth/notes-sync', redirect_uris: [REDIRECT], client_kind: 'desktop' });
    expect(before.client_secret).toBe(clientSecret); // as cozy-stack: the registration token's holder reads it

    // resetSecret = true sends the current secret, which rotates it (as cozy-stack does)
    const updated = await client.updateInformation({ clientName: 'Notes sync (laptop)', clientURI: 'https://notes.example/', clientKind: 'desktop' }, true);
    expect(updated).toBe(client.oauthOptions);
    // (OAuthClient camel-cases a few fields only: client_uri stays as the server answers it)
    expect(updated).toMatchObject({ clientID, clientName: 'Notes sync (laptop)', client_uri: 'https://notes.example/', redirectURI: [REDIRECT] });
    expect(updated.clientSecret).toMatch(/^[\w-]{40,}$/);
    expect(updated.clientSecret).not.toBe(clientSecret);
    // OAuthClient rebuilds its options from the PUT body and answer, which (as cozy-stack's) has no registration_access_token
    expect(updated.registrationAccessToken).toBeUndefined();
    client.setOAuthOptions({ ...client.oauthOptions, registrationAccessToken });

    const after = await client.fetchInformation();
    expect(after).toMatchObject({ client_id: clientID, client_name: 'Notes sync (laptop)', client_uri: 'https://notes.example/' });
    expect(after.software_version).toBeUndefined(); // PUT replaces the metadata: what was not sent is gone

    // the rotated secret is the one the token endpoint now accepts
    const code = await codeFor(client);
    await expect(client.fetchAccessToken(code, { ...client.oauthOptions, clientSecret })).rejects.toMatchObject({ status: 400, reason: { error: 'invalid_client' } });
    const token = await client.fetchAccessToken(code);
    expect(token.scope).toBe(SCOPE);
  });

  it('updateInformation() without resetSecret keeps the secret working (the answer gives it back)', async () => {
    const client = await registered();
    const { clientSecret, registrationAccessToken } = client.oauthOptions;
    const updated = await client.updateInformation({ notificationPlatform: 'android', notificationDeviceToken: 'device-1' });
    expect(updated.clientSecret).toBe(clientSecret);
    client.setOAuthOptions({ ...client.oauthOptions, registrationAccessToken });
    expect(await client.fetchInformation()).toMatchObject({ notification_platform: 'android', notification_device_token: 'device-1' });
    const token = await client.fetchAccessToken(await codeFor(client));
    expect(token.scope).toBe(SCOPE);
  });
});

describe('OAuthClient authorization-code flow', () => {
  it('gets a code through the consent page with PKCE S256, and a token that reads the granted doctypes only', async () => {
    const client = await registered();
    const { verifier, challenge } = pkce();
    const stateCode = client.generateStateCode();
    const url = new URL(client.getAuthCodeURL({ stateCode, scopes: SCOPES, codeChallenge: challenge }));
    expect(url.pathname).toBe('/auth/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: client.oauthOptions.clientID, redirect_uri: REDIRECT, state: stateCode, response_type: 'code', scope: SCOPE,
      code_challenge: challenge, code_challenge_method: 'S256',
    });

    const location = await consent(url.href);
    expect(location.searchParams.get('state')).toBe(stateCode);
    const code = client.getAccessCodeFromURL(location.href, stateCode);
    expect(code).toBeTruthy();
    expect(code).toBe(location.searchParams.get('code'));
    expect(() => client.getAccessCodeFromURL(location.href, 'another-state')).toThrow('Given state does not match url query state');

    // without the verifier the code is refused; it is then spent, so the flow starts again
    await expect(client.fetchAccessToken(code)).rejects.toMatchObject({ status: 400, reason: { error: 'invalid_grant' } });
    const code2 = client.getAccessCodeFromURL((await consent(client.getAuthCodeURL({ stateCode, codeChallenge: challenge }))).href, stateCode);
    const token = await client.fetchAccessToken(code2, undefined, undefined, verifier);
    expect(token.toJSON()).toMatchObject({ tokenType: 'bearer', scope: SCOPE });
    expect(token.accessToken).toBeTruthy();
    expect(token.refreshToken).toBeTruthy();
    expect(token.accessToken).not.toBe(token.refreshToken);
    expect(claimsOf(token.accessToken)).toMatchObject({ aud: 'access', sub: client.oauthOptions.clientID, scope: SCOPE, iss: h.domain });
    // fetchAccessToken does not set the token on the client
    expect(client.token).toBeFalsy();

    client.setToken(token);
    expect(client.getAuthorizationHeader()).toBe(`Bearer ${token.accessToken}`);
    expect(await readNote(client)).toMatchObject({ _id: noteId, title: 'Groceries' });
    expect(await client.fetchJSON('GET', '/data/io.cozy.contacts/_all_docs')).toMatchObject({ rows: [] });
    // GET only on notes; nothing on files
    await expect(client.fetchJSON('PUT', `/data/io.cozy.notes/${noteId}`, { title: 'x' })).rejects.toMatchObject({ status: 403 });
    const refused = await client.fetchJSON('GET', '/data/io.cozy.files/_all_docs').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FetchError);
    expect(refused).toMatchObject({ status: 403, reason: { error: 'forbidden' } });

    const doc = await h.hearth.storeOf(h.instance).get(CLIENTS_DOCTYPE, client.oauthOptions.clientID);
    expect(doc.pending).toBe(false);
  });

  it('refreshToken() gets a new access token that works, keeps the refresh token and calls onTokenRefresh', async () => {
    const refreshed: unknown[] = [];
    const client = await connected({ onTokenRefresh: (t: unknown) => refreshed.push(t) });
    const old = client.token;
    // tokens are stateless JWTs with a second-resolution iat: let a second pass so that the new one differs
    const iat = claimsOf(old.accessToken).iat as number;
    while (Math.floor(Date.now() / 1000) <= iat) await new Promise((r) => setTimeout(r, 50));

    const token = await client.refreshToken();
    expect(client.token).toBe(token);
    expect(refreshed).toEqual([token]);
    expect(token.accessToken).not.toBe(old.accessToken);
    expect(token.refreshToken).toBe(old.refreshToken);
    expect(token).toMatchObject({ tokenType: 'bearer', scope: SCOPE });
    expect(claimsOf(token.accessToken)).toMatchObject({ aud: 'access', sub: client.oauthOptions.clientID, scope: SCOPE });
    expect(await readNote(client)).toMatchObject({ _id: noteId });
    await expect(client.fetchJSON('GET', '/data/io.cozy.files/_all_docs')).rejects.toMatchObject({ status: 403 });
  });
});

describe('refusals seen through OAuthClient', () => {
  it('refuses a code used twice with invalid_grant', async () => {
    const client = await registered();
    const code = await codeFor(client);
    expect((await client.fetchAccessToken(code)).accessToken).toBeTruthy();
    const again = await client.fetchAccessToken(code).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(FetchError);
    expect(again).toMatchObject({ status: 400, reason: { error: 'invalid_grant', error_description: 'this code was already used' } });
  });

  it('refuses a wrong client secret with invalid_client, for a code and for a refresh', async () => {
    const client = await registered();
    const code = await codeFor(client);
    const wrong = { ...client.oauthOptions, clientSecret: 'not-the-secret' };
    const refused = await client.fetchAccessToken(code, wrong).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400, reason: { error: 'invalid_client', error_description: 'the client secret is wrong' } });
    expect(client.isRevocationError(refused)).toBeFalsy(); // a wrong secret is no revocation
    // the client is authenticated before the code is looked at: the code is still good
    client.setToken(await client.fetchAccessToken(code));
    const { clientSecret } = client.oauthOptions;
    client.setOAuthOptions({ ...client.oauthOptions, clientSecret: 'not-the-secret' });
    await expect(client.refreshToken()).rejects.toMatchObject({ status: 400, reason: { error: 'invalid_client' } });
    client.setOAuthOptions({ ...client.oauthOptions, clientSecret });
    expect((await client.refreshToken()).accessToken).toBeTruthy();
  });
});

describe('unregister()', () => {
  it('deletes the client: its access token is refused on the next request, and the registration is gone', async () => {
    const client = await connected();
    expect(await readNote(client)).toMatchObject({ _id: noteId });
    // what an app persists to find its client again (OAuthClient forgets its client_id on unregister)
    const saved = { ...client.oauthOptions };
    const { accessToken } = client.token;

    expect(await client.unregister()).toBe(''); // 204, no body
    expect(client.isRegistered()).toBe(false);
    await expect(client.fetchInformation()).rejects.toThrow('Client not registered or missing OAuth information');
    await expect(h.hearth.storeOf(h.instance).get(CLIENTS_DOCTYPE, saved.clientID)).rejects.toThrow();

    // the next request with the token, as any HTTP client sends it
    const raw = await h.req('GET', `/data/io.cozy.notes/${noteId}`, { token: accessToken });
    expect(raw.status).toBe(400);
    expect(raw.body).toMatchObject({ error: 'Invalid JWT token' });

    // the same app restarted from its saved options: the server says the client is gone, and OAuthClient sees a revocation
    const revocations: boolean[] = [];
    const restored = newClient({ onRevocationChange: (revoked: boolean) => revocations.push(revoked) }, { ...saved, token: client.token.toJSON() });
    expect(restored.isRegistered()).toBe(true);
    await expect(readNote(restored)).rejects.toMatchObject({ status: 400, reason: { error: 'Invalid JWT token' } });
    const info = await restored.fetchInformation().catch((e: unknown) => e);
    expect(info).toBeInstanceOf(FetchError);
    expect(info).toMatchObject({ status: 404, reason: { error: 'Client not found' } });
    expect(restored.isRevocationError(info)).toBe(true);
    expect(await restored.checkForRevocation()).toBe(true);
    const refresh = await restored.refreshToken().catch((e: unknown) => e);
    expect(refresh).toMatchObject({ status: 400, reason: { error: 'invalid_client', error_description: 'the client must be registered' } });
    expect(restored.isRevocationError(refresh)).toBe(true);
    expect(revocations.length).toBeGreaterThan(0);
    expect(revocations.every((r) => r)).toBe(true);
  });
});
