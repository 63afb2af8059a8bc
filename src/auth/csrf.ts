/** Double-submit CSRF token for the /auth forms (login, two-factor): a cookie plus the same value in a hidden field. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { parseCookies, serializeCookie } from './http.js';

export const CSRF_COOKIE = 'hearth_csrf';

/** The CSRF token of the request's cookie if well-formed, else a new one. */
export function csrfToken(req: FastifyRequest): { token: string; fresh: boolean } {
  const have = parseCookies(req.headers.cookie).get(CSRF_COOKIE);
  if (have && /^[A-Za-z0-9_-]{43}$/.test(have)) return { token: have, fresh: false };
  return { token: randomBytes(32).toString('base64url'), fresh: true };
}

/** The token to put in a form, setting its cookie when new. */
export function csrfForForm(req: FastifyRequest, reply: FastifyReply): string {
  const csrf = csrfToken(req);
  if (csrf.fresh) {
    void reply.header('Set-Cookie', serializeCookie(CSRF_COOKIE, csrf.token, { maxAge: 86400, path: '/auth', sameSite: 'Strict', secure: req.protocol === 'https' }));
  }
  return csrf.token;
}

export function csrfValid(req: FastifyRequest, given: unknown): boolean {
  const have = parseCookies(req.headers.cookie).get(CSRF_COOKIE);
  if (!have || typeof given !== 'string' || given.length !== have.length) return false;
  return timingSafeEqual(Buffer.from(given), Buffer.from(have));
}
