/**
 * The dev outbox on the admin port, for `hearth mails ls|show`: the CLI reads the outbox of the server it talks to
 * (whatever --data-dir that server was started with), not a directory it would have to guess.
 */
import type { FastifyInstance } from 'fastify';
import { NotFound } from '../common/errors.js';
import { content, params, passThrough, query, type RouteSchema } from '../common/schemas.js';
import type { InstanceRegistry } from '../instances/types.js';
import { listOutbox, mailsOf, outboxDir, readOutboxMail } from './outbox.js';

const tags = ['mails'];
const list: RouteSchema = {
  summary: 'The mails of the dev outbox: its directory and a summary of each mail', tags,
  querystring: query({ domain: 'Only the mails of the instance served at this domain (or alias) now' }),
  response: { 200: passThrough('{dir, mails: [{id, date, domain, instanceId, to, subject…}]}') },
};
const show: RouteSchema = { summary: 'One mail of the dev outbox, as sent (RFC 822)', tags, params: params({ id: 'The mail id (from GET /mails)' }), response: { 200: content('The mail', ['message/rfc822']) } };

export function registerMailAdminRoutes(app: FastifyInstance, deps: { dataDir: string; registry: Pick<InstanceRegistry, 'findByHost'> }): void {
  const dir = outboxDir(deps.dataDir);
  app.get<{ Querystring: { domain?: string } }>('/mails', { schema: list }, async (req) => {
    const mails = (await listOutbox(dir)) ?? [];
    const { domain } = req.query;
    if (domain === undefined) return { dir, mails };
    const instance = await deps.registry.findByHost(domain);
    if (!instance) throw new NotFound(`no instance for ${domain}`);
    return { dir, mails: mailsOf(mails, instance) };
  });
  app.get<{ Params: { id: string } }>('/mails/:id', { schema: show }, async (req, reply) => reply.type('message/rfc822').send(await readOutboxMail(dir, req.params.id)));
}
