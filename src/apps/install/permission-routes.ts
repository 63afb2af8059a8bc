/**
 * `PATCH /permissions/apps/:slug` and `/permissions/konnectors/:slug` (cozy-client's `PermissionCollection.add`):
 * adds rules to an installed app's permission document. The installer keeps them across updates
 * (permissions.ts, rulesAfterUpdate). Who may: the owner's session, or a token with PATCH on the whole
 * `io.cozy.permissions`, adding only rules within its own rights.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequest, Forbidden, NotFound } from '../../common/errors.js';
import { addJsonParser } from '../../common/json-body.js';
import { JSONAPI, jsonApi, openObject, params, resource as resourceSchema, type RouteSchema } from '../../common/schemas.js';
import type { OwnerDeps } from '../../auth/owner.js';
import { PERMISSIONS_DOCTYPE } from '../../permissions/docs.js';
import { resource } from '../../permissions/routes.js';
import { Permissions, rulesFromMap } from '../../permissions/rules.js';
import { callerOf } from './access.js';

const schema = (what: string): RouteSchema => ({
  summary: `Adds rules to an installed ${what}'s permission document (kept across its updates)`, tags: ['permissions'],
  params: params({ slug: `The ${what}'s slug` }),
  body: {
    type: 'object', required: ['data'], errorMessage: `send {"data": {"type": "${PERMISSIONS_DOCTYPE}", "attributes": {"permissions": {name: rule}}}}`,
    properties: { data: { type: 'object', required: ['attributes'], properties: { attributes: { type: 'object', required: ['permissions'], properties: { permissions: { type: 'object', minProperties: 1, errorMessage: 'attributes.permissions must be a non-empty map {name: rule}' } } } } } },
  },
  response: { 200: jsonApi('The permission document as changed', resourceSchema(PERMISSIONS_DOCTYPE, openObject('type, source_id, permissions'))) },
});

type PatchReq = FastifyRequest<{ Params: { slug: string }; Body: { data: { attributes: { permissions: Record<string, unknown> } } } }>;

export function registerAppPermissionRoutes(app: FastifyInstance, deps: OwnerDeps): void {
  void app.register(async (scope) => {
    addJsonParser(scope, JSONAPI);
    for (const [kind, path] of [['app', 'apps'], ['konnector', 'konnectors']] as const) {
      scope.patch(`/permissions/${path}/:slug`, { schema: schema(kind === 'app' ? 'web app' : 'konnector') }, async (req: PatchReq, reply) => {
        const { instance, set } = await callerOf(deps, req, 'PATCH');
        if (set.type !== 'owner' && !Permissions.allowsWholeType(set, 'PATCH', PERMISSIONS_DOCTYPE)) throw new Forbidden(`this token cannot change permissions: it needs PATCH on ${PERMISSIONS_DOCTYPE}`);
        const added = req.body.data.attributes.permissions;
        let rules;
        try {
          rules = rulesFromMap(added);
        } catch (e) {
          throw new BadRequest(`attributes.permissions: ${(e as Error).message}`);
        }
        if (set.type !== 'owner' && !Permissions.isSubset(rules, set)) throw new Forbidden('a token cannot grant more than its own rights');
        const current = await deps.perms.appPermissions(instance, kind, req.params.slug);
        if (!current) throw new NotFound(`no ${kind} ${req.params.slug.slice(0, 80)} is installed`);
        await deps.perms.setAppPermissions(instance, kind, req.params.slug, { ...(current.permissions as Record<string, unknown>), ...added });
        const doc = await deps.perms.appPermissions(instance, kind, req.params.slug);
        return reply.type(JSONAPI).send({ data: resource(doc!) });
      });
    }
  });
}
