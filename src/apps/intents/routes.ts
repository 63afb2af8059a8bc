/** POST /intents and GET /intents/:id (cozy-stack's web/intents), JSON-API. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Forbidden, HearthError, NotFound, UnprocessableEntity } from '../../common/errors.js';
import { addJsonParser } from '../../common/json-body.js';
import { JSONAPI } from '../../common/schemas.js';
import type { HearthConfig } from '../../config/types.js';
import type { Instance } from '../../instances/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import type { PermissionSet } from '../../permissions/rules.js';
import type { DocStore } from '../../data/store.js';
import { appOrigin } from '../hosts.js';
import { APPS_DOCTYPE } from '../types.js';
import { clientSlugOf, clientUrl, createIntent, docOrNull, getIntent, INTENTS_DOCTYPE, type IntentDoc, type RegistryWebapps } from './intents.js';
import * as schemas from './schemas.js';
import { flagsOf } from '../../settings/flags.js';

export type { RegistryWebapps };

export interface IntentsRouteDeps {
  config: HearthConfig;
  perms: PermissionResolver;
  storeOf(instance: Instance): DocStore;
  registryWebapps: RegistryWebapps;
}

/** What the server wires while no registry is plugged in: no app to offer. */
export const noRegistry: RegistryWebapps = async () => [];

interface CreateBody {
  data: { attributes: { action?: string; type?: string; permissions?: string[] } };
}

/**
 * The instance and the caller's rights; no token, or one that is not valid here (another instance's, expired…), is a 403
 * as cozy-stack answers. Any valid token may start an intent (intentClient says whose it is).
 */
async function caller(deps: IntentsRouteDeps, req: FastifyRequest): Promise<{ instance: Instance; set: PermissionSet }> {
  const instance = req.instance;
  if (!instance) throw new NotFound('no instance is served at this address');
  try {
    return { instance, set: await deps.perms.forRequest(instance, req) };
  } catch (e) {
    if (e instanceof HearthError && e.status < 500) throw new Forbidden(`intents need a valid app token: ${e.reason}`);
    throw e;
  }
}

export function registerIntentsRoutes(app: FastifyInstance, deps: IntentsRouteDeps): void {
  const mode = deps.config.apps.subdomains;
  const flags = flagsOf(deps.config.settings.flags);
  const domain = { storeOf: deps.storeOf, registryWebapps: deps.registryWebapps, mode };

  /** The JSON-API resource: `client` as the client app's URL, links to the intent and the client's permissions. */
  const resource = async (instance: Instance, doc: IntentDoc, scheme: string) => {
    const { _id, _rev, ...attributes } = doc;
    const store = deps.storeOf(instance);
    const client = await clientUrl(store, doc.client, flags, (slug) => appOrigin(instance.domain, slug, mode, scheme));
    const links: Record<string, string> = { self: `/intents/${_id}` };
    // cozy-stack links the permissions of the web app of the client's slug, when there is one
    const slug = clientSlugOf(doc.client);
    const perms = slug === null ? null : `${APPS_DOCTYPE}/${slug}`;
    if (perms && (await docOrNull(store, 'io.cozy.permissions', perms))) links.permissions = `/permissions/${perms}`;
    return { data: { type: INTENTS_DOCTYPE, id: _id, attributes: { ...attributes, client }, meta: { rev: _rev }, links } };
  };

  void app.register(async (scope) => {
    addJsonParser(scope, JSONAPI, { bodyLimit: 64 * 1024 });

    scope.post<{ Body: CreateBody }>('/intents', { bodyLimit: 64 * 1024, schema: schemas.create }, async (req, reply) => {
      const { instance, set } = await caller(deps, req);
      const { action, type, permissions } = req.body.data.attributes;
      if (!action) throw new UnprocessableEntity('Action is missing: data.attributes.action, such as PICK', 'invalid_parameter');
      if (!type) throw new UnprocessableEntity('Type is missing: data.attributes.type, such as io.cozy.files', 'invalid_parameter');
      const doc = await createIntent(domain, instance, set, { action, type, permissions: permissions ?? [] }, req.protocol);
      return reply.type(JSONAPI).send(await resource(instance, doc, req.protocol));
    });

    scope.get<{ Params: { id: string } }>('/intents/:id', { schema: schemas.get }, async (req, reply) => {
      const { instance, set } = await caller(deps, req);
      const doc = await getIntent(domain, instance, set, req.params.id);
      return reply.type(JSONAPI).send(await resource(instance, doc, req.protocol));
    });
  });
}
