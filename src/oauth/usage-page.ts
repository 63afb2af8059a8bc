/**
 * The owner's page when more device clients are connected than the flag `cozy.oauthclients.max` allows (cozy-stack's
 * oauth_clients_limit_exceeded.html): the limit, the connected devices each with a button that disconnects it
 * (POST /auth/clients/disconnect, then back to the page that asked, which continues once there is room), and the
 * settings app's list. No script: plain forms, so keyboard and narrow screens need nothing more.
 */
import { CSS, esc, ICON_LINK, langOf } from '../auth/login-page.js';
import type { OAuthClient } from './clients.js';

const STRINGS = {
  en: {
    title: 'Too many connected devices', body: '{count} devices are connected to your space, and it allows {limit}. Disconnect the ones you no longer use to connect a new one.',
    manage: 'Manage my devices', list: 'Connected devices', disconnect: 'Disconnect', disconnectOne: 'Disconnect {name}', used: 'last used {date}', never: 'never used',
    kinds: { desktop: 'computer', mobile: 'phone', browser: 'browser' } as Record<string, string>,
  },
  fr: {
    title: 'Trop d\'appareils connectés', body: '{count} appareils sont connectés à votre espace, qui en autorise {limit}. Déconnectez ceux que vous n\'utilisez plus pour en connecter un nouveau.',
    manage: 'Gérer mes appareils', list: 'Appareils connectés', disconnect: 'Déconnecter', disconnectOne: 'Déconnecter {name}', used: 'utilisé le {date}', never: 'jamais utilisé',
    kinds: { desktop: 'ordinateur', mobile: 'téléphone', browser: 'navigateur' } as Record<string, string>,
  },
} as const;

const PAGE_CSS = `${CSS}
main{width:min(30rem,100% - 2rem)}ul{list-style:none;padding:0;margin:0 0 1rem}li{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem;padding:.6rem 0;border-top:1px solid #8a93a655}
li div{flex:1 1 12rem;min-width:0;overflow-wrap:anywhere}li small{display:block;color:#5b6478}li form{margin:0}li button{margin:0;width:auto;padding:.5rem .9rem}
h2{font-size:1.05rem;margin:1.2rem 0 .4rem}@media (prefers-color-scheme:dark){li small{color:#aeb6c6}}`;

export interface LimitExceededPage {
  locale: string;
  count: number;
  limit: number;
  /** The settings app's list of devices. */
  manage: string;
  newTab: boolean;
  nonce: string;
  /** The devices that can be disconnected here (the one being authorized is left out). */
  devices: OAuthClient[];
  /** The form's CSRF token (auth/csrf.ts) and where the disconnection comes back to (a path of the instance). */
  csrf: string;
  back: string;
}

function deviceItem(c: OAuthClient, s: (typeof STRINGS)['en' | 'fr'], lang: string, o: LimitExceededPage): string {
  const last = c.synchronized_at ?? c.last_refreshed_at;
  const date = last ? new Date(last).toLocaleDateString(lang, { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' }) : null;
  const kind = s.kinds[c.client_kind ?? ''] ?? c.client_kind ?? '';
  const detail = [kind, date ? s.used.replace('{date}', date) : s.never].filter(Boolean).join(' · ');
  return `<li><div><strong>${esc(c.client_name)}</strong><small>${esc(detail)}</small></div>
<form method="post" action="/auth/clients/disconnect"><input type="hidden" name="csrf_token" value="${esc(o.csrf)}"><input type="hidden" name="client_id" value="${esc(c.client_id)}">`
    + `<input type="hidden" name="back" value="${esc(o.back)}"><button type="submit" aria-label="${esc(s.disconnectOne.replace('{name}', c.client_name))}">${esc(s.disconnect)}</button></form></li>`;
}

export function limitExceededPage(o: LimitExceededPage): string {
  const lang = langOf(o.locale);
  const s = STRINGS[lang];
  const body = s.body.replace('{count}', String(o.count)).replace('{limit}', String(o.limit));
  const list = o.devices.length ? `<h2 id="devices-title">${esc(s.list)}</h2><ul id="devices" aria-labelledby="devices-title">${o.devices.map((c) => deviceItem(c, s, lang, o)).join('\n')}</ul>` : '';
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${ICON_LINK}<title>${esc(s.title)}</title><style nonce="${o.nonce}">${PAGE_CSS}</style></head>
<body><main><h1>${esc(s.title)}</h1><p id="usage">${esc(body)}</p>${list}
<p><a id="manage" href="${esc(o.manage)}"${o.newTab ? ' target="_blank" rel="noopener"' : ''}>${esc(s.manage)}</a></p></main></body></html>`;
}
