/**
 * /notifications, cozy-stack's docs/notifications.md (JSON-API): `POST /notifications` sends (a right POST on
 * io.cozy.notifications, and a category the sender may use: categories.ts); `GET /notifications` lists the
 * owner's, newest first, by pages (`page[limit]`, `page[cursor]`), and `GET /notifications/:id` reads one
 * (the owner's session cookie, or a token with GET on io.cozy.notifications). `GET|PUT|PATCH
 * /notifications/preferences` read and set the owner's channels per category (as the other settings: the
 * session cookie or a token with rights on io.cozy.settings). Hearth's read marks (read-state.ts, no cozy-stack
 * equivalent): `PATCH /notifications/:id` `{read: true|false}` (PATCH on the notification) and `POST
 * /notifications/read` (every unread one; PATCH on the whole doctype); the listing's `meta.unread` counts the unread.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Forbidden } from '../common/errors.js';
import { addJsonParser } from '../common/json-body.js';
import { instanceOf } from '../data/http/context.js';
import type { DocStore } from '../data/store.js';
import { nextPageQuery, pageParams } from '../files/http/params.js';
import type { Instance } from '../instances/types.js';
import { CLIENTS_DOCTYPE } from '../oauth/clients.js';
import { requireOwner, type OwnerDeps } from '../auth/owner.js';
import { extractToken } from '../permissions/resolve.js';
import { docFetcher, Permissions, type PermissionSet, type Verb } from '../permissions/rules.js';
import type { HearthConfig } from '../config/types.js';
import { knownCategories } from './categories.js';
import type { NotificationCenter, PushResult } from './center.js';
import { NOTIFICATIONS_DOCTYPE, type NotificationDoc, type Sender } from './types.js';
import * as S from './schemas.js';
import { parseNotificationBody, type NotificationAttributes } from './validate.js';
import { markAllRead, markRead, unreadCount } from './read-state.js';

export interface NotificationsDeps extends OwnerDeps {
  center: NotificationCenter;
  config: Pick<HearthConfig, 'jobs'>;
  storeOf(instance: Instance): DocStore;
}

const JSONAPI = 'application/vnd.api+json';
/** The body of POST /notifications: the largest fields (validate.ts MAX) and some room. */
const BODY_LIMIT = 512 * 1024;

/** The caller: a token's rights, or null for the owner's session cookie (same-origin pages only, as the settings routes). */
async function caller(deps: NotificationsDeps, req: FastifyRequest, verb: Verb): Promise<{ instance: Instance; set: PermissionSet | null }> {
  const instance = instanceOf(req);
  if (!extractToken(req)) {
    await requireOwner(deps, req, verb);
    return { instance, set: null };
  }
  return { instance, set: await deps.perms.forRequest(instance, req) };
}

/** Who sends, from the token: an app or konnector under its slug, an OAuth client under the app it is linked to. */
async function senderOf(deps: NotificationsDeps, instance: Instance, set: PermissionSet | null): Promise<Sender> {
  if (!set) return { originator: 'owner', slug: '' };
  const source = set.sourceId ?? '';
  switch (set.type) {
    case 'app':
      return { originator: 'app', slug: source.slice('io.cozy.apps/'.length) };
    case 'konnector':
      return { originator: 'konnector', slug: source.slice('io.cozy.konnectors/'.length) };
    case 'cli':
      return { originator: 'cli', slug: '' };
    case 'oauth': {
      // cozy-stack: an OAuth client with software_id registry://<slug> (a mobile app of a web app) uses that app's categories
      const client = await deps.storeOf(instance).get(CLIENTS_DOCTYPE, source.slice(`${CLIENTS_DOCTYPE}/`.length)).catch(() => null);
      const m = /^registry:\/\/([a-z0-9][a-z0-9_-]{0,63})$/.exec(String(client?.software_id ?? ''));
      if (!m) throw new Forbidden('No category for this app: this OAuth client is linked to no app (software_id "registry://<slug>"), so it has no notification category');
      return { originator: 'oauth', slug: m[1]! };
    }
    default:
      throw new Forbidden('Not authorized to send notification: share links and app passwords cannot send notifications');
  }
}

function resource(doc: Partial<NotificationDoc> & { _id: string }, meta: Record<string, unknown>): Record<string, unknown> {
  const { _id, _rev, ...attributes } = doc;
  return { type: NOTIFICATIONS_DOCTYPE, id: _id, attributes, meta: { ...(_rev ? { rev: _rev } : {}), ...meta }, links: { self: `/notifications/${_id}` } };
}

function answer(result: PushResult): { status: number; body: Record<string, unknown> } {
  if ('scheduledAt' in result) return { status: 201, body: { data: resource(result.doc, { scheduled_at: result.scheduledAt }) } };
  if (result.unchanged) return { status: 200, body: { data: resource(result.doc, { unchanged: true, channels: result.channels }) } };
  return { status: 201, body: { data: resource(result.doc, { channels: result.channels }) } };
}

export function registerNotificationRoutes(app: FastifyInstance, deps: NotificationsDeps): void {
  void app.register(async (scope) => {
    addJsonParser(scope, JSONAPI);
    scope.addHook('onSend', async (_req, reply, payload) => {
      if (String(reply.getHeader('content-type') ?? '').startsWith('application/json')) reply.header('content-type', JSONAPI);
      return payload;
    });

    scope.post<{ Body: { data: { attributes: NotificationAttributes } } }>('/notifications', { bodyLimit: BODY_LIMIT, schema: S.send }, async (req, reply) => {
      const { instance, set } = await caller(deps, req, 'POST');
      if (set && !Permissions.allowsWholeType(set, 'POST', NOTIFICATIONS_DOCTYPE)) {
        throw new Forbidden(`this token cannot send notifications: it needs a POST right on ${NOTIFICATIONS_DOCTYPE} (in the app's manifest permissions)`);
      }
      const sender = await senderOf(deps, instance, set);
      const input = parseNotificationBody(req.body.data.attributes, Date.now());
      const { status, body } = answer(await deps.center.push(instance, sender, input));
      return reply.code(status).send(body);
    });

    scope.get('/notifications', { schema: S.list }, async (req) => {
      const { instance, set } = await caller(deps, req, 'GET');
      if (set && !Permissions.allowsWholeType(set, 'GET', NOTIFICATIONS_DOCTYPE)) throw new Forbidden(`this token cannot list notifications: it needs a GET right on the whole ${NOTIFICATIONS_DOCTYPE} doctype`);
      const page = pageParams(req);
      const { docs, next, total } = await deps.center.list(instance, page.limit, page.cursor);
      const unread = await unreadCount(deps.storeOf(instance));
      const body: Record<string, unknown> = { data: docs.map((d) => resource(d, {})), meta: { count: total, unread } };
      const query = nextPageQuery(page, next);
      if (query) body.links = { next: `/notifications?${query}` };
      return body;
    });

    type PrefsBody = { data: { attributes: { categories: Record<string, unknown> } } } | undefined;
    const preferences = (verb: Verb, replace: boolean) => async (req: FastifyRequest<{ Body: PrefsBody }>) => {
      const { instance } = await requireOwner(deps, req, verb);
      const known = knownCategories(deps.config);
      // the schema checked the body of PUT and PATCH
      if (req.body) await deps.center.preferences.change(instance, req.body.data.attributes.categories, known, replace);
      return { data: await deps.center.preferences.resource(instance, known) };
    };
    scope.get('/notifications/preferences', { schema: S.preferences }, preferences('GET', false));
    scope.put('/notifications/preferences', { schema: S.replacePreferences }, preferences('PUT', true));
    scope.patch('/notifications/preferences', { schema: S.changePreferences }, preferences('PATCH', false));

    scope.post('/notifications/read', { schema: S.markAllRead }, async (req) => {
      const { instance, set } = await caller(deps, req, 'PATCH');
      if (set && !Permissions.allowsWholeType(set, 'PATCH', NOTIFICATIONS_DOCTYPE)) throw new Forbidden(`this token cannot mark notifications read: it needs a PATCH right on the whole ${NOTIFICATIONS_DOCTYPE} doctype`);
      return { meta: { count: await markAllRead(deps.storeOf(instance), Date.now()) } };
    });

    scope.patch<{ Params: { id: string }; Body: { data: { attributes: { read: boolean } } } }>('/notifications/:id', { schema: S.markRead }, async (req) => {
      const { instance, set } = await caller(deps, req, 'PATCH');
      const doc = await deps.center.get(instance, req.params.id);
      if (set && !Permissions.allowsDoc(set, 'PATCH', NOTIFICATIONS_DOCTYPE, docFetcher(doc as unknown as Record<string, unknown>))) {
        throw new Forbidden(`this token cannot mark this notification read: it needs a PATCH right on ${NOTIFICATIONS_DOCTYPE}`);
      }
      return { data: resource(await markRead(deps.storeOf(instance), doc, req.body.data.attributes.read, Date.now()), {}) };
    });

    scope.get<{ Params: { id: string } }>('/notifications/:id', { schema: S.read }, async (req) => {
      const { instance, set } = await caller(deps, req, 'GET');
      const doc = await deps.center.get(instance, req.params.id);
      if (set && !Permissions.allowsDoc(set, 'GET', NOTIFICATIONS_DOCTYPE, docFetcher(doc as unknown as Record<string, unknown>))) {
        throw new Forbidden(`this token cannot read this notification: it needs a GET right on ${NOTIFICATIONS_DOCTYPE}`);
      }
      return { data: resource(doc, {}) };
    });
  });
}
