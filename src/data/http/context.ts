/** What every /data route needs: the instance's store and the caller's rights, checked in one way. */
import type { FastifyRequest } from 'fastify';
import { BadRequest, Forbidden, NotFound } from '../../common/errors.js';
import type { EventBus } from '../../common/bus.js';
import type { HearthConfig } from '../../config/types.js';
import type { Instance } from '../../instances/types.js';
import { docFetcher, Permissions, type PermissionSet, type Verb } from '../../permissions/rules.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import { validateDoctype } from '../doctype.js';
import type { Doc, DocStore } from '../store.js';

export interface DataDeps {
  config: HearthConfig;
  bus: EventBus;
  perms: PermissionResolver;
  storeOf(instance: Instance): DocStore;
  /** Aborted when the server shuts down: long feeds end cleanly. */
  shutdown: AbortSignal;
  /** Per-doctype hooks on documents written and read (io.cozy.accounts credentials sealed at rest). */
  transforms?: DocTransforms;
}

export interface DocTransforms {
  in(instance: Instance, doctype: string, doc: Doc): Promise<Doc>;
  out(instance: Instance, doctype: string, doc: Doc, set: PermissionSet): Promise<Doc>;
  /** A top-level field that `out` removes: it cannot be queried or sorted on either (a selector would reveal it). */
  hides?(doctype: string, field: string): boolean;
  /** A revision kept outside the document's own history (a deleted account's last one), for `GET ?rev=`; null if none. */
  keptRevision?(store: DocStore, doctype: string, id: string, rev: string): Promise<Doc | null>;
}

/** A document as it will be stored (the DocTransforms of the deps, if any). */
export function transformIn(deps: DataDeps, access: Access, doc: Doc): Promise<Doc> {
  return deps.transforms ? deps.transforms.in(access.instance, access.doctype, doc) : Promise.resolve(doc);
}

/** A stored document as this caller may read it: every /data read path (by id, open_revs, _all_docs, _find, _changes, _bulk_get) goes through here. */
export function transformOut(deps: DataDeps, access: Access, doc: Doc): Promise<Doc> {
  return deps.transforms ? deps.transforms.out(access.instance, access.doctype, doc, access.set) : Promise.resolve(doc);
}

/** `transformOut` on the document under `key` of each row (`doc` of _all_docs and _changes rows, `ok` of open_revs and _bulk_get), in place. */
export async function transformRows(deps: DataDeps, access: Access, rows: readonly object[], key: 'doc' | 'ok'): Promise<void> {
  if (!deps.transforms) return;
  await Promise.all(rows.map(async (row) => {
    const r = row as Record<string, unknown>;
    const doc = r[key];
    if (doc && typeof doc === 'object') r[key] = await transformOut(deps, access, doc as Doc);
  }));
}

/** The top-level field of a Mango field path (`a.b` → `a`; `a\\.b` is one field named `a.b`). */
const topField = (path: string): string => (path.split(/(?<!\\)\./)[0] ?? '').replace(/\\\./g, '.');

/** 400 when a selector or a sort names a field the transforms hide (_find, _explain, _changes?filter=_selector). */
export function assertQueryable(deps: DataDeps, access: Access, selector: unknown, sort: ReadonlyArray<{ field: string }> = []): void {
  const hides = deps.transforms?.hides;
  if (!hides) return;
  const refuse = (field: string) => {
    if (hides(access.doctype, topField(field))) throw new BadRequest(`the field "${topField(field).slice(0, 80)}" of ${access.doctype} is internal: it cannot be queried or sorted on (remove it from the selector and the sort)`, 'bad_request');
  };
  const walk = (s: unknown): void => {
    if (Array.isArray(s)) s.forEach(walk);
    else if (s && typeof s === 'object') {
      // operators ($and, $or, $nor, $not) hold selectors; any other key is a field path
      for (const [k, v] of Object.entries(s)) if (k.startsWith('$')) walk(v); else refuse(k);
    }
  };
  walk(selector);
  for (const s of sort) refuse(s.field);
}

/** Several DocTransforms, applied in order (in) and in the same order (out): each one looks only at its own doctypes. */
export function chainTransforms(...list: DocTransforms[]): DocTransforms {
  return {
    hides: (doctype, field) => list.some((t) => t.hides?.(doctype, field) === true),
    async keptRevision(store, doctype, id, rev) {
      for (const t of list) {
        const kept = await t.keptRevision?.(store, doctype, id, rev);
        if (kept) return kept;
      }
      return null;
    },
    async in(instance, doctype, doc) {
      for (const t of list) doc = await t.in(instance, doctype, doc);
      return doc;
    },
    async out(instance, doctype, doc, set) {
      for (const t of list) doc = await t.out(instance, doctype, doc, set);
      return doc;
    },
  };
}

/** Doctypes that /data never serves, and those it serves read-only (they have their own APIs). */
const HIDDEN = new Set(['io.cozy.permissions', 'io.cozy.sharings', 'io.cozy.oauth.clients', 'io.cozy.oauth.access_codes', 'io.cozy.shared', 'io.cozy.hearth.app_passwords']);
const READ_ONLY = new Set(['io.cozy.files', 'io.cozy.files.versions', 'io.cozy.jobs', 'io.cozy.triggers', 'io.cozy.apps', 'io.cozy.konnectors', 'io.cozy.notifications']);

export interface Access {
  instance: Instance;
  store: DocStore;
  set: PermissionSet;
  doctype: string;
}

export function instanceOf(req: FastifyRequest): Instance {
  if (!req.instance) throw new NotFound('no instance is served at this address', 'not_found');
  return req.instance;
}

function checkDoctype(doctype: string, verb: Verb | 'HEAD'): void {
  if (HIDDEN.has(doctype)) throw new Forbidden(`the doctype ${doctype} is reserved: use its own API`);
  if (verb !== 'GET' && verb !== 'HEAD' && READ_ONLY.has(doctype)) throw new Forbidden(`the doctype ${doctype} is read-only in /data: use its own API`);
}

/** Routes over a whole doctype (_find, _changes, _all_docs, replication) need whole-doctype rights. */
export async function wholeType(deps: DataDeps, req: FastifyRequest, rawDoctype: string, verb: Verb): Promise<Access> {
  const doctype = validateDoctype(rawDoctype);
  const instance = instanceOf(req);
  const set = await deps.perms.forRequest(instance, req);
  checkDoctype(doctype, verb);
  if (!Permissions.allowsWholeType(set, verb, doctype)) {
    throw new Forbidden(`this token cannot ${verb} the whole doctype ${doctype}`);
  }
  return { instance, store: deps.storeOf(instance), set, doctype };
}

/** Document routes: first a cheap check that some rule could allow it, then `allowDoc` on the document. */
export async function docAccess(deps: DataDeps, req: FastifyRequest, rawDoctype: string, verb: Verb): Promise<Access> {
  const doctype = validateDoctype(rawDoctype);
  const instance = instanceOf(req);
  const set = await deps.perms.forRequest(instance, req);
  checkDoctype(doctype, verb);
  // per request: no copy of the set and its rules (as a check of each rule without its values did)
  if (!Permissions.allowsSome(set, verb, doctype)) throw new Forbidden(`this token has no ${verb} right on ${doctype}`);
  return { instance, store: deps.storeOf(instance), set, doctype };
}

export function allowDoc(access: Access, verb: Verb, doc: Doc): void {
  if (!Permissions.allowsDoc(access.set, verb, access.doctype, docFetcher(doc))) {
    throw new Forbidden(`this token cannot ${verb} this document`);
  }
}

export function bool(v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === true) return true;
  if (v === 'false' || v === false) return false;
  throw new BadRequest(`expected true or false, got "${String(v).slice(0, 40)}"`, 'query_parse_error');
}

/** A digits-only query value its schema checked (schemas.ts's count): '' is none. */
export const count = (v: string | undefined): number | undefined => (v === undefined || v === '' ? undefined : Number(v));

export function int(v: unknown, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = typeof v === 'number' ? v : /^\d{1,16}$/.test(String(v)) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > max) {
    throw new BadRequest(`${name} must be an integer between 0 and ${max}`, 'query_parse_error');
  }
  return n;
}

/** CouchDB's JSON-encoded query values (keys, startkey, open_revs…). */
export function jsonParam(v: unknown, name: string): unknown {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(String(v));
  } catch {
    throw new BadRequest(`${name} must be JSON-encoded (for a string: "${name}=%22value%22")`, 'query_parse_error');
  }
}

export function withType(doc: Doc, doctype: string): Doc {
  return { ...doc, _type: doctype };
}
