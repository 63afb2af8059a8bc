/**
 * `POST /contacts/myself` (cozy-stack's web/contacts): the owner's contact document, created from
 * the instance settings when missing (contacts/myself.ts). The caller needs GET on that document
 * (a rule on io.cozy.contacts, or one its values or selector match); nothing is created for a caller
 * that could not read it.
 */
import type { FastifyInstance } from 'fastify';
import { Forbidden } from '../common/errors.js';
import { instanceOf } from '../data/http/context.js';
import type { Doc, DocStore } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import type { PermissionResolver } from '../permissions/resolve.js';
import { docFetcher, Permissions, type PermissionSet } from '../permissions/rules.js';
import { CONTACTS_DOCTYPE, createMyself, findMyself, myselfDraft } from './myself.js';
import * as S from './schemas.js';

export interface ContactsDeps {
  perms: PermissionResolver;
  storeOf(instance: Instance): DocStore;
}

function allow(set: PermissionSet, doc: Doc): void {
  if (!Permissions.allowsDoc(set, 'GET', CONTACTS_DOCTYPE, docFetcher(doc))) throw new Forbidden('reading the owner\'s contact needs GET on io.cozy.contacts');
}

export function registerContactsRoutes(app: FastifyInstance, deps: ContactsDeps): void {
  app.post('/contacts/myself', { schema: S.myself }, async (req, reply) => {
    const instance = instanceOf(req);
    const set = await deps.perms.forRequest(instance, req);
    const store = deps.storeOf(instance);
    let doc = await findMyself(store);
    if (!doc) {
      const draft = myselfDraft(instance, `${req.protocol}://${instance.domain}`);
      allow(set, draft);
      doc = await createMyself(store, draft);
    }
    allow(set, doc);
    const { _id: id, _rev: rev, ...attributes } = doc;
    return reply.type('application/vnd.api+json').send({ data: { type: CONTACTS_DOCTYPE, id, attributes, meta: { rev }, links: { self: '/contacts/myself' } } });
  });
}
