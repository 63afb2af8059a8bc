/**
 * The source's side of a move (cozy-stack web/move/move.go; ../shared/reference/cozy-move.md §3): the code for the wizard
 * (GET /move/authorize, POST /move/initialize), the request and its confirmation mail (POST /move/request), the start
 * (GET /move/go: the target blocks itself, this instance is blocked `exporting` and the export is queued with `move_to`)
 * and the end (POST /move/finalize: retired; POST /move/abort and a failed export unblock it).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { Conflict, HearthError, NotFound } from '../../common/errors.js';
import { instanceOf } from '../../data/http/context.js';
import { requestHost } from '../../auth/http.js';
import type { Instance } from '../../instances/types.js';
import { enforceLimit } from '../../limits/index.js';
import type { ExportMessage } from '../types.js';
import type { TransferDeps } from './deps.js';
import { errorPage, fields, fromOwnPages, langFor, ownerOrLogin, requireMoveToken, sendPage } from './http.js';
import { moveMail } from './mails.js';
import { messagePage, say } from './pages.js';
import { callPeer, MOVE_FAKE_CLIENT, MOVE_SCOPE, PeerError, peerOrigin } from './peer.js';
import * as S from './schemas.js';

const REQUEST_TTL_MS = 60 * 60 * 1000;
/** How long a source remembers where it is being moved (an export of a large instance takes hours). */
export const MOVING_TO_TTL_MS = 30 * 24 * 3600 * 1000;
const EXPORTS_REQUESTS = 'io.cozy.exports.requests';

/** The wizard's address: `move.url`, or this instance's own wizard. */
export function wizardBase(deps: TransferDeps, req: FastifyRequest): string {
  return (deps.config.move.url ?? `${req.protocol}://${requestHost(req)}/move/wizard`).replace(/\/+$/, '');
}

function withParams(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

const sizes = async (deps: TransferDeps, instance: Instance) => ({ vault: 'false', used: String(await deps.usage(instance)), quota: instance.diskQuota === null ? '' : String(instance.diskQuota) });

/**
 * A move client of this instance (what S's own move token is issued to). Its code travels in the wizard's URL and comes
 * back in /move/request, never through a redirect: its redirect URI is the wizard's, over https (the clients' rule
 * outside localhost).
 */
async function moveClient(deps: TransferDeps, instance: Instance, wizard: string) {
  const redirectUri = `${wizard.replace(/^http:/, 'https:')}/callback`;
  return { redirectUri, ...(await deps.clients.register(instance, { redirect_uris: [redirectUri], client_name: 'Move to another server', software_id: 'hearth-move' })) };
}

async function authorize(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const owner = await ownerOrLogin(deps, req, reply);
  if (!owner) return reply;
  await enforceLimit(deps.limiter, 'auth', owner.instance.id);
  const q = fields(req.query);
  let redirect: URL | null = null;
  try {
    redirect = q.redirect_uri ? new URL(q.redirect_uri) : null;
  } catch {
    redirect = null;
  }
  if (!redirect || (redirect.protocol !== 'http:' && redirect.protocol !== 'https:')) return errorPage(reply, owner.instance, 'The redirect_uri parameter must be an http(s) address.');
  if (!q.state) return errorPage(reply, owner.instance, 'The state parameter is missing.');
  const code = await deps.codes.create({ instanceId: owner.instance.id, clientId: MOVE_FAKE_CLIENT, redirectUri: redirect.href, scope: EXPORTS_REQUESTS, codeChallenge: null });
  return reply.code(303).header('Location', withParams(redirect.href, { state: q.state, code, ...(await sizes(deps, owner.instance)) })).send();
}

async function initialize(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const owner = await ownerOrLogin(deps, req, reply);
  if (!owner) return reply;
  if (!fromOwnPages(req, deps)) return errorPage(reply, owner.instance, 'A move starts from the settings of this instance.', 403);
  const wizard = wizardBase(deps, req);
  const { client, secret, redirectUri } = await moveClient(deps, owner.instance, wizard);
  const code = await deps.codes.create({ instanceId: owner.instance.id, clientId: client.client_id, redirectUri, scope: MOVE_SCOPE, codeChallenge: null });
  const to = withParams(`${wizard}/initialize`, { client_id: client.client_id, client_secret: secret, code, ...(await sizes(deps, owner.instance)), cozy_url: `${deps.publicUrl(owner.instance)}/` });
  return reply.code(307).header('Location', to).header('Cache-Control', 'no-store').send();
}

/** Who asks (a code of /move/initialize or /move/authorize, or a move token with its client): the client id, or why not. */
async function requester(deps: TransferDeps, instance: Instance, f: Record<string, string>): Promise<{ clientId: string } | { why: string }> {
  if (f.code) {
    const taken = await deps.codes.take(f.code);
    if (!taken.ok) return { why: `This move code ${taken.reason === 'used' ? 'was already used' : taken.reason === 'expired' ? 'has expired' : 'is not one'}: start the move again.` };
    if (taken.code.instanceId !== instance.id || !taken.code.scope.split(' ').includes(EXPORTS_REQUESTS)) return { why: 'This move code was not issued for a move of this instance.' };
    return { clientId: taken.code.clientId };
  }
  if (f.token && f.client_id && f.client_secret) {
    try {
      const claims = await deps.tokens.verify(instance, f.token);
      if (claims.aud !== 'access' || claims.sub !== f.client_id || !(claims.scope ?? '').split(' ').includes(EXPORTS_REQUESTS)) return { why: 'This token is not a move token of this client.' };
      if (!(await deps.clients.verifySecret(instance, f.client_id, f.client_secret))) return { why: 'The client secret is wrong.' };
    } catch (err) {
      if (err instanceof HearthError) return { why: 'This token is not a move token of this instance.' };
      throw err;
    }
    return { clientId: f.client_id };
  }
  return { why: 'A move code, or a move token with its client, is required.' };
}

async function request(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const instance = instanceOf(req);
  const f = fields(req.body);
  const target = peerOrigin(f.target_url);
  if (!target || !f.target_token || !f.target_client_id || !f.target_client_secret) return errorPage(reply, instance, 'The target instance, its token and its client are required.');
  if (!instance.email) return errorPage(reply, instance, 'This instance has no e-mail address to send the confirmation to: set one in the settings first.');
  const who = await requester(deps, instance, f);
  if ('why' in who) return errorPage(reply, instance, who.why);
  const secret = randomBytes(32).toString('base64url');
  await deps.pending.put('request', secret, instance.id, {
    client_id: who.clientId, target_url: target, target_token: f.target_token, target_client_id: f.target_client_id, target_client_secret: f.target_client_secret,
  }, REQUEST_TTL_MS);
  const lang = langFor(instance);
  const link = `${deps.publicUrl(instance)}/move/go?secret=${secret}`;
  await deps.jobs.push(instance.domain, { worker: 'sendmail', message: moveMail(lang, 'confirm', link, { from: instance.domain, to: new URL(target).host }) });
  return sendPage(reply, 200, (nonce) => messagePage(lang, nonce, { title: 'mailTitle', text: say(lang, 'mailText', { email: instance.email ?? '' }) }));
}

async function go(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const owner = await ownerOrLogin(deps, req, reply);
  if (!owner) return reply;
  const { instance } = owner;
  const secret = fields(req.query).secret ?? '';
  const peeked = secret ? await deps.pending.peek('request', secret) : null;
  const taken = peeked?.instanceId === instance.id ? await deps.pending.take('request', secret) : null;
  if (!taken) return errorPage(reply, instance, 'This link is not valid (any more): ask for the move again from the settings.');
  const r = taken.value as Record<string, string>;
  const target = String(r.target_url);
  if (await deps.moveStates.get(instance.id)) return errorPage(reply, instance, 'This instance is already in a move or an import.', 409);
  // S's own move token, for the target to call /move/finalize or /move/abort here: issued to a move client of this instance
  let clientId = String(r.client_id);
  if (clientId === MOVE_FAKE_CLIENT || !(await clientExists(deps, instance, clientId))) clientId = (await moveClient(deps, instance, wizardBase(deps, req))).client.client_id;
  const token = await deps.tokens.issue(instance, { aud: 'access', sub: clientId, scope: MOVE_SCOPE });
  try {
    const answer = await callPeer(`${target}/move/importing?source=${encodeURIComponent(instance.domain)}`, { allowPrivate: deps.config.imports.allowPrivateUrls, token: String(r.target_token) });
    if (answer.status !== 204) return errorPage(reply, instance, `The new instance refused the move (HTTP ${answer.status}): start again from the settings.`);
  } catch (err) {
    if (err instanceof PeerError) return errorPage(reply, instance, err.message);
    throw err;
  }
  // blocked while its export runs, so that nothing changes behind the archive (cozy-stack's move design)
  if (!(await deps.moveStates.transition(instance.id, null, { status: 'exporting', peer: `${target}/`, since: new Date().toISOString(), detail: {} }))) {
    await abortTarget(deps, target, String(r.target_token));
    return errorPage(reply, instance, 'This instance is already in a move or an import.', 409);
  }
  await deps.pending.put('moving_to', instance.id, instance.id, { url: target }, MOVING_TO_TTL_MS);
  const message: ExportMessage = {
    move_to: { url: target, token: String(r.target_token), client_id: String(r.target_client_id), client_secret: String(r.target_client_secret) },
    token,
  };
  try {
    await deps.jobs.push(instance.domain, { worker: 'export', message });
  } catch (err) {
    // the target waits for data that will never come: it is unblocked, and so is this instance
    await abortTarget(deps, target, String(r.target_token));
    await deps.pending.take('moving_to', instance.id);
    await deps.moveStates.transition(instance.id, 'exporting', null);
    throw err;
  }
  return reply.code(303).header('Location', `${target}/move/importing`).header('Cache-Control', 'no-store').send();
}

/** Tells the target the move will not happen (it unblocks itself); an unreachable target is left to its own abort. */
async function abortTarget(deps: TransferDeps, target: string, token: string): Promise<void> {
  await callPeer(`${target}/move/abort`, { allowPrivate: deps.config.imports.allowPrivateUrls, token }).catch(() => undefined);
}

async function clientExists(deps: TransferDeps, instance: Instance, id: string): Promise<boolean> {
  try {
    await deps.clients.get(instance, id);
    return true;
  } catch (err) {
    if (err instanceof NotFound) return false;
    throw err;
  }
}

async function finalize(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const instance = await requireMoveToken(deps, req);
  const current = await deps.moveStates.get(instance.id);
  if (current?.status === 'moved') return reply.code(204).send();
  const to = (await deps.pending.peek('moving_to', instance.id))?.value.url;
  if (typeof to !== 'string') throw new Conflict('this instance is not being moved: nothing to finalize');
  // konnectors stop here (they run on the target now)
  for (const trigger of await deps.scheduler.list(instance.domain, { workers: ['konnector'] })) await deps.scheduler.delete(instance.domain, trigger._id);
  const subdomain = fields(req.query).subdomain === 'flat' ? 'flat' : 'nested';
  const moved = await deps.moveStates.transition(instance.id, current?.status ?? null, { status: 'moved', peer: `${to}/`, since: new Date().toISOString(), detail: { moved_to_subdomain_type: subdomain, domain: instance.domain } });
  if (!moved) throw new Conflict('the move state of this instance changed meanwhile: try again');
  await deps.pending.take('moving_to', instance.id);
  // the apps and devices connected here reconnect to the target (cozy-stack's move design)
  for (const client of await deps.clients.list(instance)) await deps.clients.delete(instance, client.client_id);
  return reply.code(204).send();
}

export function registerSourceRoutes(app: FastifyInstance, deps: TransferDeps): void {
  app.get('/move/authorize', { schema: S.moveAuthorize }, async (req, reply) => authorize(deps, req, reply));
  app.post('/move/initialize', { bodyLimit: 16 * 1024, schema: S.initialize }, async (req, reply) => initialize(deps, req, reply));
  app.post('/move/request', { bodyLimit: 64 * 1024, schema: S.request }, async (req, reply) => request(deps, req, reply));
  app.get('/move/go', { schema: S.go }, async (req, reply) => go(deps, req, reply));
  app.post('/move/finalize', { schema: S.finalize }, async (req, reply) => finalize(deps, req, reply));
}
