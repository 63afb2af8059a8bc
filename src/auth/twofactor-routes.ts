/**
 * Two-factor authentication of the owner (cozy-stack's `auth_mode`, plus authenticator apps):
 *
 * - Login, second step: after a correct passphrase, `beginTwoFactor` answers with a
 *   `two_factor_token` (5 min) instead of a session, mailing a code in `two_factor_mail` mode;
 *   `POST /auth/twofactor` takes the token and a passcode (TOTP, mail code or recovery code).
 *   Failures count in `twoFactorAttempts` (per instance and per IP) and in the login lock-out.
 * - Settings (session cookie): TOTP enrolment (`POST /settings/twofactor/totp`, then `/confirm`),
 *   `DELETE /settings/twofactor` (passphrase required) and cozy-stack's
 *   `PUT /settings/instance/auth_mode` (two steps for `two_factor_mail`: a code is mailed, then confirmed).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { BadRequest, Conflict, TooManyRequests, UnprocessableEntity } from '../common/errors.js';
import { instanceOf } from '../data/http/context.js';
import type { Instance, InstanceRegistry, TwoFactorState } from '../instances/types.js';
import { enforceLimit, LOGIN_LOCKOUT } from '../limits/index.js';
import { csrfForForm, csrfValid } from './csrf.js';
import { requestHost } from './http.js';
import { langOf, message, renderLoginPage, type Lang } from './login-page.js';
import { isDerivedPassphrase, passphraseSalt } from './passphrase.js';
import type { AuthDeps } from './routes.js';
import * as S from './schemas.js';
import { requireOwner } from './owner.js';
import { completeLogin, recordEvent } from './session-http.js';
import { checkTwoFactorToken, mailCode, twoFactorToken, verifyMailCode, type TwoFactorUse } from './twofactor/mailcode.js';
import { newRecoveryCodes, useRecoveryCode } from './twofactor/recovery.js';
import { openSecret, sealSecret } from './twofactor/seal.js';
import { newTotpSecret, otpauthUri, qrSvg, verifyTotp } from './twofactor/totp.js';
import { renderTwoFactorPage, twoFactorText } from './twofactor-page.js';

const ISSUER = 'Hearth';

/** What mailing a code and issuing a two-factor token take (also given to a move's consent, by server/compose.ts). */
export type SecondFactorDeps = Pick<AuthDeps, 'twoFactor' | 'limiter' | 'mailer'> & { registry: Pick<InstanceRegistry, 'secrets'> };

/** A move's consent waiting for its second factor: the wizard's client, the address it goes back to and its state. */
export interface MoveConsent { clientId: string; redirect: string; state: string }

/**
 * The consent to a move into this instance asked for the second factor (cozy-stack: `/auth/twofactor` with a `client_id`);
 * src/move/transfer/authorize.ts keeps it under its two-factor token.
 */
export interface MoveConsentFlow {
  /** The consent waiting for this token, or null. */
  pending(instance: Instance, token: string): Promise<MoveConsent | null>;
  /** Takes it (once: null the second time) and gives where the browser goes: the wizard, with an access code. */
  complete(instance: Instance, token: string): Promise<string | null>;
}

interface Ctx {
  json: boolean;
  lang: Lang;
  redirect: unknown;
}

const isJson = (req: FastifyRequest) => String(req.headers['content-type'] ?? '').startsWith('application/json');
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function pageReply(req: FastifyRequest, reply: FastifyReply, instance: Instance, o: { status: number; token: string; mode: 'totp' | 'mail'; error: string | null; redirect: unknown; move?: MoveConsent | null }): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const csrf = csrfForForm(req, reply);
  // a move's consent ends with a redirect (303) to the wizard, which the form-action of the page must allow
  const wizard = o.move ? ` ${new URL(o.move.redirect).origin}` : '';
  const csp = `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' ${req.protocol}://*.${requestHost(req)}${wizard}`;
  const html = renderTwoFactorPage({
    lang: langOf(instance.locale), name: instance.publicName ?? instance.domain, nonce, csrf, token: o.token,
    redirect: o.move ? o.move.redirect : typeof o.redirect === 'string' ? o.redirect.slice(0, 2048) : '', mode: o.mode, error: o.error,
    // "Start again": a move's consent starts again at its passphrase page, with the wizard's request
    ...(o.move ? { clientId: o.move.clientId, again: `/auth/authorize/move?${new URLSearchParams({ state: o.move.state, client_id: o.move.clientId, redirect_uri: o.move.redirect }).toString()}` } : {}),
  });
  return reply.code(o.status).header('Content-Security-Policy', csp).header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer')
    .type('text/html; charset=utf-8').send(html);
}

/** The login page (the passphrase step again), when the two-factor token is missing or expired. */
function loginPageReply(req: FastifyRequest, reply: FastifyReply, instance: Instance, status: number, error: string, redirect: unknown): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const csrf = csrfForForm(req, reply);
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' ${req.protocol}://*.${requestHost(req)}`;
  const html = renderLoginPage({
    lang: langOf(instance.locale), name: instance.publicName ?? instance.domain, nonce, csrf, redirect: typeof redirect === 'string' ? redirect.slice(0, 2048) : '',
    error, salt: passphraseSalt(instance.domain), iterations: instance.kdfIterations,
  });
  return reply.code(status).header('Content-Security-Policy', csp).header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer')
    .type('text/html; charset=utf-8').send(html);
}

const modeOf = (s: TwoFactorState): 'totp' | 'mail' => (s.authMode === 'two_factor_mail' ? 'mail' : 'totp');

/** What the prompt's URL may say went wrong (Post/Redirect/Get: a failed form post comes back to the prompt's GET). */
const PROMPT_ERRORS = { wrong: 'wrongCode', missing: 'missingCode', mail_rate: 'mailRate' } as const;
type PromptError = keyof typeof PROMPT_ERRORS;

/**
 * The two-factor prompt is only ever shown by a GET (Post/Redirect/Get): reloading it or going back
 * never posts the passphrase or a code again. The token is the 5-minute two-factor token (cozy-stack
 * also puts it in this URL); the page sends no Referer.
 */
function toPrompt(reply: FastifyReply, token: string, redirect: unknown, error?: { key: PromptError; left?: number }, move?: MoveConsent | null): FastifyReply {
  const q = new URLSearchParams({ two_factor_token: token });
  if (move) q.set('client_id', move.clientId);
  else if (typeof redirect === 'string' && redirect !== '') q.set('redirect', redirect.slice(0, 2048));
  if (error) q.set('error', error.key);
  if (error?.left !== undefined) q.set('left', String(error.left));
  return reply.code(303).header('Location', `/auth/twofactor?${q.toString()}`).header('Cache-Control', 'no-store').send();
}

/** The message of a prompt's `error`/`left` query, or null. */
function promptError(lang: Lang, error: unknown, left: unknown): string | null {
  if (typeof error !== 'string' || !Object.hasOwn(PROMPT_ERRORS, error)) return null;
  const n = Math.min(LOGIN_LOCKOUT.threshold, Math.max(0, Math.trunc(Number(left)) || 0));
  return twoFactorText(lang, PROMPT_ERRORS[error as PromptError], { n });
}

async function sendMailCode(deps: SecondFactorDeps, instance: Instance): Promise<void> {
  if (!instance.email) throw new BadRequest('the instance has no e-mail address to send the code to: set one first', 'no_email');
  await enforceLimit(deps.limiter, 'twoFactorGeneration', instance.id);
  const code = await mailCode((await deps.registry.secrets(instance)).session, instance.id);
  const lang = langOf(instance.locale);
  const name = instance.publicName ?? instance.domain;
  await deps.mailer.send({
    to: [{ email: instance.email }], domain: instance.domain, instanceId: instance.id,
    subject: twoFactorText(lang, 'mailSubject', { name }), text: twoFactorText(lang, 'mailText', { code, name }),
  });
}

/** Marks a sent reply. A FastifyReply is a thenable: returned from an async function, `await` would give undefined. */
const sent = (_reply: FastifyReply): true => true;

/**
 * The second step after a correct passphrase: `none` without a second factor; otherwise a new two-factor token for `use`,
 * with the code mailed in `two_factor_mail` mode (`wait`: a mail code was used in this 30 s step, so start again in `s`
 * seconds; `mailRate`: too many codes were mailed, recovery codes still work).
 */
export type SecondFactorStart = { kind: 'none' } | { kind: 'wait'; s: number } | { kind: 'token'; token: string; mailRate?: string };

export async function startSecondFactor(deps: SecondFactorDeps, instance: Instance, use: TwoFactorUse): Promise<SecondFactorStart> {
  const state = await deps.twoFactor.twoFactor(instance);
  if (state.authMode === 'basic') return { kind: 'none' };
  const token = twoFactorToken((await deps.registry.secrets(instance)).session, instance.id, Date.now(), use);
  if (state.authMode === 'two_factor_mail') {
    // Mail codes change every 30 s: the one of a step already used to log in would be refused as a replay.
    const wait = ((state.mailLastStep ?? -1) + 1) * 30_000 - Date.now();
    if (wait > 0) return { kind: 'wait', s: Math.ceil(wait / 1000) };
    try {
      await sendMailCode(deps, instance);
    } catch (err) {
      if (!(err instanceof TooManyRequests)) throw err;
      return { kind: 'token', token, mailRate: err.headers['Retry-After'] ?? '60' };
    }
  }
  return { kind: 'token', token };
}

/**
 * Called after a correct passphrase: false when the instance has no second factor (log in now);
 * otherwise it sends the answer asking for it (the page, or `{two_factor_token}` for a JSON client) and returns true.
 */
export async function beginTwoFactor(deps: AuthDeps, req: FastifyRequest, reply: FastifyReply, instance: Instance, ctx: Ctx): Promise<boolean> {
  const start = await startSecondFactor(deps, instance, 'login');
  if (start.kind === 'none') return false;
  if (start.kind === 'wait') {
    const text = twoFactorText(ctx.lang, 'mailWait', { s: start.s });
    void reply.header('Retry-After', String(start.s));
    if (ctx.json) return sent(reply.code(429).send({ error: 'rate', message: text }));
    return sent(loginPageReply(req, reply, instance, 429, text, ctx.redirect));
  }
  const { token } = start;
  if (start.mailRate !== undefined) {
    const text = twoFactorText(ctx.lang, 'mailRate');
    // Recovery codes still work, so the page is shown anyway.
    if (ctx.json) return sent(reply.code(429).header('Retry-After', start.mailRate).send({ error: 'rate', message: text, two_factor_token: token }));
    return sent(toPrompt(reply, token, ctx.redirect, { key: 'mail_rate' }));
  }
  void reply.header('Cache-Control', 'no-store');
  if (ctx.json) return sent(reply.code(200).send({ two_factor_token: token }));
  return sent(toPrompt(reply, token, ctx.redirect));
}

/** Checks a passcode against the instance's second factor; records what it used (step, recovery code). */
async function checkPasscode(deps: AuthDeps, instance: Instance, state: TwoFactorState, passcode: string): Promise<boolean> {
  const secret = (await deps.registry.secrets(instance)).session;
  if (/^\s*\d{3}\s*\d{3}\s*$/.test(passcode)) {
    if (state.authMode === 'two_factor_totp' && state.totpSecret) {
      const clear = openSecret(secret, instance.id, state.totpSecret);
      const r = clear ? await verifyTotp(clear, passcode, { lastUsedStep: state.totpLastStep ?? undefined }) : { valid: false };
      return r.valid && r.step !== undefined && (await deps.twoFactor.useStep(instance, 'totp', r.step));
    }
    if (state.authMode === 'two_factor_mail') {
      const r = await verifyMailCode(secret, instance.id, passcode, { lastUsedStep: state.mailLastStep ?? undefined });
      return r.valid && r.step !== undefined && (await deps.twoFactor.useStep(instance, 'mail', r.step));
    }
    return false;
  }
  if (state.recoveryHashes.length === 0) return false;
  const r = await useRecoveryCode(passcode, state.recoveryHashes);
  return r.ok && (await deps.twoFactor.swapRecoveryHashes(instance, state.recoveryHashes, r.remaining));
}

async function twoFactorLogin(deps: AuthDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const instance = instanceOf(req);
  const json = isJson(req);
  const body = (req.body ?? {}) as Record<string, unknown>;
  const lang: Lang = json ? 'en' : langOf(instance.locale);
  const token = str(body['two-factor-token'] ?? body.two_factor_token).slice(0, 256);
  const passcode = str(body['two-factor-passcode'] ?? body.two_factor_passcode ?? body.passcode);
  // with a client_id, the second factor of a move's consent (cozy-stack's special case), not of a login
  const use: TwoFactorUse = str(body.client_id) !== '' ? 'move' : 'login';
  let move: MoveConsent | null = null;
  const state = await deps.twoFactor.twoFactor(instance);
  const fail = (status: number, key: string, text: string, showPage: boolean, retryAfter?: number) => {
    if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
    if (json) return reply.code(status).send({ error: key, message: text });
    if (showPage) return pageReply(req, reply, instance, { status, token, mode: modeOf(state), error: text, redirect: body.redirect, move });
    // No valid token: back to the passphrase step, with the message (never towards a move's wizard).
    return loginPageReply(req, reply, instance, status, text, use === 'login' ? body.redirect : '');
  };
  if (!json && !csrfValid(req, body.csrf_token)) return fail(403, 'csrf', message(lang, 'csrf'), false);
  try {
    await enforceLimit(deps.limiter, 'twoFactorAttemptsPerIp', req.ip);
    await enforceLimit(deps.limiter, 'twoFactorAttempts', instance.id);
  } catch (err) {
    if (!(err instanceof TooManyRequests)) throw err;
    const s = Number(err.headers['Retry-After'] ?? 60);
    return fail(429, 'rate', message(lang, 'rate', { s }), true, s);
  }
  const locked = (until: number) => {
    const secs = Math.max(1, Math.ceil((until - Date.now()) / 1000));
    const text = message(lang, 'locked', { time: new Date(until).toISOString().slice(0, 16).replace('T', ' ') + ' UTC', min: Math.ceil(secs / 60), domain: instance.domain });
    return fail(429, 'locked', text, false, secs);
  };
  const status = await deps.lockout.status(instance.id, req.ip);
  if (status.locked && status.until !== null) return locked(status.until);
  const expired = () => fail(401, 'expired', twoFactorText(lang, 'expired'), false);
  if (state.authMode === 'basic' || !checkTwoFactorToken((await deps.registry.secrets(instance)).session, instance.id, token, Date.now(), use)) return expired();
  if (use === 'move') {
    move = (await deps.moveConsent?.pending(instance, token)) ?? null;
    if (!move || move.clientId !== str(body.client_id)) return expired();
  }
  if (passcode.trim() === '') return json ? fail(400, 'missing', twoFactorText(lang, 'missingCode'), true) : toPrompt(reply, token, body.redirect, { key: 'missing' }, move);
  if (!(await checkPasscode(deps, instance, state, passcode))) {
    await recordEvent(deps, req, instance, 'login_failed');
    const after = await deps.lockout.failure(instance.id, req.ip);
    if (after.locked && after.until !== null) return locked(after.until);
    const left = LOGIN_LOCKOUT.threshold - after.failures;
    return json ? fail(401, 'wrong', twoFactorText(lang, 'wrongCode', { n: left }), true) : toPrompt(reply, token, body.redirect, { key: 'wrong', left }, move);
  }
  await deps.lockout.success(instance.id, req.ip);
  if (use === 'move') {
    // the consent is taken once: a second post of the same token (with another code) finds nothing
    const to = await deps.moveConsent?.complete(instance, token);
    if (!to) return expired();
    void reply.header('Cache-Control', 'no-store');
    return json ? reply.send({ redirect: to }) : reply.code(303).header('Location', to).send();
  }
  return completeLogin(deps, req, reply, instance, json, body.redirect);
}

/** The passphrase again, for turning the second factor off or renewing the recovery codes; failures count in the login lock-out. */
export async function checkOwnerPassphrase(deps: AuthDeps, instance: Instance, ip: string, given: unknown): Promise<void> {
  const status = await deps.lockout.status(instance.id, ip);
  if (status.locked && status.until !== null) {
    throw new TooManyRequests('too many failed attempts: logins are locked', Math.max(1, Math.ceil((status.until - Date.now()) / 1000)));
  }
  if (!isDerivedPassphrase(given)) throw new BadRequest('send the derived passphrase in "passphrase" to confirm this change of two-factor authentication', 'passphrase_required');
  if (!(await deps.registry.checkPassphrase(instance, given))) {
    await deps.lockout.failure(instance.id, ip);
    throw new UnprocessableEntity('wrong passphrase', 'wrong_passphrase');
  }
}

const BASIC: Partial<TwoFactorState> = { authMode: 'basic', totpSecret: null, totpLastStep: null, recoveryHashes: [] };

export function registerTwoFactorRoutes(app: FastifyInstance, deps: AuthDeps): void {
  app.get<{ Querystring: { two_factor_token?: string; redirect?: string; client_id?: string; error?: string; left?: string } }>('/auth/twofactor', { schema: S.twoFactorPage }, async (req, reply) => {
    const instance = instanceOf(req);
    const token = str(req.query.two_factor_token).slice(0, 256);
    const use: TwoFactorUse = str(req.query.client_id) !== '' ? 'move' : 'login';
    const state = await deps.twoFactor.twoFactor(instance);
    const valid = state.authMode !== 'basic' && checkTwoFactorToken((await deps.registry.secrets(instance)).session, instance.id, token, Date.now(), use);
    // a move's consent: the wizard's address is the one kept with the token, whatever the query says
    const move = valid && use === 'move' ? (await deps.moveConsent?.pending(instance, token)) ?? null : null;
    if (!valid || (use === 'move' && move?.clientId !== req.query.client_id)) {
      return reply.code(303).header('Location', `/auth/login?redirect=${encodeURIComponent(use === 'login' ? str(req.query.redirect) : '')}`).send();
    }
    const error = promptError(langOf(instance.locale), req.query.error, req.query.left);
    return pageReply(req, reply, instance, { status: 200, token, mode: modeOf(state), error, redirect: req.query.redirect, move });
  });
  app.post('/auth/twofactor', { bodyLimit: 16 * 1024, schema: S.twoFactorLogin }, async (req, reply) => twoFactorLogin(deps, req, reply));

  app.post('/settings/twofactor/totp', { schema: S.totpStart }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'POST');
    const state = await deps.twoFactor.twoFactor(instance);
    if (state.authMode === 'two_factor_totp') throw new Conflict('an authenticator app is already enrolled: turn two-factor authentication off first');
    const secret = newTotpSecret();
    await deps.twoFactor.setTwoFactor(instance, { totpSecret: sealSecret((await deps.registry.secrets(instance)).session, instance.id, secret) });
    const uri = otpauthUri({ secret, issuer: ISSUER, account: instance.domain });
    return reply.header('Cache-Control', 'no-store').send({ secret, otpauth_uri: uri, qr_svg: await qrSvg(uri) });
  });

  app.post('/settings/twofactor/totp/confirm', { schema: S.totpConfirm }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'POST');
    const body = (req.body ?? {}) as Record<string, unknown>;
    await enforceLimit(deps.limiter, 'twoFactorAttempts', instance.id);
    const state = await deps.twoFactor.twoFactor(instance);
    const clear = state.authMode !== 'two_factor_totp' && state.totpSecret
      ? openSecret((await deps.registry.secrets(instance)).session, instance.id, state.totpSecret) : null;
    if (!clear) throw new Conflict('no enrolment is pending: start with POST /settings/twofactor/totp');
    const r = await verifyTotp(clear, str(body.code));
    if (!r.valid || r.step === undefined) throw new UnprocessableEntity('wrong code: type the code your authenticator app shows now', 'invalid_code');
    const { codes, hashes } = await newRecoveryCodes();
    await deps.twoFactor.setTwoFactor(instance, { authMode: 'two_factor_totp', totpLastStep: r.step, recoveryHashes: hashes });
    await recordEvent(deps, req, instance, 'twofactor_enabled');
    return reply.header('Cache-Control', 'no-store').send({ auth_mode: 'two_factor_totp', recovery_codes: codes });
  });

  app.delete('/settings/twofactor', { schema: S.twoFactorOff }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'DELETE');
    await checkOwnerPassphrase(deps, instance, req.ip, ((req.body ?? {}) as Record<string, unknown>).passphrase);
    await deps.twoFactor.setTwoFactor(instance, BASIC);
    await recordEvent(deps, req, instance, 'twofactor_disabled');
    return reply.code(204).send();
  });

  app.put('/settings/instance/auth_mode', { schema: S.authMode }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'PUT');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const wanted = body.auth_mode;
    const state = await deps.twoFactor.twoFactor(instance);
    if (wanted === 'basic') {
      if (state.authMode !== 'basic') {
        // Hearth asks for the passphrase here too (cozy-stack does not): a stolen session must not drop the second factor.
        await checkOwnerPassphrase(deps, instance, req.ip, body.passphrase);
        await deps.twoFactor.setTwoFactor(instance, BASIC);
        await recordEvent(deps, req, instance, 'twofactor_disabled');
      }
      return reply.code(204).send();
    }
    if (wanted === 'two_factor_totp') throw new BadRequest('enrol an authenticator app with POST /settings/twofactor/totp', 'invalid_auth_mode');
    if (state.authMode === 'two_factor_mail') return reply.code(204).send();
    const code = str(body.two_factor_activation_code);
    if (code === '') {
      // Step 1 (as cozy-stack): mail a code to prove the address works before relying on it.
      await sendMailCode(deps, instance);
      return reply.code(204).send();
    }
    await enforceLimit(deps.limiter, 'twoFactorAttempts', instance.id);
    const r = await verifyMailCode((await deps.registry.secrets(instance)).session, instance.id, code, { lastUsedStep: state.mailLastStep ?? undefined });
    // The step is not recorded: the activation code only switches the mode, and recording it would
    // refuse the login code mailed in the same 30 s (the same code).
    if (!r.valid) throw new UnprocessableEntity('wrong or expired activation code', 'invalid_code');
    await deps.twoFactor.setTwoFactor(instance, { ...BASIC, authMode: 'two_factor_mail' });
    await recordEvent(deps, req, instance, 'twofactor_enabled');
    return reply.code(204).send();
  });
}
