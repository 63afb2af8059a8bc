/**
 * Password-protected share links, as cozy-stack: a share doc with a `password` (argon2id hash)
 * only lets its codes in together with the cookie `pass<permID>` that
 * `POST /auth/share-by-link/password {perm_id, password}` sets once the password was given.
 *
 * The cookie value is an HMAC (instance session secret) over the doc id and its password hash:
 * it cannot be forged, is worth nothing on another link or instance, and changing or removing
 * the password (PATCH /permissions/:id) voids every cookie given before.
 *
 * The route is public (the visitor has only the link), so it is rate-limited per IP and per link,
 * and refuses a browser Origin that is not the instance or one of its app hosts (CSRF). The cookie is set where the
 * session cookie is, so that it reaches the app hosts: the instance's host (nested `<slug>.<instance>`), or in flat mode
 * (`<first>-<slug>.<rest>`) the parent domain `<rest>`, as cozy-stack's session.CookieDomain does.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { verify } from '@node-rs/argon2';
import { instanceOf } from '../data/http/context.js';
import type { Doc } from '../data/store.js';
import type { Instance } from '../instances/types.js';
import { enforceLimit, type RateLimiter } from '../limits/index.js';
import { parseCookies, parseFormBodies, requestHost, safeRedirect, serializeCookie } from '../auth/http.js';
import { sessionCookieSpec } from '../auth/session-http.js';
import { isExpired, SHARE_TYPES } from './docs.js';
import type { PermissionResolver } from './resolve.js';
import { sharePassword } from './schemas.js';

export const passCookieName = (permId: string): string => `pass${permId}`;

function mac(secret: Uint8Array, doc: Doc): Buffer {
  return createHmac('sha256', secret).update(`pass|${String(doc._id)}|${String(doc.password)}`).digest();
}

export function passCookieValue(secret: Uint8Array, doc: Doc): string {
  return mac(secret, doc).toString('base64url');
}

/** Whether the request carries a valid password cookie for this (password-protected) share doc. */
export function hasPassCookie(secret: Uint8Array, doc: Doc, cookieHeader: string | string[] | undefined): boolean {
  const value = parseCookies(typeof cookieHeader === 'string' ? cookieHeader : undefined).get(passCookieName(String(doc._id)));
  if (!value || !/^[A-Za-z0-9_-]{43}$/.test(value)) return false;
  const given = Buffer.from(value, 'base64url');
  const want = mac(secret, doc);
  return given.length === want.length && timingSafeEqual(given, want);
}

export interface SharePasswordDeps {
  perms: PermissionResolver;
  limiter: RateLimiter;
  /** `apps.subdomains`: in flat mode the app hosts are siblings of the instance, so the cookie goes on their parent domain. */
  subdomains?: 'nested' | 'flat';
}

const MESSAGES = {
  en: { wrong: 'This password is not the one of the link.', unknown: 'This link does not exist or has expired.', origin: 'This request comes from another site.' },
  fr: { wrong: "Ce mot de passe n'est pas celui du lien.", unknown: "Ce lien n'existe pas ou a expiré.", origin: "Cette requête vient d'un autre site." },
} as const;

/** A browser's Origin, when there is one, must be the instance (or one of its app hosts, nested or flat), as `redirect` on login. */
function originAllowed(req: FastifyRequest, instance: Instance, subdomains: 'nested' | 'flat' | undefined): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (typeof origin !== 'string' || origin === 'null') return false;
  return safeRedirect(`${origin}/`, instance, req, subdomains) === `${origin}/`;
}

/** In its own plugin scope: it takes HTML form posts (cozy's password page) as well as JSON. */
export function registerSharePasswordRoute(parent: FastifyInstance, deps: SharePasswordDeps): void {
  void parent.register(async (app) => sharePasswordRoute(app, deps));
}

function sharePasswordRoute(app: FastifyInstance, deps: SharePasswordDeps): void {
  parseFormBodies(app);
  app.post('/auth/share-by-link/password', { bodyLimit: 16 * 1024, schema: sharePassword }, async (req: FastifyRequest, reply: FastifyReply) => {
    const instance = instanceOf(req);
    const t = MESSAGES[instance.locale === 'fr' ? 'fr' : 'en'];
    if (!originAllowed(req, instance, deps.subdomains)) return reply.code(403).send({ error: t.origin });
    // cozy-stack answers the instance's app subdomains with credentials: they post here from a public page
    if (typeof req.headers.origin === 'string') {
      void reply.header('Access-Control-Allow-Origin', req.headers.origin).header('Access-Control-Allow-Credentials', 'true').header('Vary', 'Origin');
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const permId = typeof body.perm_id === 'string' ? body.perm_id.slice(0, 200) : '';
    await enforceLimit(deps.limiter, 'sharePasswordPerIp', req.ip);
    await enforceLimit(deps.limiter, 'sharePassword', `${instance.id}/${permId}`);
    const doc = permId ? await deps.perms.docs.get(instance, permId) : null;
    if (!doc || !SHARE_TYPES.includes(String(doc.type)) || isExpired(doc, deps.perms.docs.now())) return reply.code(404).send({ error: t.unknown });
    if (typeof doc.password !== 'string' || doc.password === '') return reply.send({ password: 'none' });
    const password = typeof body.password === 'string' ? body.password : '';
    if (!password || !(await verify(doc.password, password).catch(() => false))) return reply.code(403).send({ error: t.wrong });
    const cookie = serializeCookie(passCookieName(permId), await deps.perms.passCookieFor(instance, doc), {
      // where the session cookie goes (cozy's session.CookieDomain): the instance's host, or in flat mode its parent
      maxAge: null, domain: sessionCookieSpec(instance, deps.subdomains, requestHost(req)).domain, sameSite: 'Lax', secure: req.protocol === 'https',
    });
    return reply.header('Set-Cookie', cookie).header('Cache-Control', 'no-store').send({ password: 'ok' });
  });
}
