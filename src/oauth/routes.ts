/**
 * OAuth 2 dynamic client registration as cozy-stack serves it: POST /auth/register (RFC 7591),
 * GET/PUT/DELETE /auth/register/:id with the registration_access_token (RFC 7592), and the
 * owner's list of connected clients (/settings/clients). /auth answers without CORS headers.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Forbidden, HearthError, InvalidToken, NotFound, Unauthorized } from '../common/errors.js';
import type { TokenService } from '../auth/tokens.js';
import type { HearthConfig } from '../config/types.js';
import { instanceOf } from '../data/http/context.js';
import type { Instance } from '../instances/types.js';
import { enforceLimit, type RateLimiter } from '../limits/index.js';
import type { PermissionResolver } from '../permissions/resolve.js';
import { Permissions, type Verb } from '../permissions/rules.js';
import { errorHandler } from '../server/http-errors.js';
import { CLIENTS_DOCTYPE, type OAuthClient, type OAuthClients } from './clients.js';
import { OAuthError, OPTIONAL_FIELDS, invalidMetadata, type MetadataBody } from './metadata.js';
import { withoutCors } from '../auth/http.js';
import type { SessionDeps } from '../auth/session-http.js';
import { registerFlowRoutes } from './authorize.js';
import { AccessCodes, type AccessCodeStore } from './codes.js';
import * as S from './schemas.js';

export interface OAuthDeps {
  clients: OAuthClients;
  tokens: TokenService;
  limiter: RateLimiter;
  perms: PermissionResolver;
  /** The owner's sessions (the consent page needs one). */
  session: SessionDeps;
  /** The flag `cozy.oauthclients.max` and the app hosts' mode (the authorize flow's limit page). */
  config: HearthConfig;
  /** Pending access codes; a fresh in-memory store by default. */
  codes?: AccessCodeStore;
}

/** Registration bodies are small: RFC 7591 metadata, 16 KiB at most. */
const REGISTER_BODY_LIMIT = 16 * 1024;

/** The RFC 7591 answer for a client (never its secret, which the caller adds when it has one). */
function wire(c: OAuthClient): Record<string, unknown> {
  const out: Record<string, unknown> = { client_id: c.client_id, client_secret_expires_at: 0, redirect_uris: c.redirect_uris, client_name: c.client_name, software_id: c.software_id };
  for (const f of OPTIONAL_FIELDS) if (c[f] !== undefined) out[f] = c[f];
  return { ...out, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] };
}

/** RFC 7592: the Bearer registration_access_token must be one of this instance, for this very client. */
async function authenticate(deps: OAuthDeps, req: FastifyRequest<{ Params: { id: string } }>): Promise<{ instance: Instance; id: string }> {
  const instance = instanceOf(req);
  const m = /^Bearer\s+(\S+)\s*$/i.exec(String(req.headers.authorization ?? ''));
  if (!m?.[1]) throw new Unauthorized('send the registration_access_token as "Authorization: Bearer <token>"');
  const claims = await deps.tokens.verify(instance, m[1]);
  if (claims.aud !== 'registration') throw new InvalidToken('Invalid JWT token');
  const id = req.params.id;
  if (claims.sub !== id) throw new OAuthError(401, 'invalid_token', 'this registration_access_token is not for this client', { 'WWW-Authenticate': 'Bearer error="invalid_token"' });
  return { instance, id };
}

/**
 * cozy-stack answers a registration request about a client that no longer exists 404 {"error": "Client not found"}:
 * cozy-stack-client's OAuthClient (checkForRevocation) recognises a revoked client by these words.
 */
function clientNotFound(err: unknown): never {
  if (err instanceof NotFound) throw new OAuthError(404, 'Client not found', err.reason);
  throw err;
}

async function authRoutes(auth: FastifyInstance, deps: OAuthDeps & { codes: AccessCodeStore }): Promise<void> {
  // cozy-stack disables CORS on /auth; preflights land here too (the CORS plugin answers them from this context)
  withoutCors(auth, ['/auth/*']);
  auth.setErrorHandler((raw, req, reply) => {
    // a refusal of the registration schemas (schemas.ts: the only checking ones of this scope) is RFC 7591's
    const err = raw instanceof HearthError && 'validationContext' in raw ? invalidMetadata(raw.reason) : raw;
    if (err instanceof OAuthError) {
      for (const [k, v] of Object.entries(err.headers)) void reply.header(k, v);
      void reply.code(err.status).send({ error: err.error, error_description: err.reason });
      return;
    }
    errorHandler(err, req, reply);
  });
  // its own context: the form parser it adds must not open /auth/register to forms
  void auth.register(async (flow) => registerFlowRoutes(flow, { clients: deps.clients, tokens: deps.tokens, session: deps.session, codes: deps.codes, config: deps.config }));
  auth.post<{ Body: MetadataBody }>('/auth/register', { bodyLimit: REGISTER_BODY_LIMIT, schema: S.register }, async (req, reply) => {
    const instance = instanceOf(req);
    await enforceLimit(deps.limiter, 'oauthRegistration', instance.id);
    const { client, secret } = await deps.clients.register(instance, req.body);
    const token = await deps.tokens.issue(instance, { aud: 'registration', sub: client.client_id });
    return reply.code(201).send({ ...wire(client), client_secret: secret, registration_access_token: token });
  });
  auth.get<{ Params: { id: string } }>('/auth/register/:id', { schema: S.readClient }, async (req) => {
    const { instance, id } = await authenticate(deps, req);
    const { client, secret } = await deps.clients.getWithSecret(instance, id).catch(clientNotFound);
    return secret === undefined ? wire(client) : { ...wire(client), client_secret: secret };
  });
  auth.put<{ Params: { id: string }; Body: MetadataBody & { client_id?: unknown; client_secret?: unknown } }>('/auth/register/:id', { bodyLimit: REGISTER_BODY_LIMIT, schema: S.updateClient }, async (req) => {
    const { instance, id } = await authenticate(deps, req);
    const body = req.body;
    if (body.client_id !== id) throw invalidMetadata('client_id must be given and equal to the client id of the URL');
    const { client, secret } = await deps.clients.update(instance, id, body).catch(clientNotFound);
    return secret === undefined ? wire(client) : { ...wire(client), client_secret: secret };
  });
  auth.delete<{ Params: { id: string } }>('/auth/register/:id', { schema: S.deleteClient }, async (req, reply) => {
    const { instance, id } = await authenticate(deps, req);
    await deps.clients.delete(instance, id).catch(clientNotFound);
    return reply.code(204).send();
  });
}

async function settingsAccess(deps: OAuthDeps, req: FastifyRequest, verb: Verb): Promise<Instance> {
  const instance = instanceOf(req);
  const set = await deps.perms.forRequest(instance, req);
  if (!Permissions.allowsWholeType(set, verb, CLIENTS_DOCTYPE)) throw new Forbidden(`this token cannot ${verb} ${CLIENTS_DOCTYPE}`);
  return instance;
}

function jsonApi(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.type('application/vnd.api+json').send(body);
}

export function registerOAuthRoutes(app: FastifyInstance, deps: OAuthDeps): void {
  const codes = deps.codes ?? new AccessCodes();
  void app.register(async (auth) => authRoutes(auth, { ...deps, codes }));
  // Owner sessions come later; for now a token with rights on io.cozy.oauth.clients (a CLI token).
  app.get('/settings/clients', { schema: S.clients }, async (req, reply) => {
    const instance = await settingsAccess(deps, req, 'GET');
    const clients = await deps.clients.list(instance);
    const data = clients.map((c) => {
      const { client_id: id, ...attributes } = c;
      return { type: CLIENTS_DOCTYPE, id, attributes, links: { self: `/settings/clients/${id}` } };
    });
    return jsonApi(reply, { data, meta: { count: data.length } });
  });
  app.delete<{ Params: { id: string } }>('/settings/clients/:id', { schema: S.revokeClient }, async (req, reply) => {
    const instance = await settingsAccess(deps, req, 'DELETE');
    await deps.clients.delete(instance, req.params.id);
    return reply.code(204).send();
  });
}

