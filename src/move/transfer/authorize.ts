/**
 * The target's consent to a move (cozy-stack web/auth/oauth.go, /auth/authorize/move): the owner types the passphrase
 * of the instance that will receive the data (derived in the browser as on the login page); the answer is `{redirect}`
 * to the wizard's client with an access code of scope MOVE_SCOPE, which /auth/access_token exchanges for a token.
 * Wrong passphrases count in the login rate limits and lock-out. With two-factor authentication, as cozy-stack does, the
 * passphrase comes first, then the answer sends the browser to `/auth/twofactor` with a two-factor token for a move (and
 * the `client_id`), the code mailed in mail mode; this consent is kept under that token (single use, 5 minutes) and the
 * right code there gives the same redirect to the wizard (`moveConsentFlow`, called by src/auth/twofactor-routes.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { NotFound } from '../../common/errors.js';
import { instanceOf } from '../../data/http/context.js';
import type { Instance } from '../../instances/types.js';
import { LOGIN_LOCKOUT } from '../../limits/index.js';
import { passphraseAttemptWait } from '../../auth/attempts.js';
import { isDerivedPassphrase, passphraseSalt } from '../../auth/passphrase.js';
import { recordEvent } from '../../auth/session-http.js';
import { TWO_FACTOR_TOKEN_TTL_MS } from '../../auth/twofactor/mailcode.js';
import { twoFactorText } from '../../auth/twofactor-page.js';
import type { MoveConsentFlow } from '../../auth/twofactor-routes.js';
import { message } from '../../auth/login-page.js';
import type { OAuthClient } from '../../oauth/clients.js';
import type { TransferDeps } from './deps.js';
import { errorPage, fields, langFor, sendPage } from './http.js';
import { authorizeMovePage } from './pages.js';
import { MOVE_SCOPE } from './peer.js';
import * as S from './schemas.js';

type Checked = { ok: true; client: OAuthClient; state: string; redirectUri: string } | { ok: false; why: string };

async function check(deps: TransferDeps, instance: Instance, p: Record<string, string>): Promise<Checked> {
  const { state, client_id: clientId, redirect_uri: redirectUri } = p;
  if (!state) return { ok: false, why: 'The state parameter is missing.' };
  if (!clientId) return { ok: false, why: 'The client_id parameter is missing.' };
  let client: OAuthClient;
  try {
    client = await deps.clients.get(instance, clientId);
  } catch (err) {
    if (err instanceof NotFound) return { ok: false, why: 'This client is not registered on this instance (unknown client_id).' };
    throw err;
  }
  if (!redirectUri || !client.redirect_uris.includes(redirectUri)) return { ok: false, why: 'The redirect_uri parameter is not one of the redirect URIs this client registered.' };
  return { ok: true, client, state, redirectUri };
}

async function page(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const instance = instanceOf(req);
  const c = await check(deps, instance, fields(req.query));
  if (!c.ok) return errorPage(reply, instance, c.why);
  const lang = langFor(instance);
  return sendPage(reply, 200, (nonce) => authorizeMovePage(lang, nonce, {
    name: instance.publicName ?? instance.domain, salt: passphraseSalt(instance.domain), iterations: instance.kdfIterations,
    state: c.state, clientId: c.client.client_id, redirectUri: c.redirectUri,
  }));
}

async function accept(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const instance = instanceOf(req);
  const body = fields(req.body);
  const refuse = (status: number, error: string, text: string) => reply.code(status).send({ error, message: text });
  // JSON only: a cross-site page cannot send it without a CORS preflight, which /auth never grants
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return refuse(400, 'json', 'send a JSON body');
  const wait = await passphraseAttemptWait(deps.limiter, req.ip, instance.id);
  if (wait !== null) return reply.header('Retry-After', String(wait)).code(429).send({ error: 'rate', message: message('en', 'rate', { s: wait }) });
  const locked = (until: number) => refuse(429, 'locked', message('en', 'locked', { time: new Date(until).toISOString().slice(0, 16).replace('T', ' ') + ' UTC', min: Math.ceil(Math.max(1, (until - Date.now()) / 1000) / 60), domain: instance.domain }));
  const status = await deps.lockout.status(instance.id, req.ip);
  if (status.locked && status.until !== null) return locked(status.until);
  const c = await check(deps, instance, body);
  if (!c.ok) return refuse(400, 'invalid_request', c.why);
  if (!isDerivedPassphrase(body.passphrase)) return refuse(400, 'missing', message('en', 'missing'));
  if (!(await deps.registry.checkPassphrase(instance, body.passphrase))) {
    await recordEvent(deps, req, instance, 'login_failed');
    const after = await deps.lockout.failure(instance.id, req.ip);
    if (after.locked && after.until !== null) return locked(after.until);
    return refuse(401, 'wrong', message('en', 'wrong', { n: LOGIN_LOCKOUT.threshold - after.failures }));
  }
  await deps.lockout.success(instance.id, req.ip);
  void reply.header('Cache-Control', 'no-store');
  const consent: PendingConsent = { clientId: c.client.client_id, state: c.state, redirectUri: c.redirectUri };
  const second = await deps.secondFactor(instance);
  if (second.kind === 'none') return reply.send({ redirect: await wizardUrl(deps, instance, consent) });
  if (second.kind === 'wait') return reply.header('Retry-After', String(second.s)).code(429).send({ error: 'rate', message: twoFactorText('en', 'mailWait', { s: second.s }) });
  await deps.pending.put('two_factor', second.token, instance.id, { ...consent }, TWO_FACTOR_TOKEN_TTL_MS);
  // cozy-stack's query (the page reads the consent kept with the token, not the rest of it)
  const q = new URLSearchParams({ two_factor_token: second.token, state: c.state, client_id: c.client.client_id, redirect: c.redirectUri, trusted_device_checkbox: 'false' });
  if (second.mailRate !== undefined) q.set('error', 'mail_rate');
  return reply.send({ redirect: `/auth/twofactor?${q.toString()}` });
}

interface PendingConsent { clientId: string; state: string; redirectUri: string }

/** The wizard's address with an access code of scope MOVE_SCOPE, and what cozy-stack adds (vault, used, quota). */
async function wizardUrl(deps: TransferDeps, instance: Instance, c: PendingConsent): Promise<string> {
  const code = await deps.codes.create({ instanceId: instance.id, clientId: c.clientId, redirectUri: c.redirectUri, scope: MOVE_SCOPE, codeChallenge: null });
  const url = new URL(c.redirectUri);
  const used = await deps.usage(instance);
  for (const [k, v] of Object.entries({ state: c.state, code, vault: 'false', used: String(used), quota: instance.diskQuota === null ? '' : String(instance.diskQuota) })) url.searchParams.set(k, v);
  return url.href;
}

/** The consents waiting for their second factor, for /auth/twofactor (server/compose.ts gives it to the auth routes). */
export function moveConsentFlow(deps: TransferDeps): MoveConsentFlow {
  const consentOf = (instance: Instance, p: { instanceId: string; value: Record<string, unknown> } | null): PendingConsent | null => {
    if (!p || p.instanceId !== instance.id) return null;
    const { clientId, state, redirectUri } = p.value;
    return typeof clientId === 'string' && typeof state === 'string' && typeof redirectUri === 'string' ? { clientId, state, redirectUri } : null;
  };
  return {
    async pending(instance, token) {
      const c = consentOf(instance, await deps.pending.peek('two_factor', token));
      return c && { clientId: c.clientId, redirect: c.redirectUri, state: c.state };
    },
    async complete(instance, token) {
      const c = consentOf(instance, await deps.pending.take('two_factor', token));
      // the client may have been deleted meanwhile: checked again as on the passphrase step
      if (!c) return null;
      const checked = await check(deps, instance, { state: c.state, client_id: c.clientId, redirect_uri: c.redirectUri });
      return checked.ok ? wizardUrl(deps, instance, c) : null;
    },
  };
}

export function registerAuthorizeMove(app: FastifyInstance, deps: TransferDeps): void {
  app.get('/auth/authorize/move', { schema: S.authorizeMovePage }, async (req, reply) => page(deps, req, reply));
  app.post('/auth/authorize/move', { bodyLimit: 16 * 1024, schema: S.authorizeMove }, async (req, reply) => accept(deps, req, reply));
}
