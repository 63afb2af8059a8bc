import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type Res, type TestHearth } from '../../test/helpers/hearth.js';
import type { Instance, TwoFactorStore } from '../instances/types.js';
import { listOutbox, outboxDir, readOutboxMail } from '../mail/outbox.js';
import { derivePassphrase } from './passphrase.js';
import { twoFactorToken } from './twofactor/mailcode.js';
import { totp } from '../../test/helpers/totp.js';

const ITER = 1000;
const CSRF = 'c'.repeat(43);
let h: TestHearth;
let good: string;


/** The registry the server runs on is the SQLite one, which stores the second factor. */
const store = () => h.hearth.registry as unknown as TwoFactorStore;
const setCookies = (r: Res): string[] => [r.headers['set-cookie'] ?? []].flat();
const cookieOf = (r: Res): string => (setCookies(r).find((c) => c.startsWith('cozysessid=')) ?? '').split(';')[0] as string;
const form = (fields: Record<string, string>) => new URLSearchParams({ csrf_token: CSRF, ...fields }).toString();
const formHeaders = { 'content-type': 'application/x-www-form-urlencoded', cookie: `hearth_csrf=${CSRF}` };
/** The two-factor token of the prompt a form post was sent on to (Post/Redirect/Get). */
const tokenIn = (r: Res) => new URL(String(r.headers.location ?? ''), 'http://x').searchParams.get('two_factor_token') ?? '';
/** The page a 303 leads to, on the same host. */
const follow = (r: Res, domain: string) => h.req('GET', String(r.headers.location), { host: domain });

async function passphraseFor(domain: string): Promise<string> {
  return derivePassphrase('owner-pass', domain, ITER);
}

async function setUp(domain: string, email: string | null = null): Promise<Instance> {
  const existing = await h.hearth.registry.get(domain);
  const inst = existing ?? (await h.hearth.registry.create({ domain, email }));
  return h.hearth.registry.setDerivedPassphrase(inst, await passphraseFor(domain), ITER);
}

const postLogin = async (domain: string, redirect = '') =>
  h.req('POST', '/auth/login', { raw: form({ passphrase: await passphraseFor(domain), redirect }), headers: formHeaders, host: domain });
const postCode = (domain: string, token: string, passcode: string, redirect = '') =>
  h.req('POST', '/auth/twofactor', { raw: form({ 'two-factor-token': token, 'two-factor-passcode': passcode, redirect }), headers: formHeaders, host: domain });
const isLoggedIn = async (cookie: string, domain: string) => (await h.req('GET', '/settings/sessions', { headers: { cookie }, host: domain })).status === 200;
// Node's client sends a DELETE body without Content-Length unless told.
const json = (method: string, path: string, cookie: string, domain: string, body: unknown = {}) =>
  h.req(method, path, { body, headers: { cookie, 'content-length': String(Buffer.byteLength(JSON.stringify(body))) }, host: domain });

beforeAll(async () => {
  h = await startTestHearth();
  good = await passphraseFor(h.domain);
  h.instance = await h.hearth.registry.setDerivedPassphrase(h.instance, good, ITER);
});
afterAll(() => h.close());

describe('TOTP enrolment and login', () => {
  let secret = '';
  let recovery: string[] = [];
  let owner = '';

  it('enrols an authenticator app: pending until confirmed, then recovery codes shown once', async () => {
    owner = cookieOf(await postLogin(h.domain));
    expect(await isLoggedIn(owner, h.domain)).toBe(true);
    expect((await json('POST', '/settings/twofactor/totp', '', h.domain)).status).toBe(401);
    const start = await json('POST', '/settings/twofactor/totp', owner, h.domain);
    expect(start.status).toBe(200);
    secret = start.body.secret;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(start.body.otpauth_uri).toContain(`secret=${secret}`);
    expect(start.body.qr_svg).toContain('<svg');
    // Stored sealed, not in clear.
    const state = await store().twoFactor(h.instance);
    expect(state.authMode).toBe('basic');
    expect(state.totpSecret).toMatch(/^v1\./);
    expect(state.totpSecret).not.toContain(secret);
    // Still pending: the passphrase alone logs in.
    expect(cookieOf(await postLogin(h.domain))).not.toBe('');
    expect((await json('POST', '/settings/twofactor/totp/confirm', owner, h.domain, { code: '000000' === totp(secret, Date.now()) ? '111111' : '000000' })).status).toBe(422);
    const ok = await json('POST', '/settings/twofactor/totp/confirm', owner, h.domain, { code: totp(secret, Date.now()) });
    expect(ok.status).toBe(200);
    recovery = ok.body.recovery_codes;
    expect(recovery).toHaveLength(10);
    expect((await store().twoFactor(h.instance)).authMode).toBe('two_factor_totp');
  });

  it('asks for the code after the passphrase, then opens the session; the same code is refused again', async () => {
    const step1 = await postLogin(h.domain, `http://drive.${h.domain}/#/x`);
    // Post/Redirect/Get: the prompt is a GET, so a reload or "back" never posts the passphrase again
    expect(step1.status).toBe(303);
    expect(step1.headers['cache-control']).toBe('no-store');
    expect(step1.headers.location).toMatch(/^\/auth\/twofactor\?two_factor_token=[^&]+&redirect=http%3A%2F%2Fdrive\./);
    expect(cookieOf(step1)).toBe('');
    const prompt = await follow(step1, h.domain);
    expect(prompt.status).toBe(200);
    expect(prompt.text).toContain('name="two-factor-passcode"');
    expect(prompt.text).toContain('authenticator app');
    expect(prompt.text).toContain(`name="redirect" value="http://drive.${h.domain}/#/x"`);
    const token = tokenIn(step1);
    expect(token).not.toBe('');
    // GET shows the page for a valid token, sends back to the login otherwise.
    expect((await h.req('GET', `/auth/twofactor?two_factor_token=${token}`)).text).toContain('name="two-factor-passcode"');
    expect((await h.req('GET', '/auth/twofactor?two_factor_token=nope')).status).toBe(303);
    // The enrolment used the current step: the next one (within the ±1 step drift) is fresh.
    const code = totp(secret, Date.now() + 30_000);
    const done = await postCode(h.domain, token, code, `http://drive.${h.domain}/#/x`);
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe(`http://drive.${h.domain}/#/x`);
    expect(await isLoggedIn(cookieOf(done), h.domain)).toBe(true);
    const again = await postCode(h.domain, tokenIn(await postLogin(h.domain)), code);
    expect(again.status).toBe(303);
    expect(again.headers.location).toContain('&error=wrong&left=');
    expect((await follow(again, h.domain)).text).toContain('Wrong or already used code');
    expect(cookieOf(again)).toBe('');
    // the error in the prompt's URL is only one of the page's own messages
    const forged = await h.req('GET', `/auth/twofactor?two_factor_token=${tokenIn(again)}&error=%3Cscript%3E&left=99`);
    expect(forged.status).toBe(200);
    expect(forged.text).toContain('<p id="error" class="err" role="alert" aria-live="assertive"></p>');
    expect((await h.req('GET', `/auth/twofactor?two_factor_token=${tokenIn(again)}&error=wrong&left=99`)).text).toContain('10 attempt(s) left');
  });

  it('accepts a recovery code once', async () => {
    const token = tokenIn(await postLogin(h.domain));
    const ok = await postCode(h.domain, token, recovery[0]!.toUpperCase());
    expect(ok.status).toBe(303);
    expect(await isLoggedIn(cookieOf(ok), h.domain)).toBe(true);
    const again = await postCode(h.domain, tokenIn(await postLogin(h.domain)), recovery[0]!);
    expect(again.status).toBe(303);
    expect(again.headers.location).toContain('&error=wrong');
    expect((await store().twoFactor(h.instance)).recoveryHashes).toHaveLength(9);
  });

  it('answers JSON clients with a two_factor_token, and refuses an expired token', async () => {
    const r = await h.req('POST', '/auth/login', { body: { passphrase: good } });
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual(['two_factor_token']);
    expect(cookieOf(r)).toBe('');
    const secretKey = (await h.hearth.registry.secrets(h.instance)).session;
    const old = twoFactorToken(secretKey, h.instance.id, Date.now() - 6 * 60_000);
    const expired = await h.req('POST', '/auth/twofactor', { body: { 'two-factor-token': old, 'two-factor-passcode': recovery[1] } });
    expect(expired.status).toBe(401);
    expect(expired.body.error).toBe('expired');
    // A token of another instance does not work either.
    const foreign = twoFactorToken((await h.hearth.registry.secrets(h.other)).session, h.other.id);
    expect((await h.req('POST', '/auth/twofactor', { body: { 'two-factor-token': foreign, 'two-factor-passcode': recovery[1] } })).status).toBe(401);
    // The form needs its CSRF token.
    const noCsrf = await h.req('POST', '/auth/twofactor', { raw: new URLSearchParams({ 'two-factor-token': r.body.two_factor_token, 'two-factor-passcode': recovery[1]! }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(noCsrf.status).toBe(403);
  });

  it('turns two-factor authentication off only with the passphrase', async () => {
    const none = await json('DELETE', '/settings/twofactor', owner, h.domain);
    expect(none.status).toBe(400);
    expect(none.body.errors[0].title).toBe('passphrase_required');
    const wrong = await json('DELETE', '/settings/twofactor', owner, h.domain, { passphrase: await derivePassphrase('nope', h.domain, ITER) });
    expect(wrong.status, wrong.text).toBe(422);
    expect((await json('PUT', '/settings/instance/auth_mode', owner, h.domain, { auth_mode: 'basic' })).status).toBe(400);
    expect((await json('DELETE', '/settings/twofactor', owner, h.domain, { passphrase: good })).status).toBe(204);
    const r = await postLogin(h.domain);
    expect(r.status).toBe(303);
    expect(await isLoggedIn(cookieOf(r), h.domain)).toBe(true);
    expect((await store().twoFactor(h.instance)).totpSecret).toBeNull();
  });
});

describe('wrong codes', () => {
  it('are refused, then locked out and rate-limited (429)', async () => {
    const domain = `mfa-lock.localhost:${h.port}`;
    const inst = await setUp(domain);
    await store().setTwoFactor(inst, { authMode: 'two_factor_mail' });
    await h.hearth.registry.modify(domain, { email: 'owner@example.org', locale: 'fr' });
    const step1 = await postLogin(domain);
    expect(step1.status).toBe(303);
    const prompt = await follow(step1, domain);
    expect(prompt.text).toContain('<html lang="fr">');
    expect(prompt.text).toContain('Nous avons envoyé un code');
    const token = tokenIn(step1);
    for (let i = 0; i < 9; i++) {
      const r = await postCode(domain, token, '000000');
      expect(r.status).toBe(303);
      expect((await follow(r, domain)).text).toContain(`Encore ${9 - i} essai(s)`);
    }
    const tenth = await postCode(domain, token, '000000');
    expect(tenth.status).toBe(429);
    expect(tenth.text).toContain('en choisir une nouvelle (« Phrase de passe oubliée ? ») lève le blocage aussitôt');
    expect(tenth.text).not.toContain('hearth instances');
    expect(tenth.text).not.toContain('`');
    const eleventh = await postCode(domain, token, '000001');
    expect(eleventh.status).toBe(429);
    expect(Number(eleventh.headers['retry-after'])).toBeGreaterThan(0);
    // The passphrase step is locked too.
    expect((await postLogin(domain)).status).toBe(429);
  });
});

describe('mail mode', () => {
  const domain = () => `mfa-mail.localhost:${h.port}`;
  const mailCodes = async (): Promise<string[]> => {
    const dir = outboxDir(h.dataDir);
    // the outbox records the instance that sent each mail (mail/outbox.ts lists by instance)
    const id = (await h.hearth.registry.get(domain()))?.id;
    const mails = ((await listOutbox(dir)) ?? []).filter((m) => m.instanceId === id);
    return Promise.all(mails.map(async (m) => /code is (\d{6})/.exec((await readOutboxMail(dir, m.id)).toString('utf8'))?.[1] ?? ''));
  };

  it('is activated in two steps with a mailed code, then mails a code at each login', async () => {
    await setUp(domain(), 'owner@example.org');
    const owner = cookieOf(await postLogin(domain()));
    expect(await isLoggedIn(owner, domain())).toBe(true);
    const ask = await json('PUT', '/settings/instance/auth_mode', owner, domain(), { auth_mode: 'two_factor_mail' });
    expect(ask.status).toBe(204);
    const [activation] = await mailCodes();
    expect(activation).toMatch(/^\d{6}$/);
    expect((await json('PUT', '/settings/instance/auth_mode', owner, domain(), { auth_mode: 'two_factor_mail', two_factor_activation_code: activation === '000000' ? '000001' : '000000' })).status).toBe(422);
    const on = await json('PUT', '/settings/instance/auth_mode', owner, domain(), { auth_mode: 'two_factor_mail', two_factor_activation_code: activation });
    expect(on.status).toBe(204);

    const step1 = await postLogin(domain());
    expect(step1.status).toBe(303);
    expect(cookieOf(step1)).toBe('');
    expect((await follow(step1, domain())).text).toContain('e-mail');
    const codes = await mailCodes();
    expect(codes).toHaveLength(2);
    const done = await postCode(domain(), tokenIn(step1), codes[1]!);
    expect(done.status).toBe(303);
    expect(await isLoggedIn(cookieOf(done), domain())).toBe(true);

    // Back to basic through cozy-stack's route, with the passphrase (Hearth's addition).
    const off = await json('PUT', '/settings/instance/auth_mode', owner, domain(), { auth_mode: 'basic', passphrase: await passphraseFor(domain()) });
    expect(off.status).toBe(204);
    expect((await postLogin(domain())).status).toBe(303);
  });
});
