/**
 * GET /auth/security — the owner's Security page (auth/security-page.ts), with a session only:
 * without one, to the login page, which comes back here. Registered in the /auth plugin, so it
 * answers without CORS like the other pages.
 */
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { instanceOf } from '../data/http/context.js';
import type { TwoFactorStore } from '../instances/types.js';
import { langOf } from './login-page.js';
import { passphraseSalt } from './passphrase.js';
import { security } from './schemas.js';
import { renderSecurityPage } from './security-page.js';
import { currentSession, type SessionDeps } from './session-http.js';

export interface SecurityDeps extends SessionDeps {
  twoFactor: TwoFactorStore;
}

export const SECURITY_PATH = '/auth/security';

export function registerSecurityPage(app: FastifyInstance, deps: SecurityDeps): void {
  app.get(SECURITY_PATH, { schema: security }, async (req, reply) => {
    const instance = instanceOf(req);
    if (!(await currentSession(deps, instance, req))) {
      return reply.code(303).header('Location', `/auth/login?redirect=${SECURITY_PATH}`).header('Cache-Control', 'no-store').send();
    }
    const nonce = randomBytes(16).toString('base64');
    const html = renderSecurityPage({
      lang: langOf(instance.locale), name: instance.publicName ?? instance.domain, domain: instance.domain, nonce,
      mode: (await deps.twoFactor.twoFactor(instance)).authMode, sessions: (await deps.sessions.list(instance, 'web')).length,
      appSessions: (await deps.sessions.list(instance, 'app-token')).length,
      salt: passphraseSalt(instance.domain), iterations: instance.kdfIterations,
    });
    // The script only talks to this origin; no forms are posted (fetch), and nothing may frame the page.
    const csp = `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
    return reply.header('Content-Security-Policy', csp).header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer')
      .type('text/html; charset=utf-8').send(html);
  });
}
