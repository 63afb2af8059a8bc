/**
 * The two /sharings routes the Drive and Home apps call when they start. Cozy-to-cozy sharing is not
 * built, so no sharing and no shared drive exists: both answer the truth, an empty JSON-API list in
 * cozy-stack's shape (`{"data": [], "meta": {"count": 0}}`, web/sharings), after cozy-stack's checks.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { Forbidden } from '../common/errors.js';
import { instanceOf } from '../data/http/context.js';
import { validateDoctype } from '../data/doctype.js';
import type { PermissionResolver } from '../permissions/resolve.js';
import { Permissions } from '../permissions/rules.js';
import * as S from './schemas.js';

const JSONAPI = 'application/vnd.api+json';

/** No sharing exists yet: the empty list, as cozy-stack's jsonapi.DataList writes it. */
const none = (reply: FastifyReply) => reply.type(JSONAPI).send({ data: [], meta: { count: 0 } });

export function registerSharingRoutes(app: FastifyInstance, deps: { perms: PermissionResolver }): void {
  app.get<{ Params: { doctype: string } }>('/sharings/doctype/:doctype', { schema: S.byDoctype }, async (req, reply) => {
    const instance = instanceOf(req);
    const doctype = validateDoctype(req.params.doctype);
    const set = await deps.perms.forRequest(instance, req);
    if (!Permissions.allowsWholeType(set, 'GET', doctype)) throw new Forbidden(`listing the sharings of ${doctype} needs GET on the whole ${doctype}`);
    return none(reply);
  });

  app.get('/sharings/drives', { schema: S.drives }, async (req, reply) => {
    const instance = instanceOf(req);
    const set = await deps.perms.forRequest(instance, req);
    if (!Permissions.allowsWholeType(set, 'GET', 'io.cozy.files')) throw new Forbidden('listing the shared drives needs GET on the whole io.cozy.files');
    return none(reply);
  });
}
