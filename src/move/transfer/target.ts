/**
 * The target's side of a move (cozy-stack web/move/move.go): the source says the move starts (POST /move/importing: every
 * session logged out, the instance blocked `moving` until the source's data arrives), either side is told the move
 * failed (POST /move/abort: the target waiting for the data, or the source blocked while its export runs, is unblocked), and the owner learns why passwords did not come along (GET /move/vault).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest, Conflict } from '../../common/errors.js';
import type { TransferDeps } from './deps.js';
import { fields, langFor, ownerOrLogin, requireMoveToken, sendPage } from './http.js';
import { messagePage, say } from './pages.js';
import { peerOrigin } from './peer.js';
import * as S from './schemas.js';

async function importing(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const instance = await requireMoveToken(deps, req);
  const source = fields(req.query).source;
  const origin = peerOrigin(source);
  if (!source || !origin) throw new BadRequest('source must be the domain of the instance the data comes from', 'source');
  if (new URL(origin).host === instance.domain) throw new BadRequest('an instance cannot be moved into itself', 'source');
  const started = await deps.moveStates.transition(instance.id, null, { status: 'moving', peer: `${origin}/`, since: new Date().toISOString(), detail: { moved_from: source } });
  if (!started) throw new Conflict('this instance is already in a move or an import');
  await deps.sessions.deleteAll(instance);
  return reply.code(204).send();
}

async function abort(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const instance = await requireMoveToken(deps, req);
  // the target waiting for data is unblocked (an import already running ends by itself); the source is unblocked and
  // forgets its target (only one of the two transitions applies)
  if (!(await deps.moveStates.transition(instance.id, 'moving', null))) await deps.moveStates.transition(instance.id, 'exporting', null);
  await deps.pending.take('moving_to', instance.id);
  return reply.code(204).send();
}

async function vault(deps: TransferDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const owner = await ownerOrLogin(deps, req, reply);
  if (!owner) return reply;
  const lang = langFor(owner.instance);
  return sendPage(reply, 200, (nonce) => messagePage(lang, nonce, { title: 'vaultTitle', text: say(lang, 'vaultText'), link: { href: '/', label: owner.instance.publicName ?? owner.instance.domain } }));
}

export function registerTargetRoutes(app: FastifyInstance, deps: TransferDeps): void {
  app.post('/move/importing', { schema: S.importing }, async (req, reply) => importing(deps, req, reply));
  app.post('/move/abort', { schema: S.abort }, async (req, reply) => abort(deps, req, reply));
  app.get('/move/vault', { schema: S.vault }, async (req, reply) => vault(deps, req, reply));
}
