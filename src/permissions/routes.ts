/**
 * /permissions as cozy-stack serves it (JSON-API): share-by-link documents.
 * Who may create: any cli/app/konnector/oauth/owner token, for a subset of its own rights
 * (share tokens may not). Who may read/patch/delete a doc: a token with rights on
 * io.cozy.permissions, or the creator's source (same app; any cli token for cli-created links); also
 * patch/delete: a web app or OAuth client whose rights cover the whole link (as cozy-stack).
 * Patches must stay a subset of the caller's rights.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequest, Forbidden } from '../common/errors.js';
import { addJsonParser } from '../common/json-body.js';
import { instanceOf, int } from '../data/http/context.js';
import { validateDoctype } from '../data/doctype.js';
import type { Doc } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import { PERMISSIONS_DOCTYPE, SHARE_TYPES, expiryFromTTL, rulesOf, type SharePatch } from './docs.js';
import type { PermissionResolver } from './resolve.js';
import * as S from './schemas.js';
import { Permissions, rulesFromMap, type PermissionSet, type Verb } from './rules.js';

export interface PermissionRoutesDeps {
  perms: PermissionResolver;
}

const JSONAPI = 'application/vnd.api+json';
const DERIVED = new Set(['_id', '_rev', 'shortcode_list', 'doctypes']);

/** The JSON-API resource; `password` is shown as true; codes only to those who manage the doc. */
export function resource(doc: Doc, withCodes = true): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) if (!DERIVED.has(k)) attributes[k] = v;
  if (doc.password !== undefined) attributes.password = true;
  if (!withCodes) {
    delete attributes.codes;
    delete attributes.shortcodes;
  }
  const id = String(doc._id ?? '');
  const out: Record<string, unknown> = { type: PERMISSIONS_DOCTYPE, id, attributes, links: { self: `/permissions/${id}` } };
  if (doc._rev) out.meta = { rev: doc._rev };
  return out;
}

function ownerKey(set: PermissionSet): string | null {
  if (set.type === 'share' || set.type === 'share-preview') return null;
  return set.type === 'cli' ? 'io.cozy.cli' : set.sourceId;
}

/**
 * Whether `set` may `verb` the permission document `doc`. As cozy-stack's CanUpdateShareByLink, a web app or an
 * OAuth client may also change or revoke a share link made by another app when the link grants nothing beyond its
 * own rights (Drive revokes the links Notes made on files).
 */
function mayManage(set: PermissionSet, doc: Doc, verb: Verb): boolean {
  if (Permissions.allowsWholeType(set, verb, PERMISSIONS_DOCTYPE)) return true;
  const key = ownerKey(set);
  if (key !== null && doc.source_id === key) return true;
  const covers = (verb === 'PATCH' || verb === 'DELETE') && (set.type === 'app' || set.type === 'oauth') && SHARE_TYPES.includes(String(doc.type));
  return covers && Permissions.isSubset(rulesOf(doc), set);
}

/** The attributes of a JSON-API body, as the route's schema checked them. */
interface Attributes {
  permissions?: Record<string, unknown>;
  codes?: Record<string, unknown>;
  password?: string | null;
  expires_at?: string | null;
}
type Body = { data: { attributes: Attributes } };

function expiresAt(s: string | null | undefined): string | undefined {
  if (s === undefined || s === null || s === '') return s ?? undefined;
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new BadRequest('expires_at must be a date (ISO 8601)');
  return new Date(t).toISOString();
}

function requireSubset(permissions: Record<string, unknown>, set: PermissionSet): void {
  if (!Permissions.isSubset(rulesFromMap(permissions), set)) throw new Forbidden('a share link cannot grant more than the rights of the token that creates it');
}

export function registerPermissionRoutes(app: FastifyInstance, deps: PermissionRoutesDeps): void {
  const docs = deps.perms.docs;
  const caller = async (req: FastifyRequest): Promise<{ instance: Instance; set: PermissionSet }> => {
    const instance = instanceOf(req);
    return { instance, set: await deps.perms.forRequest(instance, req) };
  };
  const managed = async (req: FastifyRequest<{ Params: { id: string } }>, verb: Verb) => {
    const { instance, set } = await caller(req);
    const doc = await docs.mustGet(instance, req.params.id);
    if (!(verb === 'GET' && set.docId === doc._id) && !mayManage(set, doc, verb)) throw new Forbidden('this token cannot manage this permission document');
    return { instance, set, doc };
  };

  void app.register(async (scope) => {
    // JSON-API clients send application/vnd.api+json: parse it as JSON.
    addJsonParser(scope, JSONAPI);
    scope.addHook('onSend', async (_req, reply, payload) => {
      if (String(reply.getHeader('content-type') ?? '').startsWith('application/json')) reply.header('content-type', JSONAPI);
      return payload;
    });

    scope.get('/permissions/self', { schema: S.self }, async (req) => {
      const { instance, set } = await caller(req);
      if (set.docId) return { data: resource(await docs.mustGet(instance, set.docId), false) };
      const stored = set.sourceId && (set.type === 'app' || set.type === 'konnector') ? await docs.get(instance, set.sourceId) : null;
      if (stored) return { data: resource(stored) };
      const permissions = Object.fromEntries(set.rules.map((r, i) => [`rule${i}`, r]));
      return { data: { type: PERMISSIONS_DOCTYPE, id: set.sourceId ?? set.type, attributes: { type: set.type, source_id: set.sourceId, permissions } } };
    });

    scope.post<{ Querystring: Record<string, string>; Body: Body }>('/permissions', { schema: S.create }, async (req, reply) => {
      const { instance, set } = await caller(req);
      const key = ownerKey(set);
      if (key === null) throw new Forbidden('a share code cannot create permissions');
      const a = req.body.data.attributes;
      const permissions = a.permissions!;
      requireSubset(permissions, set);
      const now = docs.now();
      const ttl = req.query.ttl;
      const expiry = ttl ? expiryFromTTL(ttl, now).toISOString() : expiresAt(a.expires_at);
      const codes = (req.query.codes ?? '').split(',').map((c) => c.trim()).filter(Boolean);
      const tiny = req.query.tinycode === 'true' && !!ttl && expiryFromTTL(ttl, now).getTime() - now.getTime() <= 3600_000;
      const password = a.password ?? undefined;
      const doc = await docs.create(instance, {
        sourceId: key, permissions, codes, tiny,
        ...(expiry ? { expiresAt: expiry } : {}),
        ...(password ? { password } : {}),
      });
      return reply.code(201).send({ data: resource(doc) });
    });

    scope.post<{ Body: { data: unknown[] } }>('/permissions/exists', { schema: S.exists }, async (req) => {
      const { instance, set } = await caller(req);
      const data = req.body.data;
      const byType = new Map<string, Doc[]>();
      const out: Array<{ type: string; id: string; verbs: Verb[] }> = [];
      for (const item of data as Array<{ type?: unknown; id?: unknown }>) {
        const type = validateDoctype(String(item?.type ?? ''));
        const id = String(item?.id ?? '');
        if (!Permissions.allowsDoc(set, 'GET', type, { id, fetch: () => [id] })) continue;
        if (!byType.has(type)) byType.set(type, await docs.allSharedByLink(instance, type));
        const verbs = new Set<Verb>();
        for (const d of byType.get(type) ?? []) {
          const share: PermissionSet = { type: 'share', sourceId: null, rules: rulesOf(d) };
          for (const v of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const) if (Permissions.allowsDoc(share, v, type, { id, fetch: () => [id] })) verbs.add(v);
        }
        if (verbs.size) out.push({ type, id, verbs: [...verbs] });
      }
      return { data: out };
    });

    const listByDoctype = async (req: FastifyRequest<{ Params: { doctype: string }; Querystring: Record<string, string> }>) => {
      const { instance, set } = await caller(req);
      const doctype = validateDoctype(req.params.doctype);
      if (!Permissions.allowsWholeType(set, 'GET', doctype)) throw new Forbidden(`this token cannot read the whole doctype ${doctype}`);
      const limit = int(req.query['page[limit]'], 'page[limit]', 100) || 30;
      const page = await docs.listSharedByLink(instance, doctype, limit, req.query['page[cursor]'] || undefined);
      const body: Record<string, unknown> = { data: page.docs.map((d) => resource(d)), meta: { count: page.docs.length } };
      if (page.next) body.links = { next: `${req.url.split('?')[0]}?page[cursor]=${encodeURIComponent(page.next)}&page[limit]=${limit}` };
      return body;
    };
    scope.get('/permissions/doctype/:doctype/shared-by-link', { schema: S.sharedByLink }, listByDoctype);
    scope.get('/permissions/doctype/:doctype/sharedByLink', { schema: S.sharedByLinkAlias }, listByDoctype);

    scope.get<{ Params: { id: string } }>('/permissions/:id', { schema: S.read }, async (req) => {
      const { set, doc } = await managed(req, 'GET');
      return { data: resource(doc, set.docId !== doc._id) };
    });

    scope.patch<{ Params: { id: string }; Body: Body }>('/permissions/:id', { schema: S.patch }, async (req) => {
      const { instance, set, doc } = await managed(req, 'PATCH');
      const a = req.body.data.attributes;
      const p: SharePatch = {};
      if (a.permissions !== undefined) p.permissions = a.permissions;
      if (a.codes !== undefined) p.codes = a.codes;
      if (a.password !== undefined && a.password !== null) p.password = a.password;
      const exp = expiresAt(a.expires_at);
      if (exp !== undefined) p.expiresAt = exp;
      const next = await docs.patch(instance, doc, p, (permissions) => requireSubset(permissions, set));
      return { data: resource(next) };
    });

    scope.delete<{ Params: { id: string } }>('/permissions/:id', { schema: S.revoke }, async (req, reply) => {
      const { instance, doc } = await managed(req, 'DELETE');
      await docs.delete(instance, doc);
      return reply.code(204).send();
    });
  });
}
