/**
 * Permission documents (cozy-stack's io.cozy.permissions) for share-by-link:
 * `{type, source_id, permissions, codes, shortcodes, expires_at?, password?, cozyMetadata}`.
 * Two derived fields, never exposed, let the store find a doc by shortcode or by
 * doctype: `shortcode_list` and `doctypes`. App docs (id io.cozy.apps/<slug>) live
 * in the same doctype; this service only creates share docs.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { BadRequest, NotFound } from '../common/errors.js';
import type { TokenService } from '../auth/tokens.js';
import type { Instance } from '../instances/types.js';
import type { Doc, DocStore } from '../data/store.js';
import { rulesFromMap, type Rule } from './rules.js';

export const PERMISSIONS_DOCTYPE = 'io.cozy.permissions';
export const SHARE_TYPES = ['share', 'share-preview'];
/** 12 letters/digits, or 6 digits (tiny codes): never a JWT (which has dots). */
export const SHORTCODE_RE = /^(?:[A-Za-z0-9]{12}|\d{6})$/;
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** Cozy durations: `30s`, `15m`, `1h`, `1D`, `2M`, `1Y`, or several (`1h30m`); returns the expiry date. */
export function expiryFromTTL(ttl: string, now: Date): Date {
  if (!/^(\d{1,6}[smhDMY])+$/.test(ttl)) throw new BadRequest(`invalid ttl "${ttl.slice(0, 40)}": use a duration such as 30m, 1h, 1D, 2M or 1Y`);
  const d = new Date(now.getTime());
  for (const [, n, unit] of ttl.matchAll(/(\d+)([smhDMY])/g)) {
    const k = Number(n);
    if (unit === 's') d.setUTCSeconds(d.getUTCSeconds() + k);
    else if (unit === 'm') d.setUTCMinutes(d.getUTCMinutes() + k);
    else if (unit === 'h') d.setUTCHours(d.getUTCHours() + k);
    else if (unit === 'D') d.setUTCDate(d.getUTCDate() + k);
    else if (unit === 'M') d.setUTCMonth(d.getUTCMonth() + k);
    else d.setUTCFullYear(d.getUTCFullYear() + k);
  }
  return d;
}

export function shortcode(tiny: boolean): string {
  if (tiny) return String(randomInt(0, 1_000_000)).padStart(6, '0');
  return Array.from({ length: 12 }, () => ALNUM[randomInt(0, ALNUM.length)]).join('');
}

export function rulesOf(doc: Doc): Rule[] {
  return rulesFromMap((doc.permissions ?? {}) as Record<string, unknown>);
}

export function isExpired(doc: Doc, now: Date): boolean {
  return typeof doc.expires_at === 'string' && doc.expires_at !== '' && Date.parse(doc.expires_at) <= now.getTime();
}

export interface CreateShare {
  sourceId: string;
  permissions: Record<string, unknown>;
  codes?: string[];
  expiresAt?: string;
  tiny?: boolean;
  password?: string;
  type?: 'share' | 'share-preview';
}

export interface SharePatch {
  /** key → rule adds or replaces; key → null or "" removes. */
  permissions?: Record<string, unknown>;
  /** name → "" or null removes the code; any other value (re)creates it. */
  codes?: Record<string, unknown>;
  password?: string;
  expiresAt?: string;
}

export class PermissionDocs {
  constructor(
    private readonly storeOf: (instance: Instance) => DocStore,
    private readonly tokens: TokenService,
    readonly now: () => Date = () => new Date(),
  ) {}

  async get(instance: Instance, id: string): Promise<Doc | null> {
    try {
      return await this.storeOf(instance).get(PERMISSIONS_DOCTYPE, id);
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
  }

  async mustGet(instance: Instance, id: string): Promise<Doc> {
    const doc = await this.get(instance, id);
    if (!doc) throw new NotFound(`no permission document ${id.slice(0, 100)}`);
    return doc;
  }

  async create(instance: Instance, c: CreateShare): Promise<Doc> {
    rulesOf({ permissions: c.permissions as Doc });
    const id = randomBytes(16).toString('hex');
    const at = this.now().toISOString();
    const doc: Doc = {
      _id: id,
      type: c.type ?? 'share',
      source_id: c.sourceId,
      permissions: c.permissions as Doc,
      codes: {},
      shortcodes: {},
      cozyMetadata: { doctypeVersion: 1, metadataVersion: 1, createdAt: at, updatedAt: at },
    };
    if (c.expiresAt) doc.expires_at = c.expiresAt;
    if (c.password) doc.password = await hash(c.password);
    for (const name of c.codes ?? []) await this.addCode(instance, doc, name, c.tiny === true);
    return this.save(instance, doc);
  }

  /** `check` sees the resulting rules before anything is written (the routes' subset check). */
  async patch(instance: Instance, doc: Doc, p: SharePatch, check?: (permissions: Record<string, unknown>) => void): Promise<Doc> {
    const next: Doc = structuredClone(doc);
    if (p.permissions) {
      const perms = { ...(next.permissions as Record<string, Doc>) };
      for (const [k, v] of Object.entries(p.permissions)) {
        if (v === null || v === '') delete perms[k];
        else perms[k] = v as Doc;
      }
      next.permissions = perms;
      rulesOf(next);
    }
    check?.((next.permissions ?? {}) as Record<string, unknown>);
    for (const [name, v] of Object.entries(p.codes ?? {})) {
      if (v === null || v === '') {
        delete (next.codes as Record<string, string>)[name];
        delete (next.shortcodes as Record<string, string>)[name];
      } else await this.addCode(instance, next, name, false);
    }
    if (p.password !== undefined) {
      if (p.password === '') delete next.password;
      else next.password = await hash(p.password);
    }
    if (p.expiresAt !== undefined) {
      if (p.expiresAt === '') delete next.expires_at;
      else next.expires_at = p.expiresAt;
    }
    (next.cozyMetadata as Doc).updatedAt = this.now().toISOString();
    return this.save(instance, next);
  }

  async delete(instance: Instance, doc: Doc): Promise<void> {
    await this.storeOf(instance).put(PERMISSIONS_DOCTYPE, { _id: doc._id as string, _rev: doc._rev as string, _deleted: true });
  }

  async findByShortcode(instance: Instance, code: string): Promise<Doc | null> {
    const res = await this.storeOf(instance).find(PERMISSIONS_DOCTYPE, { selector: { shortcode_list: { $elemMatch: { $eq: code } } }, limit: 1, skip: 0 });
    return (res.docs[0] as Doc | undefined) ?? null;
  }

  /** Share docs with a rule on `doctype`, in _id order, after `cursor`. */
  async listSharedByLink(instance: Instance, doctype: string, limit: number, cursor?: string): Promise<{ docs: Doc[]; next?: string }> {
    const selector: Record<string, unknown> = { type: { $in: SHARE_TYPES }, doctypes: { $elemMatch: { $eq: doctype } } };
    if (cursor) selector._id = { $gt: cursor };
    const res = await this.storeOf(instance).find(PERMISSIONS_DOCTYPE, { selector, limit: limit + 1, skip: 0 });
    const docs = res.docs.slice(0, limit) as Doc[];
    return res.docs.length > limit ? { docs, next: String(docs[docs.length - 1]?._id) } : { docs };
  }

  /** Every live share doc with a rule on `doctype` (for /permissions/exists). */
  async allSharedByLink(instance: Instance, doctype: string): Promise<Doc[]> {
    const out: Doc[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.listSharedByLink(instance, doctype, 100, cursor);
      out.push(...page.docs.filter((d) => !isExpired(d, this.now())));
      if (!page.next) return out;
      cursor = page.next;
    }
  }

  /** A JWT sharecode (aud share, sub = doc id; `scope` carries the code name so that codes differ) and a shortcode. */
  private async addCode(instance: Instance, doc: Doc, name: string, tiny: boolean): Promise<void> {
    if (!/^[\w.@+-]{1,200}$/.test(name)) throw new BadRequest(`invalid code name "${name.slice(0, 40)}"`);
    const jwt = await this.tokens.issue(instance, { aud: 'share', sub: String(doc._id), scope: name });
    (doc.codes as Record<string, string>)[name] = jwt;
    (doc.shortcodes as Record<string, string>)[name] = shortcode(tiny);
  }

  private async save(instance: Instance, doc: Doc): Promise<Doc> {
    doc.shortcode_list = Object.values((doc.shortcodes ?? {}) as Record<string, string>);
    doc.doctypes = [...new Set(rulesOf(doc).map((r) => r.type))];
    const res = await this.storeOf(instance).put(PERMISSIONS_DOCTYPE, doc);
    return res.doc;
  }
}
