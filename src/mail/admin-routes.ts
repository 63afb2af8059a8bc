/**
 * The dev outbox on the admin port, for `hearth mails ls|show`: the CLI reads the outbox of the server it talks to
 * (whatever --data-dir that server was started with), not a directory it would have to guess.
 */
import type { FastifyInstance } from 'fastify';
import { listOutbox, outboxDir, readOutboxMail } from './outbox.js';
import * as S from './schemas.js';

export function registerMailAdminRoutes(app: FastifyInstance, deps: { dataDir: string }): void {
  const dir = outboxDir(deps.dataDir);
  app.get('/mails', { schema: S.list }, async () => ({ dir, mails: (await listOutbox(dir)) ?? [] }));
  app.get<{ Params: { id: string } }>('/mails/:id', { schema: S.read }, async (req, reply) => reply.type('message/rfc822').send(await readOutboxMail(dir, req.params.id)));
}
