/**
 * One WebDAV request: who (instance, rights), on what (the target path), and the checks every
 * method shares: resolving paths to documents, reading an XML body, the Depth header, the
 * conditional headers (RFC 7232's If-Match/If-None-Match/If-(Un)Modified-Since and RFC 4918's If),
 * and the lock checks (423 unless the lock's token was submitted, by the principal that took the lock).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { BadRequest, HearthError, NotFound, PreconditionFailed } from '../../common/errors.js';
import type { Instance } from '../../instances/types.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import type { PermissionSet } from '../../permissions/rules.js';
import type { Vfs } from '../vfs.js';
import { TRASH_PATH, isDir, parentPath, type FileDoc } from '../types.js';
import { BodyTooLarge, Locked } from './errors.js';
import { evaluateIf, parseIf, submittedTokens, type ResourceState } from './if-header.js';
import type { DavLock, DavLockEngine } from './locks.js';
import { destinationOf, hrefOf, type Target } from './paths.js';
import { etagOf } from './props.js';
import { Rights } from './rights.js';
import { parseXml, type XmlElement } from './xml.js';

export interface DavDeps {
  vfs: Vfs;
  perms: PermissionResolver;
  locks: DavLockEngine;
}

/** Largest XML body (PROPFIND, PROPPATCH, LOCK). */
export const XML_LIMIT = 1024 * 1024;

export type Depth = '0' | '1' | 'infinity';

/** What a lock check looks at: a resource, and with `deep` everything below it too. */
export interface LockScopeCheck {
  path: string;
  deep?: boolean;
}

export class DavRequest {
  readonly rights: Rights;
  /** Lock tokens submitted in the If header (set by `preconditions`). */
  private submitted = new Set<string>();

  constructor(
    readonly deps: DavDeps,
    readonly req: FastifyRequest,
    readonly reply: FastifyReply,
    readonly instance: Instance,
    readonly set: PermissionSet,
    readonly target: Target,
    /** Who asks (rights.ts principalOf): a lock's token is of use to the principal that took it only. */
    readonly principal: string,
  ) {
    this.rights = new Rights(deps.vfs, instance, set);
  }

  get fs() {
    return this.deps.vfs.fs;
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  /** The document at `path`, or null (the trash and what is in it are never found). */
  async resolve(path: string): Promise<FileDoc | null> {
    if (path === TRASH_PATH || path.startsWith(`${TRASH_PATH}/`)) return null;
    try {
      return await this.fs.statByPath(this.instance, path);
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
  }

  /** The collection a new member of `path` goes in: 409 when it is missing or a file (RFC 4918 §9.3.1, §9.7.1). */
  async parentOf(path: string): Promise<FileDoc> {
    const parent = await this.resolve(parentPath(path));
    if (!parent || !isDir(parent)) throw new HearthError(409, 'conflict', `the collection ${hrefOf(parentPath(path), true)} does not exist`);
    return parent;
  }

  hasBody(): boolean {
    const len = this.header('content-length');
    return this.header('transfer-encoding') !== undefined || (len !== undefined && len !== '0');
  }

  /** The request body as a stream (an empty one when there is none). */
  body(): Readable | undefined {
    return this.req.body as Readable | undefined;
  }

  async text(limit = XML_LIMIT): Promise<string> {
    const body = this.body();
    if (!body) return '';
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      n += chunk.length;
      if (n > limit) throw new BodyTooLarge(limit);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** The XML body's root element, or null when the body is empty. */
  async xml(): Promise<XmlElement | null> {
    const text = await this.text();
    return text.trim() === '' ? null : parseXml(text);
  }

  depth(fallback: Depth, allowed: Depth[]): Depth {
    const raw = this.header('depth')?.trim().toLowerCase();
    const d = (raw === undefined ? fallback : raw) as Depth;
    if (!allowed.includes(d)) throw new BadRequest(`Depth: ${raw} is not accepted here (${allowed.join(', ')})`);
    return d;
  }

  overwrite(): boolean {
    const raw = this.header('overwrite')?.trim().toUpperCase() ?? 'T';
    if (raw !== 'T' && raw !== 'F') throw new BadRequest('Overwrite must be T or F');
    return raw === 'T';
  }

  destination(): Target {
    return destinationOf(this.req.headers.destination, this.req.headers.host);
  }

  private async stateOf(path: string | null): Promise<ResourceState> {
    if (path === null) return { etag: null, tokens: [] };
    const doc = await this.resolve(path);
    const locks = await this.deps.locks.covering(this.instance.id, path);
    return { etag: doc ? etagOf(doc) : null, tokens: locks.map((l) => l.token) };
  }

  private tagPath(tag: string): string | null {
    try {
      return destinationOf(tag, this.req.headers.host).path;
    } catch {
      return null; // a resource elsewhere: it has no state here, its conditions are false
    }
  }

  /**
   * The conditional headers against the target `doc` (null when unmapped). Returns "not-modified"
   * when a GET or HEAD should answer 304; throws 412 when a condition fails.
   */
  async preconditions(doc: FileDoc | null): Promise<'ok' | 'not-modified'> {
    const safe = this.req.method === 'GET' || this.req.method === 'HEAD';
    const etag = doc ? etagOf(doc) : null;
    const tags = (h: string) => h.split(',').map((t) => t.trim()).filter(Boolean);
    const ifMatch = this.header('if-match');
    if (ifMatch !== undefined) {
      const ok = doc !== null && tags(ifMatch).some((t) => t === '*' || t === etag);
      if (!ok) throw new PreconditionFailed('If-Match: the resource does not have this entity tag');
    } else {
      const since = this.header('if-unmodified-since');
      if (since !== undefined && doc && Date.parse(doc.updated_at) > Date.parse(since) + 999) throw new PreconditionFailed('If-Unmodified-Since: the resource changed since');
    }
    let notModified = false;
    const ifNoneMatch = this.header('if-none-match');
    if (ifNoneMatch !== undefined) {
      const weak = (t: string) => t.replace(/^W\//, '');
      if (doc !== null && tags(ifNoneMatch).some((t) => t === '*' || weak(t) === weak(etag!))) {
        if (!safe) throw new PreconditionFailed('If-None-Match: the resource exists with a matching entity tag');
        notModified = true;
      }
    } else if (safe && doc) {
      const since = this.header('if-modified-since');
      if (since !== undefined && !Number.isNaN(Date.parse(since)) && Date.parse(doc.updated_at) <= Date.parse(since) + 999) notModified = true;
    }
    const ifHeader = this.header('if');
    if (ifHeader !== undefined) {
      const groups = parseIf(ifHeader);
      const ok = await evaluateIf(groups, (tag) => this.stateOf(tag === null ? this.target.path : this.tagPath(tag)));
      if (!ok) throw new PreconditionFailed('the If header does not match the state of the resource');
      this.submitted = submittedTokens(groups);
    }
    return notModified ? 'not-modified' : 'ok';
  }

  /** The lock's token was submitted, by the principal that took the lock. */
  holds(lock: DavLock): boolean {
    return this.submitted.has(lock.token) && lock.principal === this.principal;
  }

  /**
   * 423 when a lock protects one of these scopes and this principal did not submit its token (after
   * `preconditions`): every exclusive lock needs its token; of the shared locks taken on one root, one is enough
   * (any of their holders may write, RFC 4918 §6.1). Another principal's token counts for nothing (§6.4).
   */
  async assertUnlocked(...scopes: LockScopeCheck[]): Promise<void> {
    for (const s of scopes) {
      const locks = [...(await this.deps.locks.covering(this.instance.id, s.path)), ...(s.deep ? await this.deps.locks.below(this.instance.id, s.path) : [])];
      const sharedRoots = new Set(locks.filter((l) => l.scope === 'shared' && this.holds(l)).map((l) => l.root));
      const missing = locks.find((l) => !this.holds(l) && !(l.scope === 'shared' && sharedRoots.has(l.root)));
      if (!missing) continue;
      const href = hrefOf(missing.root, false);
      if (this.submitted.has(missing.token)) throw new Locked(href, 'this lock was taken with another credential: its token is of use to that credential only (use it, or wait for the lock to time out)');
      throw new Locked(href);
    }
  }

  /** The submitted tokens (LOCK refresh looks for its lock among them). */
  get tokens(): Set<string> {
    return this.submitted;
  }
}
