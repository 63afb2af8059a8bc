/**
 * From a request to its PermissionSet: reads the token (Bearer header, Basic
 * password as PouchDB sends it, or ?bearer_token=), verifies it for the instance
 * and loads the rights it carries.
 */
import { InvalidToken, NotFound, PasswordRequired, Unauthorized } from '../common/errors.js';
import type { TokenService } from '../auth/tokens.js';
import type { Instance } from '../instances/types.js';
import type { Doc, DocStore } from '../data/store.js';
import { parseScope, rulesFromMap, type PermissionSet } from './rules.js';
import { assertClientActive } from '../oauth/revocation.js';
import { PERMISSIONS_DOCTYPE, PermissionDocs, SHARE_TYPES, SHORTCODE_RE, isExpired, rulesOf } from './docs.js';
import { hasPassCookie, passCookieValue } from './share-password.js';
import { APP_PASSWORDS_DOCTYPE, APP_PASSWORD_RE, AppPasswords } from './app-passwords.js';

export { PERMISSIONS_DOCTYPE };

export interface TokenSource {
  headers: Record<string, string | string[] | undefined>;
  query: unknown;
}

export function extractToken(req: TokenSource): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const [scheme, value = ''] = auth.split(/\s+/, 2);
    if (scheme?.toLowerCase() === 'bearer' && value) return value;
    if (scheme?.toLowerCase() === 'basic' && value) {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const password = colon >= 0 ? decoded.slice(colon + 1) : '';
      if (password) return password;
    }
  }
  const q = req.query as Record<string, unknown> | undefined;
  if (q && typeof q.bearer_token === 'string' && q.bearer_token) return q.bearer_token;
  return null;
}

/**
 * The id of the live owner session (cookie `cozysessid`) of this instance the request carries, or null.
 * Injected by the composition root so that permissions do not depend on the HTTP/session layer.
 */
export type SessionIdOf = (instance: Instance, req: TokenSource) => Promise<string | null>;

/** What the resolver needs from outside the permission layer, injected by the composition root. */
export interface ResolverHooks {
  /** App tokens are valid only with their session's cookie; without this lookup they are all refused. */
  sessionIdOf?: SessionIdOf;
  /** The instance's session secret, which signs the password cookies of share links; without it protected links are refused. */
  cookieSecret?: (instance: Instance) => Promise<Uint8Array>;
  now?: () => Date;
}

export class PermissionResolver {
  /** The share-by-link documents (also used by the /permissions routes). */
  readonly docs: PermissionDocs;
  /** The owner's app passwords (Basic-auth clients such as WebDAV). */
  readonly appPasswords: AppPasswords;

  private readonly sessionIdOf: SessionIdOf;
  private readonly cookieSecret: ((instance: Instance) => Promise<Uint8Array>) | null;

  constructor(
    private readonly tokens: TokenService,
    private readonly storeOf: (instance: Instance) => DocStore,
    hooks: ResolverHooks = {},
  ) {
    this.docs = new PermissionDocs(storeOf, tokens, hooks.now);
    this.sessionIdOf = hooks.sessionIdOf ?? (async () => null);
    this.cookieSecret = hooks.cookieSecret ?? null;
    this.appPasswords = new AppPasswords(storeOf, hooks.now);
  }

  async forRequest(instance: Instance, req: TokenSource): Promise<PermissionSet> {
    const token = extractToken(req);
    if (!token) throw new Unauthorized();
    if (APP_PASSWORD_RE.test(token)) {
      const ap = await this.appPasswords.find(instance, token);
      if (!ap) throw new InvalidToken('Invalid token');
      return { type: 'app-password', sourceId: `${APP_PASSWORDS_DOCTYPE}/${ap.id}`, rules: parseScope(ap.scope) };
    }
    if (SHORTCODE_RE.test(token)) return this.shareSet(instance, req, await this.docs.findByShortcode(instance, token), (d) => d.shortcodes, token);
    const claims = await this.tokens.verify(instance, token);
    switch (claims.aud) {
      case 'cli':
        return { type: 'cli', sourceId: null, rules: parseScope(claims.scope ?? '') };
      case 'access':
        await assertClientActive(this.storeOf(instance), claims.sub); // a deleted client's tokens are revoked
        return { type: 'oauth', sourceId: `io.cozy.oauth.clients/${claims.sub}`, rules: parseScope(claims.scope ?? '') };
      case 'app':
      case 'svc':
      case 'konn': {
        // cozy-stack: an app token is bound to the session that opened the app; logging out revokes it.
        // A service's token (svc, issued by the service worker for one run) has the app's rights and no session.
        if (claims.aud === 'app' && (!claims.session_id || claims.session_id !== (await this.sessionIdOf(instance, req)))) {
          throw new InvalidToken('Invalid JWT token');
        }
        const sourceId = `${claims.aud === 'konn' ? 'io.cozy.konnectors' : 'io.cozy.apps'}/${claims.sub}`;
        const doc = await this.load(instance, sourceId);
        if (!doc) throw new InvalidToken('Invalid JWT token');
        return { type: claims.aud === 'konn' ? 'konnector' : 'app', sourceId, rules: rulesFromMap((doc.permissions ?? {}) as Record<string, unknown>) };
      }
      case 'share':
        return this.shareSet(instance, req, await this.docs.get(instance, claims.sub), (d) => d.codes, token);
      default:
        // refresh and registration tokens are not access tokens
        throw new InvalidToken('Invalid JWT token');
    }
  }

  /**
   * A share code (JWT or shortcode) is valid while its document exists, still lists
   * the code, and has not expired: revocation and PATCH take effect on the next request.
   * A password-protected link also needs the cookie of share-password.ts: without it (or with one from
   * before a password change) the answer says a password is needed (401 password_required).
   */
  private async shareSet(instance: Instance, req: TokenSource, doc: Doc | null, codesOf: (d: Doc) => unknown, token: string): Promise<PermissionSet> {
    const codes = doc ? Object.values((codesOf(doc) ?? {}) as Record<string, string>) : [];
    if (!doc || !SHARE_TYPES.includes(String(doc.type)) || !codes.includes(token)) throw new InvalidToken('Invalid JWT token');
    if (isExpired(doc, this.docs.now())) throw new InvalidToken('Expired token');
    if (doc.password !== undefined) {
      const secret = this.cookieSecret ? await this.cookieSecret(instance) : null;
      if (!secret || !hasPassCookie(secret, doc, req.headers.cookie)) throw new PasswordRequired(String(doc._id));
    }
    return { type: doc.type === 'share' ? 'share' : 'share-preview', sourceId: String(doc.source_id ?? ''), rules: rulesOf(doc), docId: String(doc._id) };
  }

  /**
   * The rights a set resolved earlier (kept with a job) carries now: an app's or a konnector's as its permission
   * document says today, an OAuth client's while the client exists, a share's while its document is there and not
   * expired, an app password's while it is not revoked; a CLI token's as they were (nothing revokes it). A revoked
   * source keeps no rule.
   */
  async current(instance: Instance, set: PermissionSet): Promise<PermissionSet> {
    const none: PermissionSet = { ...set, rules: [] };
    const source = set.sourceId ?? '';
    switch (set.type) {
      case 'app':
      case 'konnector': {
        const doc = await this.load(instance, source);
        return doc && !doc._deleted ? { ...set, rules: rulesFromMap((doc.permissions ?? {}) as Record<string, unknown>) } : none;
      }
      case 'oauth':
        return assertClientActive(this.storeOf(instance), source.slice(source.indexOf('/') + 1)).then(() => set, (err: unknown) => {
          if (err instanceof InvalidToken) return none;
          throw err;
        });
      case 'share':
      case 'share-preview': {
        const doc = set.docId ? await this.docs.get(instance, set.docId) : null;
        return doc && !isExpired(doc, this.docs.now()) ? { ...set, rules: rulesOf(doc) } : none;
      }
      case 'app-password': {
        const doc = await this.load(instance, source.slice(source.indexOf('/') + 1), APP_PASSWORDS_DOCTYPE);
        return doc && !doc._deleted ? set : none;
      }
      default:
        return set;
    }
  }

  /** The value of the cookie that proves the password of this share doc was given (share-password.ts). */
  async passCookieFor(instance: Instance, doc: Doc): Promise<string> {
    if (!this.cookieSecret) throw new Error('PermissionResolver built without cookieSecret: password-protected links cannot be unlocked');
    return passCookieValue(await this.cookieSecret(instance), doc);
  }

  private async load(instance: Instance, id: string, doctype = PERMISSIONS_DOCTYPE): Promise<Doc | null> {
    try {
      return await this.storeOf(instance).get(doctype, id);
    } catch (err) {
      if (err instanceof NotFound) return null;
      throw err;
    }
  }

  /** The permission document of an installed app or konnector (`io.cozy.apps/<slug>`, `io.cozy.konnectors/<slug>`), or null. */
  appPermissions(instance: Instance, kind: 'app' | 'konnector', slug: string): Promise<Doc | null> {
    return this.load(instance, `${kind === 'app' ? 'io.cozy.apps' : 'io.cozy.konnectors'}/${slug}`);
  }

  /**
   * Writes the rules map of an installed app or konnector (its manifest's `permissions`, checked here), or removes
   * its document when `permissions` is null (uninstall).
   */
  async setAppPermissions(instance: Instance, kind: 'app' | 'konnector', slug: string, permissions: Record<string, unknown> | null): Promise<void> {
    const write = await this.appPermissionsWrite(instance, kind, slug, permissions);
    if (write) await this.storeOf(instance).put(write.doctype, write.doc);
  }

  /**
   * The write `setAppPermissions` makes (the rules checked, the current `_rev` read), for a caller that commits it with
   * other documents (the installer: with the app's doc); null when there is nothing to write.
   */
  async appPermissionsWrite(instance: Instance, kind: 'app' | 'konnector', slug: string, permissions: Record<string, unknown> | null): Promise<{ doctype: string; doc: Doc } | null> {
    const sourceId = `${kind === 'app' ? 'io.cozy.apps' : 'io.cozy.konnectors'}/${slug}`;
    if (permissions) rulesFromMap(permissions);
    const existing = await this.load(instance, sourceId);
    if (!permissions) return existing && !existing._deleted ? { doctype: PERMISSIONS_DOCTYPE, doc: { _id: sourceId, _rev: existing._rev as string, _deleted: true } } : null;
    const doc: Doc = { _id: sourceId, type: kind, source_id: sourceId, permissions: permissions as Doc };
    if (existing) doc._rev = existing._rev as string;
    return { doctype: PERMISSIONS_DOCTYPE, doc };
  }

  /** Records the rights of an app (until apps are installed from manifests). */
  grantApp(instance: Instance, slug: string, scope: string | null): Promise<void> {
    return this.grant(instance, 'app', slug, scope);
  }

  /**
   * Records the rights of an app or a konnector in its io.cozy.permissions doc (`io.cozy.apps/<slug>`,
   * `io.cozy.konnectors/<slug>`); a null scope keeps the rights already recorded.
   */
  async grant(instance: Instance, kind: 'app' | 'konnector', slug: string, scope: string | null): Promise<void> {
    const sourceId = `${kind === 'app' ? 'io.cozy.apps' : 'io.cozy.konnectors'}/${slug}`;
    const rules = scope ? parseScope(scope) : [];
    const existing = await this.load(instance, sourceId);
    if (existing && scope === null) return;
    const permissions = Object.fromEntries(rules.map((r, i) => [`rule${i}`, { ...r } as unknown as Doc]));
    // every konnector or service run grants its manifest's rules: write (a revision, an event) only when they changed
    if (existing && existing.type === kind && JSON.stringify(existing.permissions) === JSON.stringify(permissions)) return;
    const doc: Doc = { _id: sourceId, type: kind, source_id: sourceId, permissions };
    if (existing) doc._rev = existing._rev as string;
    await this.storeOf(instance).put(PERMISSIONS_DOCTYPE, doc);
  }
}
