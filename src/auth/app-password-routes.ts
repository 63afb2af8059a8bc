/**
 * The owner's app passwords (permissions/app-passwords.ts) over HTTP, JSON-API:
 * `POST /settings/app-passwords` {label, scope?} answers the password once; `GET` lists them
 * (never the passwords); `DELETE /settings/app-passwords/:id` revokes one at the next request.
 * Rights as every settings route (owner.ts): a token with rights on io.cozy.settings, or the
 * owner's session cookie from the instance's own pages.
 */
import type { FastifyInstance } from 'fastify';
import { addJsonParser } from '../common/json-body.js';
import { APP_PASSWORDS_DOCTYPE, type AppPassword } from '../permissions/app-passwords.js';
import { requireOwner } from './owner.js';
import type { AuthDeps } from './routes.js';
import { appPasswords, createAppPassword, revokeAppPassword } from './schemas.js';

const JSONAPI = 'application/vnd.api+json';

function resource(p: AppPassword, password?: string) {
  const { id, ...attributes } = p;
  return { type: APP_PASSWORDS_DOCTYPE, id, attributes: { ...attributes, ...(password ? { password } : {}) }, links: { self: `/settings/app-passwords/${id}` } };
}

type Fields = { label: string; scope?: string };

/** `{label, scope}` from a plain JSON body or a JSON-API one (the schema checked them), trimmed. */
function attributesOf(body: Fields | { data: { attributes: Fields } }): Fields {
  const a = 'data' in body ? body.data.attributes : body;
  return { label: a.label.trim(), ...(a.scope !== undefined ? { scope: a.scope.trim() } : {}) };
}

export function registerAppPasswordRoutes(app: FastifyInstance, deps: AuthDeps): void {
  const passwords = deps.perms.appPasswords;
  addJsonParser(app, JSONAPI);
  app.post<{ Body: Fields | { data: { attributes: Fields } } }>('/settings/app-passwords', { bodyLimit: 16 * 1024, schema: createAppPassword }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'POST');
    const { label, scope } = attributesOf(req.body);
    const { record, password } = await passwords.create(instance, label, scope);
    return reply.code(201).header('Cache-Control', 'no-store').type(JSONAPI).send({ data: resource(record, password) });
  });
  app.get('/settings/app-passwords', { schema: appPasswords }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'GET');
    const data = (await passwords.list(instance)).map((p) => resource(p));
    return reply.type(JSONAPI).send({ data, meta: { count: data.length } });
  });
  app.delete<{ Params: { id: string } }>('/settings/app-passwords/:id', { schema: revokeAppPassword }, async (req, reply) => {
    const { instance } = await requireOwner(deps, req, 'DELETE');
    await passwords.revoke(instance, req.params.id);
    return reply.code(204).send();
  });
}
