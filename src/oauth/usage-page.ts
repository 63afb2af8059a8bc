/** The owner's page when more device clients are connected than the flag `cozy.oauthclients.max` allows. */
import { CSS, esc, ICON_LINK, langOf } from '../auth/login-page.js';

const STRINGS = {
  en: { title: 'Too many connected devices', body: '{count} devices are connected to your space, and it allows {limit}. Disconnect the ones you no longer use to connect a new one.', manage: 'Manage my devices' },
  fr: { title: 'Trop d\'appareils connectés', body: '{count} appareils sont connectés à votre espace, qui en autorise {limit}. Déconnectez ceux que vous n\'utilisez plus pour en connecter un nouveau.', manage: 'Gérer mes appareils' },
} as const;

export function limitExceededPage(o: { locale: string; count: number; limit: number; manage: string; newTab: boolean; nonce: string }): string {
  const lang = langOf(o.locale);
  const s = STRINGS[lang];
  const body = s.body.replace('{count}', String(o.count)).replace('{limit}', String(o.limit));
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${ICON_LINK}<title>${esc(s.title)}</title><style nonce="${o.nonce}">${CSS}</style></head>
<body><main><h1>${esc(s.title)}</h1><p id="usage">${esc(body)}</p>
<p><a id="manage" href="${esc(o.manage)}"${o.newTab ? ' target="_blank" rel="noopener"' : ''}>${esc(s.manage)}</a></p></main></body></html>`;
}
