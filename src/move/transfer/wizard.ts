/**
 * Hearth's own move wizard (cozy-stack relies on the cozy-move service, `move.url`; none exists here), served by the
 * source to its logged-in owner: the target's address → a client registered on the target (its /auth/register) → the
 * target's consent page (/auth/authorize/move) → back here, the code exchanged for the target's token (its
 * /auth/access_token) → a summary whose button posts /move/request, which mails the confirmation link.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { requestHost } from '../../auth/http.js';
import type { Instance } from '../../instances/types.js';
import type { TransferDeps } from './deps.js';
import { errorPage, fields, fromOwnPages, langFor, ownerOrLogin, sendPage } from './http.js';
import { confirmPage, wizardPage } from './pages.js';
import { callPeer, PeerError, peerOrigin, type PeerAnswer } from './peer.js';
import * as S from './schemas.js';

const WIZARD_TTL_MS = 60 * 60 * 1000;
/** The wizard's form leads to the target's consent page (form-action also applies to the redirect after the POST). */
const TO_ANY_TARGET = "'self' http: https:";

const callbackOf = (req: FastifyRequest) => `${req.protocol}://${requestHost(req)}/move/wizard/callback`;

function showWizard(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply, instance: Instance, used: number, f: Record<string, string>, error?: string, target?: string): FastifyReply {
  const lang = langFor(instance);
  const carried = { client_id: f.client_id ?? '', client_secret: f.client_secret ?? '', code: f.code ?? '' };
  return sendPage(reply, error ? 400 : 200, (nonce) => wizardPage(lang, nonce, {
    name: instance.publicName ?? instance.domain, used, fields: carried, ...(error ? { error } : {}), ...(target ? { target } : {}),
  }), TO_ANY_TARGET);
}

async function start(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const owner = await ownerOrLogin(deps, req, reply);
  if (!owner) return reply;
  const q = fields(req.query);
  if (!q.code) return errorPage(reply, owner.instance, 'The wizard starts from the settings (Move to another server).');
  return showWizard(deps, req, reply, owner.instance, await deps.usage(owner.instance), q);
}

const wizardError = (lang: string, host: string, a: PeerAnswer | null) => (lang === 'fr'
  ? `${host} ne répond pas comme une instance Hearth ou Cozy${a ? ` (HTTP ${a.status})` : ''} : vérifiez l'adresse.`
  : `${host} does not answer as a Hearth or Cozy instance${a ? ` (HTTP ${a.status})` : ''}: check the address.`);

async function target(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const owner = await ownerOrLogin(deps, req, reply);
  if (!owner) return reply;
  const { instance } = owner;
  const f = fields(req.body);
  // the session cookie alone from this instance's own page (a browser's form post says its Origin)
  if (!fromOwnPages(req, deps)) return errorPage(reply, instance, 'A move starts from the settings of this instance.', 403);
  const used = await deps.usage(instance);
  const origin = peerOrigin(f.target);
  const lang = langFor(instance);
  if (!origin || new URL(origin).host === requestHost(req)) {
    return showWizard(deps, req, reply, instance, used, f, lang === 'fr' ? "Saisissez l'adresse d'une autre instance, par exemple alice.exemple.org." : 'Type the address of another instance, for example alice.example.org.', f.target);
  }
  const host = new URL(origin).host;
  let answer: PeerAnswer | null = null;
  try {
    answer = await callPeer(`${origin}/auth/register`, { allowPrivate: deps.config.imports.allowPrivateUrls, json: { redirect_uris: [callbackOf(req)], client_name: `Move from ${instance.domain}`, software_id: 'hearth-move-wizard', client_kind: 'web', client_uri: `${deps.publicUrl(instance)}/` } });
  } catch (err) {
    if (!(err instanceof PeerError)) throw err;
  }
  const client = answer?.status === 201 ? (answer.body as { client_id?: unknown; client_secret?: unknown }) : null;
  if (!client || typeof client.client_id !== 'string' || typeof client.client_secret !== 'string') return showWizard(deps, req, reply, instance, used, f, wizardError(lang, host, answer), f.target);
  const state = randomBytes(24).toString('base64url');
  await deps.pending.put('wizard', state, instance.id, { code: f.code ?? '', target: origin, target_client_id: client.client_id, target_client_secret: client.client_secret }, WIZARD_TTL_MS);
  const to = new URL(`${origin}/auth/authorize/move`);
  for (const [k, v] of Object.entries({ state, client_id: client.client_id, redirect_uri: callbackOf(req) })) to.searchParams.set(k, v);
  return reply.code(303).header('Location', to.href).header('Cache-Control', 'no-store').send();
}

async function callback(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const owner = await ownerOrLogin(deps, req, reply);
  if (!owner) return reply;
  const { instance } = owner;
  const q = fields(req.query);
  const peeked = q.state ? await deps.pending.peek('wizard', q.state) : null;
  const taken = peeked?.instanceId === instance.id ? await deps.pending.take('wizard', q.state ?? '') : null;
  if (!taken || !q.code) return errorPage(reply, instance, 'This step of the move is not valid (any more): start again from the settings.');
  const w = taken.value as Record<string, string>;
  const target = String(w.target);
  let token: unknown;
  try {
    const answer = await callPeer(`${target}/auth/access_token`, { allowPrivate: deps.config.imports.allowPrivateUrls, form: { grant_type: 'authorization_code', code: q.code, client_id: String(w.target_client_id), client_secret: String(w.target_client_secret), redirect_uri: callbackOf(req) } });
    token = answer.status === 200 ? (answer.body as { access_token?: unknown }).access_token : undefined;
  } catch (err) {
    if (!(err instanceof PeerError)) throw err;
  }
  if (typeof token !== 'string') return errorPage(reply, instance, 'The new instance did not give its move token: start again from the settings.');
  const quota = /^\d+$/.test(q.quota ?? '') ? Number(q.quota) : null;
  const lang = langFor(instance);
  return sendPage(reply, 200, (nonce) => confirmPage(lang, nonce, {
    from: instance.domain, to: new URL(target).host, quota,
    fields: { code: String(w.code), target_url: target, target_token: token as string, target_client_id: String(w.target_client_id), target_client_secret: String(w.target_client_secret) },
  }));
}

export function registerWizardRoutes(app: FastifyInstance, deps: TransferDeps): void {
  app.get('/move/wizard/initialize', { schema: S.wizardStart }, async (req, reply) => start(deps, req, reply));
  // /move/initialize answers 307: the browser posts the settings' form here again
  app.post('/move/wizard/initialize', { bodyLimit: 16 * 1024, schema: S.wizardStart }, async (req, reply) => start(deps, req, reply));
  app.post('/move/wizard/target', { bodyLimit: 16 * 1024, schema: S.wizardTarget }, async (req, reply) => target(deps, req, reply));
  app.get('/move/wizard/callback', { schema: S.wizardCallback }, async (req, reply) => callback(deps, req, reply));
}
