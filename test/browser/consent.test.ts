/**
 * The OAuth consent page in a real browser (Debian's headless Chromium through playwright-core):
 * a client registered through POST /auth/register with a redirect_uri on a tiny local callback
 * server, an authorize URL with state and PKCE S256, the rights in plain words, a click on Accept
 * (code exchanged here for a token that reads /data) or on Refuse (access_denied).
 * Screenshots land in test-results/screenshots/.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startTestHearth, type TestHearth } from '../helpers/hearth.js';
import { launchBrowser, screenshot } from '../helpers/browser.js';
import { derivePassphrase } from '../../src/auth/passphrase.js';

/** Few PBKDF2 iterations so that both Node and the page derive in milliseconds (production: 650 000). */
const ITER = 1000;
const SCOPE = 'io.cozy.notes:GET io.cozy.contacts';
let h: TestHearth;
let browser: Browser;
let callbackServer: Server;
let redirectUri: string;
/** The query strings the callback server received, in order. */
const received: URLSearchParams[] = [];

interface Client { id: string; secret: string }
interface Authorize { url: string; state: string; verifier: string }

async function register(): Promise<Client> {
  const r = await fetch(`${h.url}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirectUri], client_name: 'Notes sync', software_id: 'github.com/hearth/notes-sync', client_uri: 'https://notes.example/' }),
  });
  expect(r.status).toBe(201);
  const body = (await r.json()) as { client_id: string; client_secret: string };
  return { id: body.client_id, secret: body.client_secret };
}

/** An authorize URL with a random state and a PKCE S256 challenge. */
function authorizeUrl(client: Client): Authorize {
  const state = randomBytes(16).toString('base64url');
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const url = new URL('/auth/authorize', h.url);
  for (const [k, v] of Object.entries({ client_id: client.id, redirect_uri: redirectUri, response_type: 'code', scope: SCOPE, state, code_challenge: challenge, code_challenge_method: 'S256' })) url.searchParams.set(k, v);
  return { url: url.toString(), state, verifier };
}

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 800, height: 600 }, locale: 'en-US' });
  return { context, page: await context.newPage() };
}

/** Types the passphrase on the login page the browser is on (the page derives it with WebCrypto). */
async function typePassphrase(page: Page): Promise<void> {
  await page.getByLabel('Passphrase').fill('owner-pass');
  await page.keyboard.press('Enter');
}

beforeAll(async () => {
  callbackServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Chromium also asks for /favicon.ico: only the callback is recorded.
    if (url.pathname !== '/callback') return void res.writeHead(404).end();
    received.push(url.searchParams);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Callback</title><p>The application got the answer.</p>');
  });
  await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
  redirectUri = `http://localhost:${(callbackServer.address() as AddressInfo).port}/callback`;
  [h, browser] = await Promise.all([startTestHearth(), launchBrowser()]);
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, await derivePassphrase('owner-pass', h.domain, ITER), ITER);
});
afterAll(async () => {
  await browser?.close();
  await h?.close();
  await new Promise<void>((resolve) => (callbackServer ? callbackServer.close(() => resolve()) : resolve()));
});

describe('OAuth consent in Chromium', () => {
  it('lists the rights in plain words; Accept sends a code and the same state to the callback, and the token reads /data', async () => {
    const client = await register();
    const auth = authorizeUrl(client);
    const { context, page } = await newPage();
    try {
      await page.goto(`${h.url}/auth/login`);
      await typePassphrase(page);
      await page.waitForURL(`${h.url}/`);

      await page.goto(auth.url);
      await expect(page.title()).resolves.toBe(`Authorize an application · ${h.domain}`);
      expect(await page.locator('h1').textContent()).toBe(`Notes sync wants to access ${h.domain}`);
      expect(await page.locator('main').textContent()).toContain('It asks to:');
      expect(await page.locator('main li').allTextContents()).toEqual(['Read your notes', 'Read and modify your contacts']);
      expect(await page.getByRole('link', { name: 'https://notes.example/' }).count()).toBe(1);
      expect(await page.locator('main').textContent()).toContain('You can revoke this access at any time in your settings.');
      // Refuse is the default: it is focused, so Enter would refuse.
      expect(await page.evaluate<string>('document.activeElement?.textContent')).toBe('Refuse');
      await screenshot(page, 'consent-en');

      const count = received.length;
      await page.getByRole('button', { name: 'Accept' }).click();
      await page.waitForURL((u) => u.toString().startsWith(redirectUri));
      const landed = new URL(page.url());
      expect(landed.origin + landed.pathname).toBe(redirectUri);
      expect(landed.searchParams.get('state')).toBe(auth.state);
      const code = landed.searchParams.get('code');
      expect(code).toBeTruthy();
      expect(landed.searchParams.get('error')).toBeNull();
      expect(received.length).toBe(count + 1);
      expect(received.at(-1)?.get('code')).toBe(code);
      await screenshot(page, 'consent-en-callback');

      const tokenRes = await fetch(`${h.url}/auth/access_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, client_id: client.id, client_secret: client.secret, redirect_uri: redirectUri, code_verifier: auth.verifier }),
      });
      expect(tokenRes.status).toBe(200);
      const tokens = (await tokenRes.json()) as { access_token: string; token_type: string; scope: string };
      expect(tokens).toMatchObject({ token_type: 'bearer', scope: SCOPE });

      const note = await h.req('POST', '/data/io.cozy.notes/', { token: await h.cliToken('io.cozy.notes'), body: { title: 'from the browser test' } });
      expect(note.status).toBe(201);
      const read = await fetch(`${h.url}/data/io.cozy.notes/${note.body.id}`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(read.status).toBe(200);
      expect(((await read.json()) as { title: string }).title).toBe('from the browser test');
      // The rights are the ones shown: reading files was not asked for.
      expect((await fetch(`${h.url}/data/io.cozy.files/_all_docs`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status).toBe(403);
    } finally {
      await context.close();
    }
  });

  it('Refuse sends access_denied and the same state to the callback (reached through the login page)', async () => {
    const client = await register();
    const auth = authorizeUrl(client);
    const { context, page } = await newPage();
    try {
      // Without a session the authorize URL goes through the login page and comes back.
      await page.goto(auth.url);
      await page.waitForURL((u) => u.pathname === '/auth/login');
      await typePassphrase(page);
      await page.waitForURL((u) => u.pathname === '/auth/authorize');
      expect(await page.locator('main li').allTextContents()).toEqual(['Read your notes', 'Read and modify your contacts']);

      await page.getByRole('button', { name: 'Refuse' }).click();
      await page.waitForURL((u) => u.toString().startsWith(redirectUri));
      const landed = new URL(page.url());
      expect(Object.fromEntries(landed.searchParams)).toEqual({ error: 'access_denied', state: auth.state });
      expect(received.at(-1)?.get('error')).toBe('access_denied');
    } finally {
      await context.close();
    }
  });
});
