/**
 * Owner login as cozy-stack serves it: the passphrase parameters (/settings/passphrase,
 * /public/prelogin), the login page and form (/auth/login), logout, and the session list
 * (/settings/sessions). /auth and the session routes answer without CORS.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { BadRequest, NotFound } from '../common/errors.js';
import { nextPageQuery, pageParams } from '../files/http/params.js';
import { instanceOf } from '../data/http/context.js';
import type { Instance, InstanceRegistry, PassphraseTokenStore, TwoFactorStore } from '../instances/types.js';
import type { Mailer } from '../mail/mailer.js';
import type { PermissionResolver } from '../permissions/resolve.js';
import { LOGIN_LOCKOUT, type LoginLockOut, type RateLimiter } from '../limits/index.js';
import { csrfForForm, csrfValid } from './csrf.js';
import { passphraseAttemptWait } from './attempts.js';
import { parseFormBodies, requestHost, safeRedirect, withoutCors } from './http.js';
import { langOf, message, renderLoginPage, type MessageKey } from './login-page.js';
import { isDerivedPassphrase, KDF_PBKDF2, passphraseSalt } from './passphrase.js';
import type { Session, SessionStore } from './sessions.js';
import { completeLogin, currentSession, recordEvent, sessionCookie } from './session-http.js';
import { beginTwoFactor, registerTwoFactorRoutes, type MoveConsentFlow } from './twofactor-routes.js';
import { registerHome, type HomeDeps } from './home.js';
import { registerPassphraseRoutes } from './passphrase-routes.js';
import { registerSecurityPage } from './security-routes.js';
import { requireOwner } from './owner.js';
import { registerAppPasswordRoutes } from './app-password-routes.js';
import { registerRecoveryCodeRoutes } from './recovery-routes.js';
import { logoutCaller, logoutCors } from './logout-cors.js';
import * as S from './schemas.js';

export interface AuthDeps {
  registry: InstanceRegistry;
  sessions: SessionStore;
  limiter: RateLimiter;
  /** Built with LOGIN_LOCKOUT (per client address) and LOGIN_LOCKOUT_SOURCES (per instance). */
  lockout: LoginLockOut;
  /** Sends the two-factor mail codes. */
  mailer: Mailer;
  /** The owner's second factor (the SQLite registry). */
  twoFactor: TwoFactorStore;
  /** Onboarding and reset-by-mail tokens (the SQLite registry). */
  passphraseTokens: PassphraseTokenStore;
  /** The one permission module: settings routes also take tokens with rights on io.cozy.settings. */
  perms: PermissionResolver;
  /** `apps.subdomains`: where the session cookie lives and which app hosts a login may go back to. */
  subdomains?: 'nested' | 'flat';
  /** GET /: the URL of the default app when it is installed (apps/serve). */
  defaultApp?: HomeDeps['defaultApp'];
  /** The consents to a move that wait for their second factor (move/transfer/authorize.ts); none: /auth/twofactor is for logins only. */
  moveConsent?: MoveConsentFlow;
}

export { currentSession };

const SESSIONS_DOCTYPE = 'io.cozy.sessions';
const SECURITY_EVENTS_DOCTYPE = 'io.cozy.hearth.security_events';

/** The session a logout acts on, checked as the other cookie-authenticated writes (owner.ts): the cookie alone from the instance's own pages only. */
async function requireSession(deps: AuthDeps, req: FastifyRequest): Promise<{ instance: Instance; session: Session }> {
  return logoutCaller(deps, req);
}

function kdfParams(instance: Instance) {
  return { salt: passphraseSalt(instance.domain), kdf: KDF_PBKDF2, iterations: instance.kdfIterations };
}

function jsonApiSession(s: Session) {
  const attributes = { created_at: new Date(s.createdAt).toISOString(), last_seen: new Date(s.lastSeen).toISOString(),
    expires_at: new Date(s.expiresAt).toISOString(), long_run: true, user_agent: s.userAgent, ip: s.ip, kind: s.kind };
  return { type: SESSIONS_DOCTYPE, id: s.id, attributes, links: { self: `/settings/sessions/${s.id}` } };
}

function page(req: FastifyRequest, reply: FastifyReply, instance: Instance, status: number, error: string | null, redirect: unknown): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const csrf = { token: csrfForForm(req, reply) };
  const host = requestHost(req);
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' ${req.protocol}://*.${host}`;
  const html = renderLoginPage({
    lang: langOf(instance.locale), name: instance.publicName ?? instance.domain, nonce, csrf: csrf.token,
    redirect: typeof redirect === 'string' ? redirect.slice(0, 2048) : '', error, ...kdfParams(instance),
  });
  return reply.code(status).header('Content-Security-Policy', csp).header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer')
    .type('text/html; charset=utf-8').send(html);
}

async function login(deps: AuthDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const instance = instanceOf(req);
  const json = String(req.headers['content-type'] ?? '').startsWith('application/json');
  const body = (req.body ?? {}) as Record<string, unknown>;
  const lang = json ? 'en' : langOf(instance.locale);
  const fail = (status: number, key: MessageKey, vars: Record<string, string | number> = {}, retryAfter?: number) => {
    if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
    const text = message(lang, key, vars);
    return json ? reply.code(status).send({ error: key, message: text }) : page(req, reply, instance, status, text, body.redirect);
  };
  // A JSON body cannot come cross-site without a CORS preflight, which /auth never grants: CSRF applies to forms.
  if (!json && !csrfValid(req, body.csrf_token)) return fail(403, 'csrf');
  const wait = await passphraseAttemptWait(deps.limiter, req.ip, instance.id);
  if (wait !== null) return fail(429, 'rate', { s: wait }, wait);
  const locked = (until: number) => {
    const secs = Math.max(1, Math.ceil((until - Date.now()) / 1000));
    return fail(429, 'locked', { time: new Date(until).toISOString().slice(0, 16).replace('T', ' ') + ' UTC', min: Math.ceil(secs / 60), domain: instance.domain }, secs);
  };
  const status = await deps.lockout.status(instance.id, req.ip);
  if (status.locked && status.until !== null) return locked(status.until);
  if (!isDerivedPassphrase(body.passphrase)) return fail(400, 'missing');
  if (!(await deps.registry.checkPassphrase(instance, body.passphrase))) {
    await recordEvent(deps, req, instance, 'login_failed');
    const after = await deps.lockout.failure(instance.id, req.ip);
    if (after.locked && after.until !== null) return locked(after.until);
    return fail(401, 'wrong', { n: LOGIN_LOCKOUT.threshold - after.failures });
  }
  // With two-factor authentication the passphrase step does not reset the lock-out: the second step's failures count too.
  if (await beginTwoFactor(deps, req, reply, instance, { json, lang, redirect: body.redirect })) return reply;
  await deps.lockout.success(instance.id, req.ip);
  return completeLogin(deps, req, reply, instance, json, body.redirect);
}

async function authPlugin(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  // /auth/* preflights are answered by the OAuth plugin (also without CORS); these are ours.
  // /auth answers without CORS; the /settings routes of this plugin keep it, for apps with a token (owner.ts)
  withoutCors(app, [], (url) => url.startsWith('/auth'));
  logoutCors(app, deps);
  parseFormBodies(app);
  app.get<{ Querystring: { redirect?: string } }>('/auth/login', { schema: S.loginPage }, async (req, reply) => {
    const instance = instanceOf(req);
    if (await currentSession(deps, instance, req)) return reply.code(303).header('Location', safeRedirect(req.query.redirect, instance, req, deps.subdomains)).send();
    return page(req, reply, instance, 200, null, req.query.redirect);
  });
  app.post('/auth/login', { bodyLimit: 16 * 1024, schema: S.login }, async (req, reply) => login(deps, req, reply));
  app.delete('/auth/login', { schema: S.logout }, async (req, reply) => {
    const { instance, session } = await requireSession(deps, req);
    await deps.sessions.delete(session.id);
    return reply.code(204).header('Set-Cookie', sessionCookie(req, '', 0, { instance, subdomains: deps.subdomains })).send();
  });
  app.delete('/auth/login/others', { schema: S.logoutOthers }, async (req, reply) => {
    const { instance, session } = await requireSession(deps, req);
    await deps.sessions.deleteOthers(instance, session.id);
    await recordEvent(deps, req, instance, 'sessions_revoked');
    return reply.code(204).send();
  });
  registerTwoFactorRoutes(app, deps);
  registerPassphraseRoutes(app, deps);
  registerSecurityPage(app, deps);
  registerAppPasswordRoutes(app, deps);
  registerRecoveryCodeRoutes(app, deps);
  app.get('/settings/sessions', { schema: S.sessions }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'GET');
    const data = (await deps.sessions.list(instance)).map(jsonApiSession);
    return reply.type('application/vnd.api+json').send({ data, meta: { count: data.length } });
  });
  app.get('/settings/sessions/current', { schema: S.currentSession }, async (req, reply) => {
    const { session } = await requireOwner(deps, req, 'GET');
    if (!session) throw new NotFound('this request carries no owner session');
    return reply.type('application/vnd.api+json').send({ data: jsonApiSession(session) });
  });
  app.get('/settings/security-events', { schema: S.securityEvents }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'GET');
    const page = pageParams(req);
    const before = page.cursor === undefined ? undefined : Number(page.cursor);
    if (before !== undefined && !Number.isSafeInteger(before)) throw new BadRequest('page[cursor] must be the cursor of links.next', 'invalid_parameter');
    const { events, next, total } = await deps.sessions.events.list(instance, page.limit, before);
    const data = events.map((e) => ({ type: SECURITY_EVENTS_DOCTYPE, id: String(e.id), attributes: { kind: e.kind, at: new Date(e.at).toISOString(), ip: e.ip, user_agent: e.userAgent, ...(e.detail ? { detail: e.detail } : {}) } }));
    const query = nextPageQuery(page, next === null ? null : String(next));
    return reply.header('Cache-Control', 'no-store').type('application/vnd.api+json').send({ data, meta: { count: total }, ...(query ? { links: { next: `/settings/security-events?${query}` } } : {}) });
  });
  app.delete<{ Params: { id: string } }>('/settings/sessions/:id', { schema: S.revokeSession }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'DELETE');
    if (!(await deps.sessions.deleteOf(instance, req.params.id))) throw new NotFound('this instance has no open session with this id');
    await recordEvent(deps, req, instance, 'session_revoked');
    return reply.code(204).send();
  });
}

export function registerAuthRoutes(app: FastifyInstance, deps: AuthDeps): void {
  void app.register(async (auth) => authPlugin(auth, deps));
  registerHome(app, deps);
  app.get('/settings/passphrase', { schema: S.kdfParams }, async (req) => kdfParams(instanceOf(req)));
  // cozy-stack's prelogin (Bitwarden's field names) plus the same fields as /settings/passphrase.
  app.get('/public/prelogin', { schema: S.prelogin }, async (req) => {
    const instance = instanceOf(req);
    const p = kdfParams(instance);
    return { Kdf: p.kdf, KdfIterations: p.iterations, OIDC: false, FranceConnect: false, magic_link: false, name: instance.publicName ?? '', ...p };
  });
}
