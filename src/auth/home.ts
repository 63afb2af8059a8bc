/**
 * GET / — as cozy-stack: to the login page without a session; with one, the home. There are no apps
 * yet (they come with the apps issue), so the home is a small page saying where the data is and how
 * to log out.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import type { Instance } from '../instances/types.js';
import { CSS, esc, ICON_LINK, langOf, type Lang } from './login-page.js';
import { home } from './schemas.js';
import { currentSession, type SessionDeps } from './session-http.js';

const STRINGS = {
  en: { title: 'Home', hello: 'Hello {name}', body: 'Your data lives at {domain}. Apps will appear here once installed.', logout: 'Log out', sessions: 'Active sessions: {n}', security: 'Security: passphrase, two-factor authentication, sessions' },
  fr: { title: 'Accueil', hello: 'Bonjour {name}', body: 'Vos données sont sur {domain}. Les applications apparaîtront ici une fois installées.', logout: 'Se déconnecter', sessions: 'Sessions actives : {n}', security: 'Sécurité : phrase de passe, authentification à deux facteurs, sessions' },
} as const;

const SCRIPT = `document.getElementById('logout').addEventListener('click',async()=>{await fetch('/auth/login',{method:'DELETE',credentials:'same-origin'});location.href='/auth/login'});`;

function page(lang: Lang, instance: Instance, sessions: number, nonce: string): string {
  const s = STRINGS[lang];
  const name = instance.publicName ?? instance.domain;
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${ICON_LINK}<title>${esc(s.title)} · ${esc(name)}</title><style nonce="${nonce}">${CSS}</style></head>
<body><main><h1>${esc(s.hello.replace('{name}', name))}</h1>
<p>${esc(s.body.replace('{domain}', instance.domain))}</p><p>${esc(s.sessions.replace('{n}', String(sessions)))}</p>
<p><a id="security" href="/auth/security">${esc(s.security)}</a></p>
<button type="button" id="logout">${esc(s.logout)}</button></main><script nonce="${nonce}">${SCRIPT}</script></body></html>`;
}

export interface HomeDeps extends SessionDeps {
  /** The URL of the instance's `default_redirection` app when it is installed (apps/serve), else null. */
  defaultApp?(instance: Instance, req: FastifyRequest): Promise<string | null>;
}

export function registerHome(app: FastifyInstance, deps: HomeDeps): void {
  app.get<{ Querystring: { registerToken?: string } }>('/', { schema: home }, async (req, reply) => {
    const instance = req.instance;
    if (!instance) return reply.code(404).send();
    if (!instance.onboarded) {
      const token = typeof req.query.registerToken === 'string' ? `?registerToken=${encodeURIComponent(req.query.registerToken)}` : '';
      return reply.code(303).header('Location', `/auth/passphrase${token}`).send();
    }
    const session = await currentSession(deps, instance, req);
    if (!session) return reply.code(303).header('Location', '/auth/login').send();
    // cozy-stack: the owner goes to the default app; until one is installed, Hearth's small home page
    const target = deps.defaultApp ? await deps.defaultApp(instance, req) : null;
    if (target) return reply.code(303).header('Location', target).send();
    const nonce = randomBytes(16).toString('base64');
    return reply
      .header('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src 'self'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'`)
      .header('Cache-Control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(page(langOf(instance.locale), instance, (await deps.sessions.list(instance, 'web')).length, nonce));
  });
}
