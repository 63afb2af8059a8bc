/**
 * The dev outbox on the admin port, for `hearth mails ls|show`: the CLI reads the outbox of the server it talks to
 * (whatever --data-dir that server was started with), not a directory it would have to guess.
 */
import type { FastifyInstance } from 'fastify';
import { content, params, passThrough, type RouteSchema } from '../common/schemas.js';
import { listOutbox, outboxDir, readOutboxMail } from './outbox.js';

const tags = ['mails'];
const list: RouteSchema = { summary: 'The mails of the dev outbox: its directory and a summary of each mail', tags, response: { 200: passThrough('{dir, mails: [{id, date, to, subject…}]}') } };
const show: RouteSchema = { summary: 'One mail of the dev outbox, as sent (RFC 822)', tags, params: params({ id: 'The mail id (from GET /mails)' }), response: { 200: content('The mail', ['message/rfc822']) } };

export function registerMailAdminRoutes(app: FastifyInstance, deps: { dataDir: string }): void {
  const dir = outboxDir(deps.dataDir);
  app.get('/mails', { schema: list }, async () => ({ dir, mails: (await listOutbox(dir)) ?? [] }));
  app.get<{ Params: { id: string } }>('/mails/:id', { schema: show }, async (req, reply) => reply.type('message/rfc822').send(await readOutboxMail(dir, req.params.id)));
}
