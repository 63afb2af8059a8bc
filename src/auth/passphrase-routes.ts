/**
 * Choosing and changing the owner's passphrase, as cozy-stack (reference §1.2, §1.11):
 *
 * - Onboarding: an instance created without a passphrase has a single-use `register_token`;
 *   `GET /auth/passphrase?registerToken=` shows the page, `POST /settings/passphrase` sets it
 *   and opens a session.
 * - Change (session): `PUT /settings/passphrase` (current + new) and `POST /settings/passphrase/check`.
 * - Reset by mail: `GET/POST /auth/passphrase_reset` mails a 15-minute link to
 *   `GET/POST /auth/passphrase_renew`, which sets the passphrase and ends every session.
 *
 * Passphrases are always client-derived values (auth/passphrase.ts); tokens are stored hashed.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { BadRequest, HearthError, TooManyRequests } from '../common/errors.js';
import { instanceOf } from '../data/http/context.js';
import type { Instance } from '../instances/types.js';
import { enforceLimit, type LimitName } from '../limits/index.js';
import { csrfForForm, csrfValid } from './csrf.js';
import { htmlReply, parseCookies, requestHost, serializeCookie } from './http.js';
import { langOf, type Lang } from './login-page.js';
import { isDerivedPassphrase, passphraseSalt } from './passphrase.js';
import { passphraseText, renderChoosePage, renderMessagePage, renderResetPage, renderSentPage, type PassphraseText } from './passphrase-page.js';
import type { AuthDeps } from './routes.js';
import { requireOwner } from './owner.js';
import * as S from './schemas.js';
import { completeLogin, recordEvent } from './session-http.js';

/** How long a mailed reset link lives (cozy-stack: about 15 minutes). */
export const RESET_TOKEN_TTL_MS = 15 * 60 * 1000;

/** The onboarding link an admin gives the owner (https unless the domain is local or the server runs in dev mode). */
export function registrationUrl(domain: string, token: string, dev = false): string {
  const host = domain.replace(/:\d+$/, '');
  const local = dev || host === 'localhost' || host.endsWith('.localhost') || /^[\d.]+$/.test(host) || host.startsWith('[');
  return `${local ? 'http' : 'https'}://${domain}/auth/passphrase?registerToken=${encodeURIComponent(token)}`;
}

/** The onboarding form posts to /settings/passphrase, outside the /auth path of the usual CSRF cookie: it has its own. */
const REGISTER_CSRF_PATH = '/settings/passphrase';
export const REGISTER_CSRF_COOKIE = 'hearth_csrf_register';

function registerCsrf(req: FastifyRequest, reply: FastifyReply): string {
  const have = parseCookies(req.headers.cookie).get(REGISTER_CSRF_COOKIE);
  if (have && /^[A-Za-z0-9_-]{43}$/.test(have)) return have;
  const token = randomBytes(32).toString('base64url');
  void reply.header('Set-Cookie', serializeCookie(REGISTER_CSRF_COOKIE, token, { maxAge: 86400, path: REGISTER_CSRF_PATH, sameSite: 'Strict', secure: req.protocol === 'https' }));
  return token;
}

function registerCsrfValid(req: FastifyRequest, given: unknown): boolean {
  const have = parseCookies(req.headers.cookie).get(REGISTER_CSRF_COOKIE);
  if (!have || typeof given !== 'string' || given.length !== have.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(have));
}

const isJson = (req: FastifyRequest) => String(req.headers['content-type'] ?? '').startsWith('application/json');
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The iterations the client used (a number in JSON, digits in a form: the route's schema checked them), else the instance's. */
function iterationsOf(raw: unknown, fallback: number): number {
  return raw === undefined || raw === '' ? fallback : Number(raw);
}

const nameOf = (i: Instance) => i.publicName ?? i.domain;
const nonce = () => randomBytes(16).toString('base64');

function messagePage(req: FastifyRequest, reply: FastifyReply, instance: Instance, status: number, title: PassphraseText, text: string, link?: { href: string; label: PassphraseText }): FastifyReply {
  const lang = langOf(instance.locale);
  const n = nonce();
  return htmlReply(req, reply, status, n, renderMessagePage({
    lang, name: nameOf(instance), nonce: n, title: passphraseText(lang, title), text,
    ...(link ? { link: { href: link.href, label: passphraseText(lang, link.label) } } : {}),
  }));
}

function choosePage(req: FastifyRequest, reply: FastifyReply, instance: Instance, kind: 'register' | 'reset', token: string, status = 200, error: string | null = null): FastifyReply {
  const n = nonce();
  const register = kind === 'register';
  return htmlReply(req, reply, status, n, renderChoosePage({
    lang: langOf(instance.locale), name: nameOf(instance), nonce: n, csrf: register ? registerCsrf(req, reply) : csrfForForm(req, reply),
    action: register ? '/settings/passphrase' : '/auth/passphrase_renew', tokenField: register ? 'register_token' : 'token', token,
    salt: passphraseSalt(instance.domain), iterations: instance.kdfIterations, error,
  }));
}

async function limited(deps: AuthDeps, rules: Array<[LimitName, string]>): Promise<number | null> {
  try {
    for (const [name, subject] of rules) await enforceLimit(deps.limiter, name, subject);
    return null;
  } catch (err) {
    if (!(err instanceof TooManyRequests)) throw err;
    return Number(err.headers['Retry-After'] ?? 60);
  }
}

/** A wrong passphrase on a settings route: counted in the login lock-out; 429 once locked. */
async function checkCurrent(deps: AuthDeps, instance: Instance, ip: string, derived: unknown): Promise<boolean> {
  const status = await deps.lockout.status(instance.id, ip);
  if (status.locked) throw new TooManyRequests('too many wrong passphrases: logins are locked for a while', Math.ceil(((status.until ?? Date.now()) - Date.now()) / 1000));
  if (isDerivedPassphrase(derived) && (await deps.registry.checkPassphrase(instance, derived))) {
    await deps.lockout.success(instance.id, ip);
    return true;
  }
  await deps.lockout.failure(instance.id, ip);
  return false;
}

function requireJson(req: FastifyRequest): Record<string, unknown> {
  if (!isJson(req)) throw new HearthError(415, 'unsupported_media_type', 'send a JSON body (Content-Type: application/json)');
  return (req.body ?? {}) as Record<string, unknown>;
}

export function registerPassphraseRoutes(app: FastifyInstance, deps: AuthDeps): void {
  const tokens = deps.passphraseTokens;
  const lang = (i: Instance): Lang => langOf(i.locale);

  // ---- onboarding ----
  app.get<{ Querystring: { registerToken?: string } }>('/auth/passphrase', { schema: S.registerPage }, async (req, reply) => {
    const instance = instanceOf(req);
    const token = str(req.query.registerToken);
    if ((await tokens.passphraseTokenState(instance, 'register', token, Date.now())) !== 'valid') {
      return messagePage(req, reply, instance, 400, 'errorTitle', passphraseText(lang(instance), 'badRegister'), { href: '/auth/login', label: 'login' });
    }
    return choosePage(req, reply, instance, 'register', token);
  });

  app.post('/settings/passphrase', { bodyLimit: 16 * 1024, schema: S.register }, async (req, reply) => {
    const instance = instanceOf(req);
    const json = isJson(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const token = str(body.register_token);
    const fail = (status: number, key: PassphraseText, vars: Record<string, number> = {}) => {
      const text = passphraseText(json ? 'en' : lang(instance), key, vars);
      if (json) return reply.code(status).send({ error: key, message: text });
      if (status === 400 && key === 'badRegister') return messagePage(req, reply, instance, 400, 'errorTitle', text, { href: '/auth/login', label: 'login' });
      return choosePage(req, reply, instance, 'register', token, status, text);
    };
    if (!json && !registerCsrfValid(req, body.csrf_token)) return fail(403, 'csrf');
    const retry = await limited(deps, [['authPerIp', req.ip], ['auth', instance.id]]);
    if (retry !== null) {
      void reply.header('Retry-After', String(retry));
      return fail(429, 'rate', { s: retry });
    }
    if (!isDerivedPassphrase(body.passphrase)) return fail(400, 'missing');
    const iterations = iterationsOf(body.iterations, instance.kdfIterations);
    if (!(await tokens.consumePassphraseToken(instance, 'register', token, Date.now()))) return fail(400, 'badRegister');
    const updated = await deps.registry.setDerivedPassphrase(instance, body.passphrase, iterations);
    req.log.info({ domain: instance.domain }, 'onboarding: the owner chose the passphrase');
    return completeLogin(deps, req, reply, updated, json, undefined);
  });

  // ---- change and check (session) ----
  app.put('/settings/passphrase', { bodyLimit: 16 * 1024, schema: S.changePassphrase }, async (req, reply) => {
    const { instance, session } = await requireOwner(deps, req, 'PUT');
    const body = requireJson(req) as Record<string, unknown> & { new_passphrase: string }; // the schema checked it
    const iterations = iterationsOf(body.iterations, instance.kdfIterations);
    if (!(await checkCurrent(deps, instance, req.ip, body.current_passphrase))) throw new BadRequest('the current passphrase is wrong', 'invalid_passphrase');
    await deps.registry.setDerivedPassphrase(instance, body.new_passphrase, iterations);
    await recordEvent(deps, req, instance, 'passphrase_changed');
    if (session) await deps.sessions.deleteOthers(instance, session.id);
    else await deps.sessions.deleteAll(instance);
    return reply.code(204).send();
  });

  app.post('/settings/passphrase/check', { bodyLimit: 16 * 1024, schema: S.checkPassphrase }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'PUT');
    const body = requireJson(req);
    if (!(await checkCurrent(deps, instance, req.ip, body.passphrase))) return reply.code(403).send({ error: 'forbidden', message: 'wrong passphrase' });
    return reply.code(204).send();
  });

  // ---- reset by mail ----
  const resetPage = (req: FastifyRequest, reply: FastifyReply, instance: Instance, status: number, error: string | null) => {
    const n = nonce();
    return htmlReply(req, reply, status, n, renderResetPage({ lang: lang(instance), name: nameOf(instance), nonce: n, csrf: csrfForForm(req, reply), error }));
  };
  app.get('/auth/passphrase_reset', { schema: S.resetPage }, async (req, reply) => resetPage(req, reply, instanceOf(req), 200, null));

  app.post('/auth/passphrase_reset', { bodyLimit: 16 * 1024, schema: S.reset }, async (req, reply) => {
    const instance = instanceOf(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!csrfValid(req, body.csrf_token)) return resetPage(req, reply, instance, 403, passphraseText(lang(instance), 'csrf'));
    const retry = await limited(deps, [['mailRequestsPerIp', req.ip], ['passphraseReset', instance.id]]);
    if (retry !== null) {
      void reply.header('Retry-After', String(retry));
      return resetPage(req, reply, instance, 429, passphraseText(lang(instance), 'rate', { s: retry }));
    }
    if (instance.email) {
      const token = await tokens.issuePassphraseToken(instance, 'reset', Date.now() + RESET_TOKEN_TTL_MS);
      const link = `${req.protocol}://${requestHost(req)}/auth/passphrase_renew?token=${token}`;
      const name = nameOf(instance);
      try {
        await deps.mailer.send({
          to: [{ email: instance.email }], domain: instance.domain, instanceId: instance.id,
          subject: passphraseText(lang(instance), 'mailSubject', { name }), text: passphraseText(lang(instance), 'mailText', { name, link }),
        });
      } catch (err) {
        // the same answer either way: whether a mail went out is not told to the visitor
        req.log.warn({ err, domain: instance.domain }, 'passphrase reset: the mail could not be sent');
      }
    }
    const n = nonce();
    return htmlReply(req, reply, 200, n, renderSentPage({ lang: lang(instance), name: nameOf(instance), nonce: n, csrf: csrfForForm(req, reply) }));
  });

  const badRenew = (req: FastifyRequest, reply: FastifyReply, instance: Instance) =>
    messagePage(req, reply, instance, 400, 'errorTitle', passphraseText(lang(instance), 'badRenew'), { href: '/auth/passphrase_reset', label: 'askAgain' });

  app.get<{ Querystring: { token?: string } }>('/auth/passphrase_renew', { schema: S.renewPage }, async (req, reply) => {
    const instance = instanceOf(req);
    const token = str(req.query.token);
    if ((await tokens.passphraseTokenState(instance, 'reset', token, Date.now())) !== 'valid') return badRenew(req, reply, instance);
    return choosePage(req, reply, instance, 'reset', token);
  });

  app.post('/auth/passphrase_renew', { bodyLimit: 16 * 1024, schema: S.renew }, async (req, reply) => {
    const instance = instanceOf(req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const token = str(body.token ?? body.passphrase_reset_token);
    if (!csrfValid(req, body.csrf_token)) return choosePage(req, reply, instance, 'reset', token, 403, passphraseText(lang(instance), 'csrf'));
    if (!isDerivedPassphrase(body.passphrase)) return choosePage(req, reply, instance, 'reset', token, 400, passphraseText(lang(instance), 'missing'));
    const iterations = iterationsOf(body.iterations, instance.kdfIterations);
    if (!(await tokens.consumePassphraseToken(instance, 'reset', token, Date.now()))) return badRenew(req, reply, instance);
    await deps.registry.setDerivedPassphrase(instance, body.passphrase, iterations);
    await recordEvent(deps, req, instance, 'passphrase_reset');
    await deps.sessions.deleteAll(instance);
    // the way in of an owner locked out (by strangers' guesses): the mailbox proved, the instance and their address are unlocked
    await deps.lockout.unlockFor(instance.id, req.ip);
    req.log.info({ domain: instance.domain }, 'passphrase reset by mail');
    return reply.code(303).header('Location', '/auth/login').header('Cache-Control', 'no-store').send();
  });
}
