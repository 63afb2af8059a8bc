/**
 * The owner's app passwords (permissions/app-passwords.ts) over HTTP, JSON-API:
 * `POST /settings/app-passwords` {label, scope?} answers the password once; `GET` lists them
 * (never the passwords); `DELETE /settings/app-passwords/:id` revokes one at the next request.
 * Rights as every settings route (owner.ts): a token with rights on io.cozy.settings, or the
 * owner's session cookie from the instance's own pages.
 */
import type { FastifyInstance } from 'fastify';
import { BadRequest } from '../common/errors.js';
import { addJsonParser } from '../common/json-body.js';
import { APP_PASSWORDS_DOCTYPE, type AppPassword } from '../permissions/app-passwords.js';
import { requireOwner } from './owner.js';
import type { AuthDeps } from './routes.js';

const JSONAPI = 'application/vnd.api+json';

function resource(p: AppPassword, password?: string) {
  const { id, ...attributes } = p;
  return { type: APP_PASSWORDS_DOCTYPE, id, attributes: { ...attributes, ...(password ? { password } : {}) }, links: { self: `/settings/app-passwords/${id}` } };
}

/** `{label, scope}` from a plain JSON body or a JSON-API one. */
function attributesOf(body: unknown): { label: string; scope?: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  const a = ((b.data as Record<string, unknown> | undefined)?.attributes ?? b) as Record<string, unknown>;
  if (typeof a.label !== 'string' || a.label.trim() === '') throw new BadRequest('give the app password a "label" (what it is for, e.g. "rclone on my laptop")');
  if (a.scope !== undefined && (typeof a.scope !== 'string' || a.scope.trim() === '')) throw new BadRequest('"scope" is a permission scope such as "io.cozy.files" or "io.cozy.files:GET"');
  return { label: a.label.trim(), ...(typeof a.scope === 'string' ? { scope: a.scope.trim() } : {}) };
}

export function registerAppPasswordRoutes(app: FastifyInstance, deps: AuthDeps): void {
  const passwords = deps.perms.appPasswords;
  addJsonParser(app, JSONAPI);
  app.post('/settings/app-passwords', { bodyLimit: 16 * 1024 }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'POST');
    const { label, scope } = attributesOf(req.body);
    const { record, password } = await passwords.create(instance, label, scope);
    return reply.code(201).header('Cache-Control', 'no-store').type(JSONAPI).send({ data: resource(record, password) });
  });
  app.get('/settings/app-passwords', async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'GET');
    const data = (await passwords.list(instance)).map((p) => resource(p));
    return reply.type(JSONAPI).send({ data, meta: { count: data.length } });
  });
  app.delete<{ Params: { id: string } }>('/settings/app-passwords/:id', async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'DELETE');
    await passwords.revoke(instance, req.params.id);
    return reply.code(204).send();
  });
}
