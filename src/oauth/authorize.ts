/**
 * The OAuth 2 authorization-code flow as cozy-stack serves it (§2.8): the consent page
 * (GET/POST /auth/authorize, an owner session and a CSRF token required) and the token
 * endpoint (POST /auth/access_token: authorization_code with optional PKCE S256, refresh_token).
 *
 * Tokens: access `aud: access` (TokenService's TOKEN_TTL, 7 days as in cozy-stack's code),
 * refresh `aud: refresh` (no expiry), both `sub` = client_id and the granted `scope`; they are
 * revoked by deleting the client (see revocation.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Conflict, HearthError, NotFound } from '../common/errors.js';
import { csrfForForm, csrfValid } from '../auth/csrf.js';
import { parseFormBodies, requestHost } from '../auth/http.js';
import { currentSession, type SessionDeps } from '../auth/session-http.js';
import { langOf } from '../auth/login-page.js';
import type { TokenService } from '../auth/tokens.js';
import { instanceOf } from '../data/http/context.js';
import type { Instance } from '../instances/types.js';
import { parseScope, type Rule } from '../permissions/rules.js';
import type { HearthConfig } from '../config/types.js';
import type { OAuthClient, OAuthClients } from './clients.js';
import { clientsLimit, connectedDevices } from './clients-limit.js';
import { registerDisconnectRoute, sendLimitPage } from './limit-exceeded.js';
import type { AccessCodeStore } from './codes.js';
import { renderConsentPage, renderErrorPage } from './consent-page.js';
import { OAuthError } from './metadata.js';
import * as S from './schemas.js';

export interface FlowDeps {
  clients: OAuthClients;
  tokens: TokenService;
  session: SessionDeps;
  codes: AccessCodeStore;
  /** The flag `cozy.oauthclients.max` (the limit of connected devices) and the app hosts' mode. */
  config: HearthConfig;
}

const CHALLENGE_RE = /^[A-Za-z0-9._~-]{43,128}$/;

type Params = Record<string, unknown>;
const str = (p: Params, k: string): string | undefined => (typeof p[k] === 'string' && p[k] !== '' ? (p[k] as string) : undefined);

/** The result of checking the authorize parameters: a 400 page, a redirect with an error, or a valid request. */
type Checked =
  | { kind: 'page'; message: string }
  | { kind: 'redirect'; redirectUri: string; state: string; error: string; description: string }
  | { kind: 'ok'; client: OAuthClient; redirectUri: string; state: string; scope: string; rules: Rule[]; challenge: string | null };

async function check(deps: FlowDeps, instance: Instance, p: Params): Promise<Checked> {
  const clientId = str(p, 'client_id');
  if (!clientId) return { kind: 'page', message: 'The client_id parameter is missing.' };
  let client: OAuthClient;
  try {
    client = await deps.clients.get(instance, clientId);
  } catch (err) {
    if (err instanceof NotFound) return { kind: 'page', message: 'This application is not registered on this instance (unknown client_id).' };
    throw err;
  }
  const redirectUri = str(p, 'redirect_uri');
  if (!redirectUri || !client.redirect_uris.includes(redirectUri)) {
    return { kind: 'page', message: 'The redirect_uri parameter is not one of the redirect URIs this application registered.' };
  }
  const state = str(p, 'state');
  if (!state) return { kind: 'page', message: 'The state parameter is missing: it is mandatory.' };
  const fail = (error: string, description: string): Checked => ({ kind: 'redirect', redirectUri, state, error, description });
  if (p.response_type !== 'code') return fail('unsupported_response_type', 'response_type must be code');
  const scope = str(p, 'scope');
  let rules: Rule[];
  try {
    rules = parseScope(scope ?? '');
  } catch {
    return fail('invalid_scope', 'the scope cannot be parsed');
  }
  if (!scope || rules.length === 0) return fail('invalid_scope', 'the scope is missing');
  const challenge = str(p, 'code_challenge') ?? null;
  const method = str(p, 'code_challenge_method');
  if (method !== undefined && method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256');
  if (challenge !== null && (method !== 'S256' || !CHALLENGE_RE.test(challenge))) return fail('invalid_request', 'code_challenge must be an S256 challenge with code_challenge_method=S256');
  if (challenge === null && method !== undefined) return fail('invalid_request', 'code_challenge is missing');
  return { kind: 'ok', client, redirectUri, state, scope, rules, challenge };
}

function withParams(uri: string, params: Record<string, string>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

/** Where the form may lead (CSP form-action also applies to the redirect after the POST). */
function formTarget(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}

function html(reply: FastifyReply, status: number, nonce: string, body: string, formAction: string | null): FastifyReply {
  const csp = `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action ${formAction === null ? "'none'" : `'self' ${formAction}`}`;
  return reply.code(status).header('Content-Security-Policy', csp).header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer')
    .header('X-Frame-Options', 'DENY').type('text/html; charset=utf-8').send(body);
}

function errorPage(reply: FastifyReply, instance: Instance, status: number, message: string): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  return html(reply, status, nonce, renderErrorPage(langOf(instance.locale), nonce, message), null);
}

function redirect(reply: FastifyReply, to: string): FastifyReply {
  return reply.code(303).header('Location', to).header('Cache-Control', 'no-store').send();
}

async function getAuthorize(deps: FlowDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const instance = instanceOf(req);
  if (!(await currentSession(deps.session, instance, req))) {
    const self = `${req.protocol}://${requestHost(req)}${req.url}`;
    return redirect(reply, `/auth/login?redirect=${encodeURIComponent(self)}`);
  }
  const p = (req.query ?? {}) as Params;
  const c = await check(deps, instance, p);
  if (c.kind === 'page') return errorPage(reply, instance, 400, c.message);
  if (c.kind === 'redirect') return redirect(reply, withParams(c.redirectUri, { error: c.error, error_description: c.description, state: c.state }));
  const limit = clientsLimit(deps.config);
  if (limit !== null) {
    // cozy-stack: the limit page instead of the consent once the devices reach the limit; Hearth does not count the client
    // being authorized (registered, it counts already: cozy-stack would refuse the device that makes the count reach the limit)
    const others = (await connectedDevices(deps.clients, instance)).filter((d) => d.client_id !== c.client.client_id);
    if (others.length >= limit) return sendLimitPage(req, reply, deps, { instance, count: others.length + 1, limit, devices: others, newTab: false });
  }
  const nonce = randomBytes(16).toString('base64');
  const fields: Record<string, string> = { client_id: c.client.client_id, redirect_uri: c.redirectUri, state: c.state, response_type: 'code', scope: c.scope };
  if (c.challenge !== null) Object.assign(fields, { code_challenge: c.challenge, code_challenge_method: 'S256' });
  const page = renderConsentPage({
    lang: langOf(instance.locale), nonce, name: instance.publicName ?? instance.domain, clientName: c.client.client_name,
    clientUri: c.client.client_uri ?? null, rules: c.rules, csrf: csrfForForm(req, reply), fields,
  });
  return html(reply, 200, nonce, page, formTarget(c.redirectUri));
}

async function postAuthorize(deps: FlowDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const instance = instanceOf(req);
  const p = (req.body ?? {}) as Params;
  if (!csrfValid(req, p.csrf_token)) return errorPage(reply, instance, 403, 'This form has expired: go back, reload the page and try again.');
  if (!(await currentSession(deps.session, instance, req))) return errorPage(reply, instance, 401, 'Your session has ended: log in again, then retry from the application.');
  const c = await check(deps, instance, p);
  if (c.kind === 'page') return errorPage(reply, instance, 400, c.message);
  if (c.kind === 'redirect') return redirect(reply, withParams(c.redirectUri, { error: c.error, error_description: c.description, state: c.state }));
  if (p.approve !== 'accept') return redirect(reply, withParams(c.redirectUri, { error: 'access_denied', state: c.state }));
  const code = await deps.codes.create({ instanceId: instance.id, clientId: c.client.client_id, redirectUri: c.redirectUri, scope: c.scope, codeChallenge: c.challenge });
  // cozy-stack also sends the code as `access_code` (its first parameter name), which cozy-stack-client's
  // OAuthClient.getAccessCodeFromURL reads
  return redirect(reply, withParams(c.redirectUri, { code, access_code: code, state: c.state }));
}

const invalidGrant = (d: string) => new OAuthError(400, 'invalid_grant', d);
const invalidRequest = (d: string) => new OAuthError(400, 'invalid_request', d);

/** The client of a token request, authenticated by its secret (constant-time); `invalid_client` otherwise. */
async function authenticateClient(deps: FlowDeps, instance: Instance, p: Params): Promise<string> {
  const id = str(p, 'client_id');
  const secret = str(p, 'client_secret');
  if (!id || !secret) throw invalidRequest('client_id and client_secret are required');
  let ok: boolean;
  try {
    ok = await deps.clients.verifySecret(instance, id, secret);
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
    // cozy-stack's words for an unknown client, which cozy-stack-client's OAuthClient takes as a revocation
    throw new OAuthError(400, 'invalid_client', 'the client must be registered');
  }
  if (!ok) throw new OAuthError(400, 'invalid_client', 'the client secret is wrong');
  return id;
}

function verifierMatches(challenge: string, verifier: unknown): boolean {
  if (typeof verifier !== 'string' || !CHALLENGE_RE.test(verifier)) return false;
  const got = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const want = Buffer.from(challenge);
  return got.length === want.length && timingSafeEqual(got, want);
}

async function markUsed(deps: FlowDeps, instance: Instance, clientId: string): Promise<void> {
  try {
    await deps.clients.markUsed(instance, clientId);
  } catch (err) {
    if (!(err instanceof Conflict)) throw err; // a concurrent grant wrote it: fine
  }
}

async function accessToken(deps: FlowDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const instance = instanceOf(req);
  const body = req.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalidRequest('send a form-encoded (or JSON) body');
  const p = body as Params;
  void reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
  const grant = str(p, 'grant_type');
  if (grant === 'authorization_code') {
    const clientId = await authenticateClient(deps, instance, p);
    const given = str(p, 'code');
    if (!given) throw invalidRequest('code is required');
    const taken = await deps.codes.take(given);
    if (!taken.ok) throw invalidGrant(taken.reason === 'used' ? 'this code was already used' : taken.reason === 'expired' ? 'this code has expired' : 'unknown code');
    const code = taken.code;
    if (code.instanceId !== instance.id || code.clientId !== clientId) throw invalidGrant('this code was not issued to this client');
    const redirectUri = str(p, 'redirect_uri');
    if (redirectUri !== undefined && redirectUri !== code.redirectUri) throw invalidGrant('redirect_uri does not match the authorization request');
    if (code.codeChallenge !== null && !verifierMatches(code.codeChallenge, p.code_verifier)) throw invalidGrant('code_verifier does not match the code_challenge');
    const access = await deps.tokens.issue(instance, { aud: 'access', sub: clientId, scope: code.scope });
    const refresh = await deps.tokens.issue(instance, { aud: 'refresh', sub: clientId, scope: code.scope });
    await markUsed(deps, instance, clientId);
    return reply.send({ access_token: access, token_type: 'bearer', refresh_token: refresh, scope: code.scope });
  }
  if (grant === 'refresh_token') {
    const clientId = await authenticateClient(deps, instance, p);
    const given = str(p, 'refresh_token');
    if (!given) throw invalidRequest('refresh_token is required');
    let claims;
    try {
      claims = await deps.tokens.verify(instance, given);
    } catch (err) {
      if (err instanceof HearthError) throw invalidGrant('invalid refresh_token');
      throw err;
    }
    if (claims.aud !== 'refresh' || claims.sub !== clientId) throw invalidGrant('this refresh_token was not issued to this client');
    const scope = claims.scope ?? '';
    const access = await deps.tokens.issue(instance, { aud: 'access', sub: clientId, scope });
    await markUsed(deps, instance, clientId);
    return reply.send({ access_token: access, token_type: 'bearer', scope });
  }
  throw new OAuthError(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
}

/** Registers the flow in a child of the /auth plugin of routes.ts (no CORS, OAuth error bodies); adds a form parser to it. */
export function registerFlowRoutes(auth: FastifyInstance, deps: FlowDeps): void {
  parseFormBodies(auth);
  registerDisconnectRoute(auth, deps);
  auth.get('/auth/authorize', { schema: S.authorizePage }, async (req, reply) => getAuthorize(deps, req, reply));
  auth.post('/auth/authorize', { bodyLimit: 16 * 1024, schema: S.authorize }, async (req, reply) => postAuthorize(deps, req, reply));
  auth.post('/auth/access_token', { bodyLimit: 16 * 1024, schema: S.accessToken }, async (req, reply) => accessToken(deps, req, reply));
}
