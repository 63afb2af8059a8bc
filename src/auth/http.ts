/** Small HTTP helpers for /auth: cookies (no @fastify/cookie), the redirect check, no CORS. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import type { Instance } from '../instances/types.js';
import { preflight } from './schemas.js';

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    if (out.has(name)) continue; // the first one wins, as browsers send the most specific first
    try {
      out.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      /* a malformed value is ignored */
    }
  }
  return out;
}

/** Parses HTML form posts (`application/x-www-form-urlencoded`, 16 KiB at most) into a plain object, in this plugin scope. */
export function parseFormBodies(app: FastifyInstance): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
}

export interface CookieOptions {
  /** Seconds; null makes a session cookie (gone when the browser closes). */
  maxAge: number | null;
  domain?: string | null;
  path?: string;
  sameSite: 'Lax' | 'Strict';
  secure: boolean;
}

export function serializeCookie(name: string, value: string, o: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${o.path ?? '/'}`];
  if (o.maxAge !== null) parts.push(`Max-Age=${Math.max(0, Math.floor(o.maxAge))}`);
  if (o.domain) parts.push(`Domain=${o.domain}`);
  parts.push('HttpOnly', `SameSite=${o.sameSite}`);
  if (o.secure) parts.push('Secure');
  return parts.join('; ');
}

/** The request's Host, lower-cased (it resolved to the instance: its domain or an alias). */
export function requestHost(req: FastifyRequest): string {
  return String(req.headers.host ?? '').toLowerCase();
}

function hostname(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
}

/** The cookie Domain: the host without its port, so that `<app>.<host>` shares it; none for an IP. */
export function cookieDomain(host: string): string | null {
  const h = hostname(host);
  return isIP(h.replace(/^\[|\]$/g, '')) ? null : h;
}

/**
 * Where to go after login: `redirect` only if it is one of the instance's hosts or an app
 * subdomain of one (`<slug>.<host>`, same port), over http(s), without credentials in the URL;
 * anything else (another site, another instance, `//evil`, `javascript:`) falls back to home.
 */
export function safeRedirect(redirect: unknown, instance: Instance, req: FastifyRequest, subdomains?: 'nested' | 'flat'): string {
  const base = `${req.protocol}://${requestHost(req)}`;
  const home = `${base}/`;
  if (typeof redirect !== 'string' || redirect === '' || redirect.length > 2048) return home;
  let url: URL;
  try {
    url = new URL(redirect, base);
  } catch {
    return home;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) return home;
  for (const host of [instance.domain, ...instance.aliases, requestHost(req)]) {
    const name = hostname(host);
    const port = host.slice(name.length + 1);
    if (url.port !== port) continue;
    if (url.hostname === name) return url.href;
    const sub = url.hostname.slice(0, -(name.length + 1));
    if (url.hostname.endsWith(`.${name}`) && /^[a-z0-9][a-z0-9-]{0,62}$/.test(sub)) return url.href;
    // flat app hosts: `<first>-<slug>.<rest>` beside the instance `<first>.<rest>`
    const dot = name.indexOf('.');
    if (subdomains === 'flat' && dot > 0) {
      const [first, rest] = [name.slice(0, dot), name.slice(dot)];
      const h = url.hostname;
      if (h.startsWith(`${first}-`) && h.endsWith(rest) && /^[a-z0-9][a-z0-9-]{0,62}$/.test(h.slice(first.length + 1, h.length - rest.length))) return url.href;
    }
  }
  return home;
}

const CORS_HEADERS = ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-expose-headers', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age'];

/**
 * cozy-stack disables CORS on /auth: drop what the global plugin added to the answers of this scope
 * (only those whose URL `applies`), and answer these paths' preflights bare.
 */
export function withoutCors(app: FastifyInstance, preflightPaths: string[], applies: (url: string) => boolean = () => true): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (applies(req.url)) for (const h of CORS_HEADERS) reply.removeHeader(h);
    return payload;
  });
  for (const p of preflightPaths) app.options(p, { schema: preflight }, async (_req, reply) => reply.code(204).send());
}

/** An HTML page of the stack (auth pages, settings/email-routes.ts), with its nonce-based CSP, never cached. */
export function htmlReply(req: FastifyRequest, reply: FastifyReply, status: number, nonce: string, html: string): FastifyReply {
  const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' ${req.protocol}://*.${requestHost(req)}`;
  return reply.code(status).header('Content-Security-Policy', csp).header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer')
    .type('text/html; charset=utf-8').send(html);
}
