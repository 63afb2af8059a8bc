/** The session cookie on HTTP: reading the current session, and opening one at the end of a login. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Instance, InstanceRegistry } from '../instances/types.js';
import { cookieDomain, parseCookies, requestHost, safeRedirect, serializeCookie } from './http.js';
import { esc } from './login-page.js';
import type { SecurityEventDetail, SecurityEventKind } from './security-events.js';
import { SESSION_COOKIE, sessionCookieValue, sessionIdFromCookie, type Session, type SessionStore } from './sessions.js';

export interface SessionDeps {
  registry: InstanceRegistry;
  sessions: SessionStore;
  /** `apps.subdomains`: in flat mode the cookie is named per instance and set on the parent domain (flatSessionCookie). */
  subdomains?: 'nested' | 'flat';
}

/**
 * Where the session cookie lives so that every app host of the instance gets it (cozy-stack's rule). Nested: `cozysessid`
 * on the instance's host, which covers `<slug>.<instance>`. Flat (`<first>-<slug>.<rest>`): the app hosts are siblings of
 * the instance, so the cookie sits on `<rest>` and is named `sess-<instance id>`, one per instance sharing that parent.
 */
export function sessionCookieSpec(instance: Instance, subdomains: 'nested' | 'flat' | undefined, host: string): { name: string; domain: string | null } {
  if (subdomains !== 'flat') return { name: SESSION_COOKIE, domain: cookieDomain(host) };
  const name = cookieDomain(instance.domain);
  const dot = name ? name.indexOf('.') : -1;
  return { name: `sess-${instance.id}`, domain: name && dot > 0 ? name.slice(dot + 1) : name };
}

/** The session cookie's value in these request headers, wherever the mode puts it. */
export function sessionCookieOf(headers: { cookie?: string | string[] | undefined }, instance: Instance, subdomains: 'nested' | 'flat' | undefined): string | undefined {
  const cookie = headers.cookie;
  return typeof cookie === 'string' ? parseCookies(cookie).get(sessionCookieSpec(instance, subdomains, '').name) : undefined;
}

/** The live session of this instance the request's cookie names, or null. */
export async function currentSession(deps: SessionDeps, instance: Instance, req: FastifyRequest): Promise<Session | null> {
  const value = sessionCookieOf(req.headers, instance, deps.subdomains);
  if (!value) return null;
  const id = sessionIdFromCookie((await deps.registry.secrets(instance)).session, value);
  const session = id ? await deps.sessions.get(id) : null;
  if (!session || session.instanceId !== instance.id) return null;
  await deps.sessions.touch(session);
  return session;
}

/** Records a security event of the owner (security-events.ts) with the request's address and browser. */
export async function recordEvent(deps: Pick<SessionDeps, 'sessions'>, req: FastifyRequest, instance: Instance, kind: SecurityEventKind, detail?: SecurityEventDetail): Promise<void> {
  await deps.sessions.events.record(instance, kind, { ip: req.ip, userAgent: req.headers['user-agent'] }, detail);
}

export function sessionCookie(req: FastifyRequest, value: string, maxAgeMs: number, at?: { instance: Instance; subdomains?: 'nested' | 'flat' }): string {
  const spec = at ? sessionCookieSpec(at.instance, at.subdomains, requestHost(req)) : { name: SESSION_COOKIE, domain: cookieDomain(requestHost(req)) };
  return serializeCookie(spec.name, value, { maxAge: maxAgeMs / 1000, domain: spec.domain, sameSite: 'Lax', secure: req.protocol === 'https' });
}

/** Opens a session, sets its cookie and sends the browser on (303) or answers `{redirect}` to a JSON client. */
export async function completeLogin(deps: SessionDeps, req: FastifyRequest, reply: FastifyReply, instance: Instance, json: boolean, redirect: unknown): Promise<FastifyReply> {
  const session = await deps.sessions.create(instance, { userAgent: req.headers['user-agent'] ?? null, ip: req.ip });
  await recordEvent(deps, req, instance, 'login');
  const value = sessionCookieValue((await deps.registry.secrets(instance)).session, session.id);
  const target = safeRedirect(redirect, instance, req, deps.subdomains);
  void reply.header('Set-Cookie', sessionCookie(req, value, session.expiresAt - Date.now(), { instance, subdomains: deps.subdomains })).header('Cache-Control', 'no-store');
  return json ? reply.send({ redirect: target }) : reply.code(303).header('Location', target).type('text/html; charset=utf-8').send(`<a href="${esc(target)}">${esc(target)}</a>`);
}
