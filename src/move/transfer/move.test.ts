/**
 * A move between two real servers, over HTTP (src/move/transfer): the wizard, the target's consent, the confirmation
 * mail through a real SMTP server, /move/go (the target blocked and logged out, the source blocked while its export runs,
 * the export queued with `move_to`), then abort and finalize as the other server calls them, and the moved instance's 410; and what each step refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivePassphrase } from '../../auth/passphrase.js';
import { CLIENTS_DOCTYPE } from '../../oauth/clients.js';
import type { TwoFactorStore } from '../../instances/types.js';
import { mailCode } from '../../auth/twofactor/mailcode.js';
import { newRecoveryCodes } from '../../auth/twofactor/recovery.js';
import {
  CSRF, FORM, OWNER_EMAIL, S_PASS, T_PASS, confirmationLink, form, hiddenFields, login, pathOf, setCookies, startMovePair, type MovePair,
} from '../../../test/helpers/move-transfer.js';
import { MOVE_SCOPE } from './peer.js';

let p: MovePair;
let sCookie: string;
let tBase: string;

beforeAll(async () => {
  p = await startMovePair();
  sCookie = await login(p.s, p.source, S_PASS);
  tBase = `http://${p.t.otherDomain}`;
}, 120_000);
afterAll(() => p?.close());

const tokenOf = (r: { status: number; body: Record<string, unknown> }): string => {
  expect(r.status).toBe(200);
  return r.body.two_factor_token as string;
};
const derived = (pass: string) => derivePassphrase(pass, p.target.domain, p.target.kdfIterations);

/** Settings → /move/initialize → the wizard → T's consent (a wrong passphrase first) → back on S: the summary's fields. */
async function throughTheWizard(): Promise<{ fields: Record<string, string>; code: string }> {
  const init = await p.s.req('POST', '/move/initialize', { raw: '', headers: { ...FORM, cookie: sCookie, origin: `http://settings.${p.s.domain}` } });
  expect(init.status).toBe(307);
  const wizard = new URL(String(init.headers.location));
  expect(`${wizard.origin}${wizard.pathname}`).toBe(`${p.s.url}/move/wizard/initialize`);
  expect(wizard.searchParams.get('cozy_url')).toBe(`${p.s.url}/`);
  const page = await p.s.req('POST', pathOf(wizard.href), { raw: '', headers: { ...FORM, cookie: sCookie } });
  expect(page.status).toBe(200);
  expect(page.text).toContain('Move localhost');
  const target = await p.s.req('POST', '/move/wizard/target', { raw: form({ ...hiddenFields(page.text), target: p.t.otherDomain }), headers: { ...FORM, cookie: sCookie, origin: p.s.url } });
  expect(target.status).toBe(303);
  const consent = new URL(String(target.headers.location));
  expect(`${consent.origin}${consent.pathname}`).toBe(`${tBase}/auth/authorize/move`);
  const tPage = await p.treq('GET', pathOf(consent.href));
  expect(tPage.status).toBe(200);
  expect(tPage.text).toContain('id="move"');
  const q = Object.fromEntries(consent.searchParams);
  const wrong = await p.treq('POST', '/auth/authorize/move', { body: { ...q, passphrase: await derived('not-it') } });
  expect(wrong.status).toBe(401);
  expect(wrong.body.error).toBe('wrong');
  const ok = await p.treq('POST', '/auth/authorize/move', { body: { ...q, passphrase: await derived(T_PASS) } });
  expect(ok.status).toBe(200);
  const back = new URL(ok.body.redirect as string);
  expect(`${back.origin}${back.pathname}`).toBe(`${p.s.url}/move/wizard/callback`);
  expect(back.searchParams.get('state')).toBe(q.state);
  const summary = await p.s.req('GET', pathOf(back.href), { headers: { cookie: sCookie } });
  expect(summary.status).toBe(200);
  return { fields: hiddenFields(summary.text), code: back.searchParams.get('code') as string };
}

describe('a move between two servers', () => {
  it('GET /move/vault on the target explains, to its logged-in owner, that passwords do not move', async () => {
    expect((await p.treq('GET', '/move/vault')).status).toBe(303);
    const page = await p.treq('GET', '/move/vault', { headers: { cookie: await login(p.t, p.target, T_PASS) } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Hearth has no password manager');
  });

  it('refuses a consent for an unknown client or another redirect URI, and a move started from another site', async () => {
    expect((await p.treq('GET', '/auth/authorize/move?state=s&client_id=0123456789abcdef0123456789abcdef&redirect_uri=http://x.example/')).status).toBe(400);
    const reg = await p.treq('POST', '/auth/register', { body: { redirect_uris: ['https://w.example/cb'], client_name: 'W', software_id: 'w' } });
    const other = await p.treq('GET', `/auth/authorize/move?state=s&client_id=${reg.body.client_id as string}&redirect_uri=http://evil.example/cb`);
    expect(reg.status).toBe(201);
    expect(other.status).toBe(400);
    expect(other.text).toContain('redirect_uri');
    const json = await p.treq('POST', '/auth/authorize/move', { body: { state: 's', client_id: reg.body.client_id, redirect_uri: 'http://evil.example/cb', passphrase: await derived(T_PASS) } });
    expect(json.status).toBe(400);
    const foreign = await p.s.req('POST', '/move/initialize', { raw: '', headers: { ...FORM, cookie: sCookie, origin: 'http://evil.example' } });
    expect(foreign.status).toBe(403);
    const anonymous = await p.s.req('POST', '/move/initialize', { raw: '', headers: FORM });
    expect(anonymous.status).toBe(303);
    expect(String(anonymous.headers.location)).toMatch(/^\/auth\/login\?redirect=/);
  });

  it('with two-factor authentication: the passphrase, then /auth/twofactor; a wrong code is refused, the right one goes back to the wizard, once', async () => {
    const reg = await p.treq('POST', '/auth/register', { body: { redirect_uris: ['https://w.example/cb'], client_name: 'W', software_id: 'w' } });
    const clientId = reg.body.client_id as string;
    const store = p.t.hearth.registry as unknown as TwoFactorStore;
    const { codes: recovery, hashes } = await newRecoveryCodes();
    await store.setTwoFactor(p.target, { authMode: 'two_factor_mail', recoveryHashes: hashes });
    try {
      const q = { state: 's2', client_id: clientId, redirect_uri: 'https://w.example/cb' };
      // as cozy-stack: the passphrase first, no login before
      expect((await p.treq('GET', `/auth/authorize/move?${form(q)}`)).status).toBe(200);
      const step1 = await p.treq('POST', '/auth/authorize/move', { body: { ...q, passphrase: await derived(T_PASS) } });
      expect(step1.status).toBe(200);
      const prompt = new URL(step1.body.redirect as string, tBase);
      expect(prompt.pathname).toBe('/auth/twofactor');
      expect(prompt.searchParams.get('client_id')).toBe(clientId);
      const token = prompt.searchParams.get('two_factor_token') as string;
      // the page posts the client back, and may send the browser on to the wizard
      const page = await p.treq('GET', pathOf(prompt.href));
      expect(page.status).toBe(200);
      expect(hiddenFields(page.text)).toMatchObject({ 'two-factor-token': token, client_id: clientId, redirect: 'https://w.example/cb' });
      expect(String(page.headers['content-security-policy'])).toMatch(/form-action [^;]*https:\/\/w\.example/);
      // a move's token is not a login's, and the other way round
      expect((await p.treq('GET', `/auth/twofactor?two_factor_token=${token}`)).status).toBe(303);
      const loginToken = tokenOf(await p.treq('POST', '/auth/login', { body: { passphrase: await derived(T_PASS) } }));
      const asMove = await p.treq('POST', '/auth/twofactor', { body: { two_factor_token: loginToken, two_factor_passcode: recovery[0], client_id: clientId } });
      expect(asMove.status).toBe(401);
      expect(asMove.body.error).toBe('expired');
      // a wrong code: refused, back to the prompt (a form) or 401 (JSON)
      const wrongForm = await p.treq('POST', '/auth/twofactor', { raw: form({ ...hiddenFields(page.text), csrf_token: CSRF, 'two-factor-passcode': '000000' }), headers: { ...FORM, cookie: `hearth_csrf=${CSRF}` } });
      expect(wrongForm.status).toBe(303);
      expect(String(wrongForm.headers.location)).toMatch(/^\/auth\/twofactor\?.*client_id=.*&error=wrong/);
      const wrong = await p.treq('POST', '/auth/twofactor', { body: { two_factor_token: token, two_factor_passcode: '000000', client_id: clientId } });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toBe('wrong');
      // the code of the mail: back to the wizard with an access code of the move's scope, and no session
      const code = await mailCode((await p.t.hearth.registry.secrets(p.target)).session, p.target.id);
      const ok = await p.treq('POST', '/auth/twofactor', { body: { two_factor_token: token, two_factor_passcode: code, client_id: clientId } });
      expect(ok.status).toBe(200);
      expect(setCookies(ok).some((c) => c.startsWith('cozysessid='))).toBe(false);
      const back = new URL(ok.body.redirect as string);
      expect(`${back.origin}${back.pathname}`).toBe('https://w.example/cb');
      expect(back.searchParams.get('state')).toBe('s2');
      const exchanged = await p.treq('POST', '/auth/access_token', { raw: form({ grant_type: 'authorization_code', code: back.searchParams.get('code') as string, client_id: clientId, client_secret: reg.body.client_secret as string }), headers: FORM });
      expect(exchanged.status).toBe(200);
      expect(exchanged.body.scope).toBe(MOVE_SCOPE);
      // the token again, even with another good code: refused
      const replay = await p.treq('POST', '/auth/twofactor', { body: { two_factor_token: token, two_factor_passcode: recovery[1], client_id: clientId } });
      expect(replay.status).toBe(401);
      expect(replay.body.error).toBe('expired');
      expect((await p.treq('GET', pathOf(prompt.href))).status).toBe(303);
    } finally {
      await store.setTwoFactor(p.target, { authMode: 'basic', recoveryHashes: [] });
    }
  });

  it('refuses a request whose code is not one, and a code given twice', async () => {
    const { fields, code } = await throughTheWizard();
    // the target's code was exchanged by the wizard: a second exchange is refused
    const again = await p.treq('POST', '/auth/access_token', { raw: form({ grant_type: 'authorization_code', code, client_id: fields.target_client_id as string, client_secret: fields.target_client_secret as string }), headers: FORM });
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');
    const bogus = await p.s.req('POST', '/move/request', { raw: form({ ...fields, code: 'not-a-code' }), headers: FORM });
    expect(bogus.status).toBe(400);
    expect(bogus.text).toContain('is not one');
    const first = await p.s.req('POST', '/move/request', { raw: form(fields), headers: FORM });
    expect(first.status).toBe(200);
    await confirmationLink(p.smtp, /^Confirm the move of localhost/);
    const twice = await p.s.req('POST', '/move/request', { raw: form(fields), headers: FORM });
    expect(twice.status).toBe(400);
    expect(twice.text).toContain('was already used');
    const noTarget = await p.s.req('POST', '/move/request', { raw: form({ ...fields, target_url: 'javascript:alert(1)' }), headers: FORM });
    expect(noTarget.status).toBe(400);
  });

  it('mails the confirmation; /move/go blocks and logs out the target, blocks the source and queues the export with move_to', async () => {
    p.smtp.received.length = 0;
    // a client connected to the source before the move (finalize revokes it)
    expect((await p.s.req('POST', '/auth/register', { body: { redirect_uris: ['https://app.example/cb'], client_name: 'Desktop', software_id: 'd' } })).status).toBe(201);
    const tCookie = await login(p.t, p.target, T_PASS);
    expect((await p.treq('GET', '/move/vault', { headers: { cookie: tCookie } })).status).toBe(200);
    const { fields } = await throughTheWizard();
    const asked = await p.s.req('POST', '/move/request', { raw: form(fields), headers: FORM });
    expect(asked.status).toBe(200);
    expect(asked.text).toContain(OWNER_EMAIL);
    const link = await confirmationLink(p.smtp, /^Confirm the move of localhost/);
    expect(p.smtp.received[0]?.to).toEqual([OWNER_EMAIL]);
    expect(link.startsWith(`${p.s.url}/move/go?secret=`)).toBe(true);
    // not logged in: to the login page, nothing started
    const anonymous = await p.s.req('GET', pathOf(link));
    expect(anonymous.status).toBe(303);
    expect(String(anonymous.headers.location)).toMatch(/^\/auth\/login\?redirect=/);
    expect(await p.t.hearth.moveStates.get(p.target.id)).toBeNull();
    expect((await p.s.req('GET', '/move/go?secret=not-one', { headers: { cookie: sCookie } })).status).toBe(400);
    const go = await p.s.req('GET', pathOf(link), { headers: { cookie: sCookie } });
    expect(go.status).toBe(303);
    expect(go.headers.location).toBe(`${tBase}/move/importing`);
    const state = await p.t.hearth.moveStates.get(p.target.id);
    expect(state).toMatchObject({ status: 'moving', peer: `${p.s.url}/`, detail: { moved_from: p.s.domain } });
    expect(await p.t.hearth.sessions.list(p.target)).toEqual([]);
    // the source is blocked while its export runs (cozy-stack's move design): 503 on the API, the waiting page for a
    // browser; the move's routes (the target downloads the export there) and the CLI pass
    expect(await p.s.hearth.moveStates.get(p.source.id)).toMatchObject({ status: 'exporting', peer: `${tBase}/` });
    const api = await p.s.req('POST', '/auth/register', { body: { redirect_uris: ['https://app.example/cb'], client_name: 'Late', software_id: 'l' } });
    expect(api.status).toBe(503);
    expect(api.body.error).toBe('this instance is being moved to another server: retry later');
    const home = await p.s.req('GET', '/', { headers: { accept: 'text/html', cookie: sCookie } });
    expect(home.status).toBe(302);
    expect(home.headers.location).toBe(`${p.s.url}/move/importing`);
    const waiting = await p.s.req('GET', '/move/importing', { headers: { accept: 'text/html' } });
    expect(waiting.status).toBe(200);
    expect(waiting.text).toContain(`Your data is being moved to ${p.t.otherDomain}`);
    expect((await p.s.req('GET', '/data/io.cozy.contacts/_all_docs', { token: await p.s.cliToken('io.cozy.contacts') })).status).toBe(200);
    await expect.poll(() => p.exports.length, { timeout: 60_000 }).toBe(1);
    const msg = p.exports[0]!;
    expect(msg.move_to).toMatchObject({ url: tBase, client_id: fields.target_client_id, client_secret: fields.target_client_secret, token: fields.target_token });
    expect(await p.t.hearth.tokens.verify(p.target, msg.move_to!.token)).toMatchObject({ aud: 'access', scope: MOVE_SCOPE });
    expect(await p.s.hearth.tokens.verify(p.source, msg.token!)).toMatchObject({ aud: 'access', scope: MOVE_SCOPE });
    // the link is used once
    expect((await p.s.req('GET', pathOf(link), { headers: { cookie: sCookie } })).status).toBe(400);
    // the target refuses a second start while it waits
    expect((await p.treq('POST', `/move/importing?source=${p.s.domain}`, { token: msg.move_to!.token })).status).toBe(409);
  });

  it('abort (the export or the import failed) unblocks the target and the source; refuses without a move token', async () => {
    const msg = p.exports[0]!;
    expect((await p.treq('POST', '/move/abort')).status).toBe(401);
    expect((await p.treq('POST', '/move/abort', { token: await p.t.cliToken('io.cozy.files', p.target) })).status).toBe(403);
    expect((await p.treq('POST', '/move/abort', { token: msg.move_to!.token })).status).toBe(204);
    expect(await p.t.hearth.moveStates.get(p.target.id)).toBeNull();
    expect((await p.s.req('POST', '/move/abort', { token: await p.s.cliToken('io.cozy.files') })).status).toBe(403);
    expect((await p.s.hearth.moveStates.get(p.source.id))?.status).toBe('exporting');
    expect((await p.s.req('POST', '/move/abort', { token: msg.token! })).status).toBe(204);
    expect(await p.s.hearth.moveStates.get(p.source.id)).toBeNull();
    expect(await p.s.hearth.movePending.peek('moving_to', p.source.id)).toBeNull();
    expect((await p.s.req('GET', '/auth/login', { headers: { accept: 'text/html' } })).status).toBe(200);
  });

  it('finalize retires the source: konnector triggers deleted, OAuth clients revoked, then 410 with the new address everywhere', async () => {
    const msg = p.exports[0]!;
    const { scheduler } = p.s.hearth.jobs;
    await scheduler.create(p.s.domain, { type: '@every', arguments: '24h', worker: 'konnector', message: { konnector: 'bank' } });
    const kept = await scheduler.create(p.s.domain, { type: '@every', arguments: '24h', worker: 'log' });
    expect((await p.s.hearth.storeOf(p.source).allDocs(CLIENTS_DOCTYPE, {})).rows.length).toBeGreaterThan(1);
    // the source is being moved again (/move/go: blocked while its export runs), the target's import is over
    await p.s.hearth.movePending.put('moving_to', p.source.id, p.source.id, { url: tBase }, 60_000);
    expect(await p.s.hearth.moveStates.transition(p.source.id, null, { status: 'exporting', peer: `${tBase}/`, since: new Date().toISOString(), detail: {} })).toBe(true);
    // refusals: no token, a token without the right, a token of another instance (T's)
    expect((await p.s.req('POST', '/move/finalize')).status).toBe(401);
    expect((await p.s.req('POST', '/move/finalize', { token: await p.s.cliToken('io.cozy.files') })).status).toBe(403);
    expect((await p.s.req('POST', '/move/finalize', { token: msg.move_to!.token })).status).toBe(400);
    expect((await p.s.hearth.moveStates.get(p.source.id))?.status).toBe('exporting');
    const done = await p.s.req('POST', '/move/finalize?subdomain=nested', { token: msg.token! });
    expect(done.status).toBe(204);
    expect(await p.s.hearth.moveStates.get(p.source.id)).toMatchObject({ status: 'moved', peer: `${tBase}/` });
    expect((await scheduler.list(p.s.domain, {})).map((t) => t._id)).toEqual([kept._id]);
    const clients = await p.s.hearth.storeOf(p.source).allDocs(CLIENTS_DOCTYPE, {});
    expect(clients.rows.filter((r) => !String(r.id).startsWith('_design'))).toEqual([]);
    // a browser gets the page with the equivalent address, on the instance and on its apps' hosts; the API, JSON
    const page = await p.s.req('GET', '/auth/login?redirect=x', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(410);
    expect(page.text).toContain(`href="${tBase}/auth/login?redirect=x"`);
    const app = await p.s.req('GET', '/#/folder', { host: `drive.${p.s.domain}` });
    expect(app.status).toBe(410);
    expect(app.text).toContain(`http://drive.${p.t.otherDomain}/`);
    const api = await p.s.req('GET', '/data/io.cozy.contacts/_all_docs', { token: await p.s.cliToken('io.cozy.contacts') });
    expect(api.status).toBe(410);
    expect(api.body.errors[0].detail).toContain(`${tBase}/data/io.cozy.contacts/_all_docs`);
    // the other instance of the source's server is not concerned
    expect((await p.s.req('GET', '/auth/login', { host: p.s.otherDomain, headers: { accept: 'text/html' } })).status).toBe(200);
  });
});
