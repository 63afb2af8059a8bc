/**
 * The stack's HTML error pages, for a person's browser: an unknown route on an instance, a Host of no instance, an app
 * host whose app is not installed (404) or not ready (503). They have the look of the auth pages (auth/login-page.ts),
 * speak the instance's language (else the browser's), say what happened and what to do, and link back home (the
 * instance's default app when it is installed, else its root). JSON clients and API paths keep cozy's JSON errors:
 * a page is only for a GET or HEAD whose Accept asks for HTML and no JSON, outside the API's paths.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HearthError } from '../common/errors.js';
import type { Instance } from '../instances/types.js';
import { splitAppHost, type SubdomainMode } from '../apps/hosts.js';
import { CSS, esc, langOf, type Lang } from '../auth/login-page.js';

type Kind = 'notFound' | 'noInstance' | 'appMissing' | 'notReady' | 'unavailable';

const STRINGS: Record<Lang, Record<Kind, [string, string, string]> & { home: string; retry: string }> = {
  en: {
    notFound: ['Page not found', 'There is nothing at this address on {name}.', 'Check the address, or go back to your home.'],
    noInstance: ['No Hearth here', 'No Hearth instance is served at {name}.', 'Check the address you typed. If you run this server, create the instance with “hearth instances add”.'],
    appMissing: ['{app} is not installed', 'The app “{app}” is not installed on {name}.', 'Install it from the Store, or go back to your home.'],
    notReady: ['{app} is not ready', 'The app “{app}” is being installed or updated, or its last installation failed.', 'Wait a moment, then try again. If it stays like this, reinstall it from the Store.'],
    unavailable: ['Temporarily unavailable', '{name} cannot show this page right now.', 'Wait a moment, then try again.'],
    home: 'Back to home', retry: 'Try again',
  },
  fr: {
    notFound: ['Page introuvable', 'Il n’y a rien à cette adresse sur {name}.', 'Vérifiez l’adresse, ou revenez à votre accueil.'],
    noInstance: ['Aucun Hearth ici', 'Aucune instance Hearth n’est servie à l’adresse {name}.', 'Vérifiez l’adresse saisie. Si vous administrez ce serveur, créez l’instance avec « hearth instances add ».'],
    appMissing: ['{app} n’est pas installée', 'L’application « {app} » n’est pas installée sur {name}.', 'Installez-la depuis le Store, ou revenez à votre accueil.'],
    notReady: ['{app} n’est pas prête', 'L’application « {app} » est en cours d’installation ou de mise à jour, ou sa dernière installation a échoué.', 'Patientez un instant, puis réessayez. Si cela dure, réinstallez-la depuis le Store.'],
    unavailable: ['Momentanément indisponible', '{name} ne peut pas afficher cette page pour le moment.', 'Patientez un instant, puis réessayez.'],
    home: 'Retour à l’accueil', retry: 'Réessayer',
  },
};

/** The first segments of the API's paths: errors there stay JSON whatever the Accept header says. */
const API = new Set(['data', 'files', 'apps', 'konnectors', 'jobs', 'settings', 'permissions', 'realtime', 'notifications', 'registry', 'intents',
  'sharings', 'contacts', 'shortcuts', 'oauth', 'auth', 'public', 'dav', 'remote', 'status', 'version', 'assets', 'instances', '.well-known', 'connection_check', 'openapi.json']);

const PAGE_CSS = `${CSS}
.code{margin:0 0 .25rem;font-size:.9rem;color:#4b5366}p{margin:0 0 .75rem}
a.button{display:block;margin-top:1.5rem;text-align:center;font-weight:600;padding:.75rem;border-radius:8px;background:#1d4ed8;color:#fff;text-decoration:none}
@media (prefers-color-scheme:dark){.code{color:#b8bfce}}`;

export interface ErrorPageDeps {
  subdomains: SubdomainMode;
  /** The URL of the instance's default app when it is installed (apps/serve's defaultApp), else null. */
  defaultApp(instance: Instance, req: { protocol: string; headers: { host?: string } }): Promise<string | null>;
  /** Whether a web app is installed on the instance. */
  installed(instance: Instance, slug: string): Promise<boolean>;
}

/** Whether `req` is a browser asking for a page (not an API client, not an API path). */
export function wantsPage(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const accept = String(req.headers.accept ?? '').toLowerCase();
  if (!accept.includes('text/html') || accept.includes('json')) return false;
  if (req.appHost) return true;
  const first = (req.url.split('?')[0] ?? '').split('/')[1] ?? '';
  return !API.has(first);
}

/** The browser's language among ours (Accept-Language, by its order of preference), English by default. */
export function browserLang(header: string | undefined): Lang {
  const tags = String(header ?? '').split(',').map((part, i) => {
    const [tag = '', ...params] = part.trim().toLowerCase().split(';');
    const q = Number(params.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? 1);
    return { lang: tag.split('-')[0], q: Number.isFinite(q) ? q : 0, i };
  });
  tags.sort((a, b) => b.q - a.q || a.i - b.i);
  return tags.find((t) => t.q > 0 && (t.lang === 'fr' || t.lang === 'en'))?.lang === 'fr' ? 'fr' : 'en';
}

/** Sends the page for `err` when `req` wants one and there is one for its status; false otherwise (the caller sends JSON). */
export async function sendErrorPage(err: HearthError, req: FastifyRequest, reply: FastifyReply, deps: ErrorPageDeps): Promise<boolean> {
  if ((err.status !== 404 && err.status !== 503) || !wantsPage(req)) return false;
  const host = String(req.headers.host ?? '').toLowerCase().slice(0, 300);
  const instance = req.instance;
  const split = req.appHost ? splitAppHost(host, deps.subdomains) : null;
  const instanceHost = split?.instanceHost ?? host;
  let kind: Kind;
  if (!instance) kind = 'noInstance';
  else if (err.status === 503) kind = split ? 'notReady' : 'unavailable';
  else kind = split && !(await deps.installed(instance, split.slug)) ? 'appMissing' : 'notFound';
  const lang = instance ? langOf(instance.locale) : browserLang(req.headers['accept-language'] as string | undefined);
  const s = STRINGS[lang];
  const fill = (text: string) => esc(text.replace('{name}', instanceHost || '?').replace('{app}', split?.slug ?? ''));
  const [title, what, todo] = s[kind];
  const scheme = req.protocol === 'https' ? 'https' : 'http';
  const home = instance ? ((await deps.defaultApp(instance, { protocol: req.protocol, headers: { host: instanceHost } })) ?? `${scheme}://${instanceHost}/`) : null;
  const links = [
    ...(err.status === 503 ? [`<a class="button" href="${esc(req.url)}">${esc(s.retry)}</a>`] : []),
    ...(home ? [`<a class="${err.status === 503 ? 'below' : 'button'}" href="${esc(home)}">${esc(s.home)}</a>`] : []),
  ];
  const nonce = randomBytes(16).toString('base64');
  const html = `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${fill(title)}</title><style nonce="${nonce}">${PAGE_CSS}</style></head>
<body><main><p class="code">${err.status === 404 ? (lang === 'fr' ? 'Erreur 404' : 'Error 404') : (lang === 'fr' ? 'Erreur 503' : 'Error 503')}</p>
<h1>${fill(title)}</h1><p>${fill(what)}</p><p>${fill(todo)}</p>${links.join('')}</main></body></html>`;
  for (const [k, v] of Object.entries(err.headers)) void reply.header(k, v);
  if (err.status === 503) void reply.header('Retry-After', '5');
  void reply.code(err.status)
    .header('Content-Security-Policy', `default-src 'none'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`)
    .header('Cache-Control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
  return true;
}
