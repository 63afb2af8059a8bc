import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../test/helpers/hearth.js';
import type { Instance } from '../instances/types.js';
import { readMail } from '../mail/mime-read.js';
import { listOutbox, outboxDir, readOutboxMail } from '../mail/outbox.js';
import { derivePassphrase } from './passphrase.js';
import { REGISTER_CSRF_COOKIE, RESET_TOKEN_TTL_MS } from './passphrase-routes.js';

const ITER = 1000;
const CSRF = 'c'.repeat(43);
let h: TestHearth;

beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());
afterEach(() => vi.restoreAllMocks());

const setCookies = (r: Res): string[] => [r.headers['set-cookie'] ?? []].flat();
const cookieOf = (r: Res): string => (setCookies(r).find((c) => c.startsWith('cozysessid=')) ?? '').split(';')[0] as string;
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const derive = (pw: string, domain: string) => derivePassphrase(pw, domain, ITER);

function postForm(host: string, path: string, fields: Record<string, string>, cookie = `hearth_csrf=${CSRF}`): Promise<Res> {
  return h.req('POST', path, { raw: form({ csrf_token: CSRF, ...fields }), headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, host });
}

async function login(domain: string, pw: string): Promise<Res> {
  return postForm(domain, '/auth/login', { passphrase: await derive(pw, domain), redirect: '' });
}

async function newInstance(domain: string, extra: { email?: string; locale?: string } = {}): Promise<Instance> {
  return h.hearth.registry.create({ domain, ...extra });
}

function register(domain: string, token: string, passphrase: string): Promise<Res> {
  return postForm(domain, '/settings/passphrase', { register_token: token, passphrase, iterations: String(ITER) }, `${REGISTER_CSRF_COOKIE}=${CSRF}`);
}

describe('onboarding with the registration link', () => {
  it('gives a registration URL in the admin API answer, for an instance without passphrase only', async () => {
    const auth = `Basic ${Buffer.from('admin:admin-secret').toString('base64')}`;
    const r = await h.hearth.adminApp.inject({ method: 'POST', url: '/instances', headers: { authorization: auth }, payload: { domain: 'admin.example.org' } });
    expect(r.statusCode).toBe(201);
    const url = r.json().data.meta.registration_url as string;
    expect(url).toMatch(/^https:\/\/admin\.example\.org\/auth\/passphrase\?registerToken=[0-9a-f]{32}$/);
    const page = await h.req('GET', new URL(url).pathname + new URL(url).search, { host: 'admin.example.org' });
    expect(page.status).toBe(200);
    const withPass = await h.hearth.adminApp.inject({ method: 'POST', url: '/instances', headers: { authorization: auth }, payload: { domain: 'set.example.org', passphrase: 'xxxxxxxx' } });
    expect(withPass.json().data.meta.registration_url).toBeUndefined();
  });

  it('renders the choose-passphrase page (CSP nonce, CSRF, strength meter, shared derivation), in French too', async () => {
    const inst = await newInstance('fr.example.org', { locale: 'fr' });
    const r = await h.req('GET', `/auth/passphrase?registerToken=${inst.registerToken}`, { host: inst.domain });
    expect(r.status).toBe(200);
    const nonce = /script-src 'nonce-([^']+)'/.exec(String(r.headers['content-security-policy']))?.[1];
    expect(r.text).toContain(`<script nonce="${nonce}">`);
    expect(r.text).toContain('<html lang="fr">');
    expect(r.text).toContain('Confirmez la phrase de passe');
    expect(r.text).toContain('<meter');
    expect(r.text).toContain("name:'PBKDF2'");
    expect(r.text).toContain('action="/settings/passphrase"');
    const csrf = setCookies(r).find((c) => c.startsWith(`${REGISTER_CSRF_COOKIE}=`)) ?? '';
    expect(csrf).toMatch(/Path=\/settings\/passphrase/);
    expect(r.text).toContain(`name="csrf_token" value="${/=([^;]+)/.exec(csrf)?.[1]}"`);
    expect((await h.req('GET', '/auth/passphrase?registerToken=' + '0'.repeat(32), { host: inst.domain })).status).toBe(400);
  });

  it('sets the passphrase once, opens a session, then the login works with it', async () => {
    const inst = await newInstance('new.example.org');
    expect(inst.onboarded).toBe(false);
    const token = inst.registerToken as string;
    const derived = await derive('a long passphrase', inst.domain);
    // no CSRF cookie → refused, token kept
    const noCsrf = await postForm(inst.domain, '/settings/passphrase', { register_token: token, passphrase: derived }, '');
    expect(noCsrf.status).toBe(403);
    // no derived value → refused, token kept
    expect((await register(inst.domain, token, 'short')).status).toBe(400);
    const ok = await register(inst.domain, token, derived);
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('http://new.example.org/');
    const cookie = cookieOf(ok);
    expect(cookie).toMatch(/^cozysessid=/);
    expect((await h.req('GET', '/settings/sessions', { headers: { cookie }, host: inst.domain })).status).toBe(200);
    const after = await h.hearth.registry.get(inst.domain);
    expect(after?.onboarded).toBe(true);
    expect(after?.kdfIterations).toBe(ITER);
    // single use
    const again = await register(inst.domain, token, await derive('another passphrase', inst.domain));
    expect(again.status).toBe(400);
    expect((await h.req('GET', `/auth/passphrase?registerToken=${token}`, { host: inst.domain })).status).toBe(400);
    expect((await login(inst.domain, 'a long passphrase')).status).toBe(303);
    expect((await login(inst.domain, 'another passphrase')).status).toBe(401);
  });

  it('accepts JSON and refuses a wrong token', async () => {
    const inst = await newInstance('json.example.org');
    const passphrase = await derive('json passphrase', inst.domain);
    const wrong = await h.req('POST', '/settings/passphrase', { body: { register_token: 'f'.repeat(32), passphrase }, host: inst.domain });
    expect(wrong.status).toBe(400);
    const r = await h.req('POST', '/settings/passphrase', { body: { register_token: inst.registerToken, passphrase, iterations: ITER }, host: inst.domain });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ redirect: 'http://json.example.org/' });
    expect(cookieOf(r)).toMatch(/^cozysessid=/);
  });
});

describe('changing and checking the passphrase', () => {
  let inst: Instance;
  let cookieA: string;
  let cookieB: string;
  beforeAll(async () => {
    inst = await newInstance('change.example.org');
    await register(inst.domain, inst.registerToken as string, await derive('first passphrase', inst.domain));
    cookieA = cookieOf(await login(inst.domain, 'first passphrase'));
    cookieB = cookieOf(await login(inst.domain, 'first passphrase'));
  });
  const put = (cookie: string, body: unknown) => h.req('PUT', '/settings/passphrase', { body, headers: { cookie }, host: inst.domain });
  const check = (cookie: string, body: unknown) => h.req('POST', '/settings/passphrase/check', { body, headers: { cookie }, host: inst.domain });

  it('checks the passphrase of a session: 204 or 403; 401 without a session', async () => {
    expect((await check(cookieA, { passphrase: await derive('first passphrase', inst.domain) })).status).toBe(204);
    expect((await check(cookieA, { passphrase: await derive('nope nope', inst.domain) })).status).toBe(403);
    expect((await check('', { passphrase: await derive('first passphrase', inst.domain) })).status).toBe(401);
  });

  it('refuses a wrong current passphrase (counted in the lock-out), then changes it and logs the other sessions out', async () => {
    const next = await derive('second passphrase', inst.domain);
    const before = (await h.hearth.lockout.status(inst.id, '127.0.0.1')).failures;
    const wrong = await put(cookieA, { current_passphrase: await derive('wrong one', inst.domain), new_passphrase: next });
    expect(wrong.status).toBe(400);
    expect((await h.hearth.lockout.status(inst.id, '127.0.0.1')).failures).toBe(before + 1);
    expect((await put('', { current_passphrase: await derive('first passphrase', inst.domain), new_passphrase: next })).status).toBe(401);
    const ok = await put(cookieA, { current_passphrase: await derive('first passphrase', inst.domain), new_passphrase: next, iterations: ITER });
    expect(ok.status).toBe(204);
    expect((await h.req('GET', '/settings/sessions', { headers: { cookie: cookieA }, host: inst.domain })).status).toBe(200);
    expect((await h.req('GET', '/settings/sessions', { headers: { cookie: cookieB }, host: inst.domain })).status).toBe(401);
    expect((await login(inst.domain, 'first passphrase')).status).toBe(401);
    expect((await login(inst.domain, 'second passphrase')).status).toBe(303);
  });
});

describe('reset by mail', () => {
  async function mailsTo(domain: string): Promise<string[]> {
    const dir = outboxDir(h.dataDir);
    // the outbox records the instance that sent each mail (mail/outbox.ts lists by instance)
    const id = (await h.hearth.registry.get(domain))?.id;
    const mails = ((await listOutbox(dir)) ?? []).filter((m) => m.instanceId === id);
    return Promise.all(mails.map(async (m) => readMail(await readOutboxMail(dir, m.id)).text ?? ''));
  }
  const linkIn = (text: string) => /http:\/\/[^\s]+\/auth\/passphrase_renew\?token=([0-9a-f]{32})/.exec(text);
  const askReset = (domain: string) => postForm(domain, '/auth/passphrase_reset', {});
  const SENT = 'If this instance has an e-mail address, a link to choose a new passphrase was sent to it.';

  let inst: Instance;
  beforeAll(async () => {
    inst = await newInstance('reset.example.org', { email: 'owner@example.org' });
    await register(inst.domain, inst.registerToken as string, await derive('forgotten passphrase', inst.domain));
  });

  it('has a page with a button and a CSRF field; the POST needs the CSRF token', async () => {
    const r = await h.req('GET', '/auth/passphrase_reset', { host: inst.domain });
    expect(r.status).toBe(200);
    expect(r.text).toContain('action="/auth/passphrase_reset"');
    expect(r.text).toContain('name="csrf_token"');
    expect((await postForm(inst.domain, '/auth/passphrase_reset', {}, '')).status).toBe(403);
  });

  it('mails a link that sets the passphrase once and logs every session out', async () => {
    const session = cookieOf(await login(inst.domain, 'forgotten passphrase'));
    const r = await askReset(inst.domain);
    expect(r.status).toBe(200);
    expect(r.text).toContain(SENT);
    const texts = await mailsTo(inst.domain);
    expect(texts).toHaveLength(1);
    const m = linkIn(texts[0] as string);
    expect(m?.[0]).toMatch(/^http:\/\/reset\.example\.org\/auth\/passphrase_renew\?token=/);
    const token = m?.[1] as string;
    const page = await h.req('GET', `/auth/passphrase_renew?token=${token}`, { host: inst.domain });
    expect(page.status).toBe(200);
    expect(page.text).toContain('action="/auth/passphrase_renew"');
    const derived = await derive('remembered passphrase', inst.domain);
    const set = await postForm(inst.domain, '/auth/passphrase_renew', { token, passphrase: derived, iterations: String(ITER) });
    expect(set.status).toBe(303);
    expect(set.headers.location).toBe('/auth/login');
    expect((await h.req('GET', '/settings/sessions', { headers: { cookie: session }, host: inst.domain })).status).toBe(401);
    expect((await login(inst.domain, 'remembered passphrase')).status).toBe(303);
    const reuse = await postForm(inst.domain, '/auth/passphrase_renew', { token, passphrase: await derive('third passphrase', inst.domain) });
    expect(reuse.status).toBe(400);
    expect(reuse.text).toContain('href="/auth/passphrase_reset"');
    expect((await login(inst.domain, 'remembered passphrase')).status).toBe(303);
  });

  it('refuses an expired link with a page to ask again', async () => {
    await askReset(inst.domain);
    const token = linkIn((await mailsTo(inst.domain)).at(-1) as string)?.[1] as string;
    const now = Date.now();
    vi.spyOn(Date, 'now').mockReturnValue(now + RESET_TOKEN_TTL_MS + 1000);
    const page = await h.req('GET', `/auth/passphrase_renew?token=${token}`, { host: inst.domain });
    expect(page.status).toBe(400);
    expect(page.text).toContain('This link has expired or was already used.');
    expect(page.text).toContain('href="/auth/passphrase_reset"');
    expect((await postForm(inst.domain, '/auth/passphrase_renew', { token, passphrase: await derive('too late pass', inst.domain) })).status).toBe(400);
    vi.restoreAllMocks();
    expect((await login(inst.domain, 'remembered passphrase')).status).toBe(303);
  });

  it('answers the same without an e-mail address, and sends nothing', async () => {
    const none = await newInstance('nomail.example.org');
    const r = await askReset(none.domain);
    expect(r.status).toBe(200);
    expect(r.text).toContain(SENT);
    expect(await mailsTo(none.domain)).toHaveLength(0);
  });

  it('rate-limits the requests of an instance: 429', async () => {
    const busy = await newInstance('busy.example.org', { email: 'busy@example.org' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await askReset(busy.domain)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expect(await mailsTo(busy.domain)).toHaveLength(5);
  });
});
