/**
 * Cozy permission rules `{type, verbs, values, selector}` and the one check that
 * every route uses. Verbs default to all; HEAD is implied by GET; `values` match
 * document ids (or, with `selector`, another field of the document); a type
 * ending in ".*" covers the doctypes below it (io.cozy.bank.* → io.cozy.bank.accounts).
 */
import { BadRequest } from '../common/errors.js';
import { SPECIAL_DOCTYPES } from '../data/doctype.js';

export const VERBS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type Verb = (typeof VERBS)[number];

export interface Rule {
  type: string;
  /** Empty or missing = every verb. */
  verbs?: Verb[];
  values?: string[];
  selector?: string;
  description?: string;
}

export type PermissionType = 'app' | 'konnector' | 'oauth' | 'cli' | 'share' | 'share-preview' | 'owner' | 'app-password';

export interface PermissionSet {
  type: PermissionType;
  /** io.cozy.apps/<slug>, io.cozy.oauth.clients/<id>, … */
  sourceId: string | null;
  rules: Rule[];
  /** The io.cozy.permissions document behind a share code. */
  docId?: string;
}

/** What a check needs from a document: its id and the values of a field. */
export interface Fetcher {
  id: string;
  fetch(field: string): string[];
}

const TYPE_RE = /^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$/;

function parseVerbs(text: string): Verb[] {
  if (text === 'ALL' || text === '') return [];
  return text.split(',').map((v) => {
    const verb = v.trim().toUpperCase();
    if (!(VERBS as readonly string[]).includes(verb)) throw new BadRequest(`invalid verb "${v}" in permission scope: use GET, POST, PUT, PATCH, DELETE or ALL`);
    return verb as Verb;
  });
}

export function validateRule(rule: Rule): Rule {
  if (typeof rule.type !== 'string' || !(TYPE_RE.test(rule.type) || SPECIAL_DOCTYPES.has(rule.type))) throw new BadRequest(`invalid permission type "${String(rule.type)}"`);
  if (rule.type.endsWith('.*') && rule.type.split('.').length < 4) {
    throw new BadRequest(`the wildcard in "${rule.type}" needs at least three dots (such as io.cozy.bank.*)`);
  }
  return rule;
}

/** Parses cozy's inline scope: space-separated `type[:VERBS[:values[:selector]]]`. */
export function parseScope(scope: string): Rule[] {
  return scope
    .split(/\s+/)
    .filter(Boolean)
    .map((part) => {
      const [type = '', verbs, values, selector] = part.split(':');
      const rule: Rule = { type };
      if (verbs !== undefined) rule.verbs = parseVerbs(verbs);
      if (values !== undefined && values !== '') rule.values = values.split(',');
      if (selector !== undefined && selector !== '') rule.selector = selector;
      return validateRule(rule);
    });
}

/** The manifest / permission-document form: `{key: rule}`. */
export function rulesFromMap(map: Record<string, unknown>): Rule[] {
  return Object.values(map).map((raw) => {
    const r = raw as Record<string, unknown>;
    const verbs = Array.isArray(r.verbs) ? parseVerbs(r.verbs.map(String).join(',')) : [];
    const rule: Rule = { type: String(r.type) };
    if (verbs.length) rule.verbs = verbs;
    if (Array.isArray(r.values) && r.values.length) rule.values = r.values.map(String);
    if (typeof r.selector === 'string' && r.selector) rule.selector = r.selector;
    if (typeof r.description === 'string') rule.description = r.description;
    return validateRule(rule);
  });
}

function typeMatches(ruleType: string, doctype: string): boolean {
  if (ruleType === doctype) return true;
  return ruleType.endsWith('.*') && doctype.startsWith(ruleType.slice(0, -1));
}

function verbMatches(rule: Rule, verb: Verb | 'HEAD'): boolean {
  const v = verb === 'HEAD' ? 'GET' : verb;
  return !rule.verbs || rule.verbs.length === 0 || rule.verbs.includes(v);
}

export class Permissions {
  /** The one check for whole-doctype routes (_find, _changes, _all_docs, replication). */
  static allowsWholeType(set: PermissionSet, verb: Verb | 'HEAD', doctype: string): boolean {
    if (set.type === 'owner') return true;
    return set.rules.some((r) => typeMatches(r.type, doctype) && verbMatches(r, verb) && !r.values?.length);
  }

  /** The one check for a single document. */
  /** Some rule gives `verb` on `doctype`, on the whole doctype or on some of its documents only (a route's first check). */
  static allowsSome(set: PermissionSet, verb: Verb | 'HEAD', doctype: string): boolean {
    return set.type === 'owner' || set.rules.some((r) => typeMatches(r.type, doctype) && verbMatches(r, verb));
  }

  static allowsDoc(set: PermissionSet, verb: Verb | 'HEAD', doctype: string, doc: Fetcher): boolean {
    if (set.type === 'owner') return true;
    return set.rules.some((r) => {
      if (!typeMatches(r.type, doctype) || !verbMatches(r, verb)) return false;
      if (!r.values?.length) return true;
      const have = r.selector ? doc.fetch(r.selector) : [doc.id];
      return have.some((v) => r.values?.includes(v));
    });
  }

  /**
   * For the routes where a whole-doctype right is not enough (cozy-stack's POST /jobs/queue/:worker,
   * POST /jobs/triggers): a rule restricted by `selector` to values including `value`.
   */
  static allowsOnField(set: PermissionSet, verb: Verb, doctype: string, selector: string, value: string): boolean {
    if (set.type === 'owner') return true;
    return set.rules.some((r) => typeMatches(r.type, doctype) && verbMatches(r, verb) && r.selector === selector && (r.values ?? []).includes(value));
  }

  /** A rule-set is a subset of another (used when a holder creates narrower sets). */
  static isSubset(inner: Rule[], outer: PermissionSet): boolean {
    return inner.every((r) =>
      (r.verbs?.length ? r.verbs : [...VERBS]).every((verb) =>
        r.values?.length
          ? r.values.every((v) => Permissions.allowsDoc(outer, verb, r.type, { id: v, fetch: () => [v] }))
          : Permissions.allowsWholeType(outer, verb, r.type),
      ),
    );
  }
}

/** Builds a Fetcher for a JSON document: `fetch("a.b")` returns the strings at that path. */
export function docFetcher(doc: Record<string, unknown>): Fetcher {
  return {
    id: String(doc._id ?? ''),
    fetch(field: string): string[] {
      let cur: unknown = doc;
      for (const part of field.split('.')) {
        if (cur === null || typeof cur !== 'object') return [];
        cur = (cur as Record<string, unknown>)[part];
      }
      if (Array.isArray(cur)) return cur.map((v) => (typeof v === 'object' && v !== null && 'id' in v ? String((v as { id: unknown }).id) : String(v)));
      return cur === undefined || cur === null ? [] : [String(cur)];
    },
  };
}
