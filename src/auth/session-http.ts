/** The session cookie on HTTP: reading the current session, and opening one at the end of a login. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Instance, InstanceRegistry } from '../instances/types.js';
import { cookieDomain, parseCookies, requestHost, safeRedirect, serializeCookie } from './http.js';
import { esc } from './login-page.js';
import { SESSION_COOKIE, sessionCookieValue, sessionIdFromCookie, type Session, type SessionStore } from './sessions.js';

export interface SessionDeps {
  registry: InstanceRegistry;
  sessions: SessionStore;
}

/** The live session of this instance the request's cookie names, or null. */
export async function currentSession(deps: SessionDeps, instance: Instance, req: FastifyRequest): Promise<Session | null> {
  const value = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
  if (!value) return null;
  const id = sessionIdFromCookie((await deps.registry.secrets(instance)).session, value);
  const session = id ? deps.sessions.get(id) : null;
  if (!session || session.instanceId !== instance.id) return null;
  deps.sessions.touch(session);
  return session;
}

export function sessionCookie(req: FastifyRequest, value: string, maxAgeMs: number): string {
  return serializeCookie(SESSION_COOKIE, value, { maxAge: maxAgeMs / 1000, domain: cookieDomain(requestHost(req)), sameSite: 'Lax', secure: req.protocol === 'https' });
}

/** Opens a session, sets its cookie and sends the browser on (303) or answers `{redirect}` to a JSON client. */
export async function completeLogin(deps: SessionDeps, req: FastifyRequest, reply: FastifyReply, instance: Instance, json: boolean, redirect: unknown): Promise<FastifyReply> {
  const session = deps.sessions.create(instance, { userAgent: req.headers['user-agent'] ?? null, ip: req.ip });
  const value = sessionCookieValue((await deps.registry.secrets(instance)).session, session.id);
  const target = safeRedirect(redirect, instance, req);
  void reply.header('Set-Cookie', sessionCookie(req, value, session.expiresAt - Date.now())).header('Cache-Control', 'no-store');
  return json ? reply.send({ redirect: target }) : reply.code(303).header('Location', target).type('text/html; charset=utf-8').send(`<a href="${esc(target)}">${esc(target)}</a>`);
}
