/**
 * The OAuth consent page (GET /auth/authorize) and its error page, in English or French by the
 * instance locale, in the login page's look. No script: a plain form, Refuse being the default
 * button (the first one, taken by Enter). Requested rights are said in plain words.
 */
import { CSS as LOGIN_CSS, esc, ICON_LINK, type Lang } from '../auth/login-page.js';
import type { Rule } from '../permissions/rules.js';

const STRINGS = {
  en: {
    title: 'Authorize an application', heading: '{client} wants to access {name}', rights: 'It asks to:',
    from: 'Published at', accept: 'Accept', refuse: 'Refuse', errorTitle: 'Authorization error',
    read: 'Read your {what}', write: 'Read and modify your {what}', create: 'Add to your {what}', delete: 'Delete from your {what}',
    generic: '{verbs} on {doctype}', some: ' (some documents only)',
    note: 'You can revoke this access at any time in your settings.',
  },
  fr: {
    title: 'Autoriser une application', heading: '{client} souhaite accéder à {name}', rights: 'Elle demande à :',
    from: 'Publiée sur', accept: 'Accepter', refuse: 'Refuser', errorTitle: "Erreur d'autorisation",
    read: 'Lire vos {what}', write: 'Lire et modifier vos {what}', create: 'Ajouter à vos {what}', delete: 'Supprimer de vos {what}',
    generic: '{verbs} sur {doctype}', some: ' (certains documents seulement)',
    note: 'Vous pouvez révoquer cet accès à tout moment dans vos paramètres.',
  },
} as const;

/** Plain names of well-known doctypes. */
const DOCTYPES: Record<string, { en: string; fr: string }> = {
  'io.cozy.contacts': { en: 'contacts', fr: 'contacts' },
  'io.cozy.notes': { en: 'notes', fr: 'notes' },
  'io.cozy.files': { en: 'files', fr: 'fichiers' },
  'io.cozy.photos.albums': { en: 'photo albums', fr: 'albums photo' },
  'io.cozy.calendar.events': { en: 'calendar events', fr: 'événements du calendrier' },
  'io.cozy.bank.*': { en: 'bank data', fr: 'données bancaires' },
  'io.cozy.bank.operations': { en: 'bank operations', fr: 'opérations bancaires' },
  'io.cozy.bank.accounts': { en: 'bank accounts', fr: 'comptes bancaires' },
  'io.cozy.todos': { en: 'to-do lists', fr: 'listes de tâches' },
  'io.cozy.bookmarks': { en: 'bookmarks', fr: 'marque-pages' },
};

const fill = (t: string, vars: Record<string, string>) => t.replace(/\{(\w+)\}/g, (_m, k: string) => vars[k] ?? '');

/** One rule in plain words: "Read your notes", "Read and modify your contacts", or "GET, POST on x.y". */
export function describeRule(lang: Lang, rule: Rule): string {
  const s = STRINGS[lang];
  const verbs = rule.verbs?.length ? rule.verbs : null;
  const some = rule.values?.length ? s.some : '';
  const what = DOCTYPES[rule.type]?.[lang];
  if (what) {
    const only = (v: string[]) => verbs !== null && verbs.length === v.length && v.every((x) => verbs.includes(x as never));
    if (verbs === null || only(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])) return fill(s.write, { what }) + some;
    if (only(['GET'])) return fill(s.read, { what }) + some;
    if (only(['POST'])) return fill(s.create, { what }) + some;
    if (only(['DELETE'])) return fill(s.delete, { what }) + some;
  }
  return fill(s.generic, { verbs: verbs ? verbs.join(', ') : 'GET, POST, PUT, PATCH, DELETE', doctype: rule.type }) + some;
}

/** The login page's style, plus what the consent page adds (two buttons, a list, muted notes). */
const CSS = `${LOGIN_CSS}
main{width:min(28rem,100% - 2rem)}h1{margin-bottom:1rem}ul{padding-left:1.2rem}.muted{color:#5b6476;font-size:.9rem}
.buttons{display:flex;gap:.75rem;margin-top:1.5rem}.buttons button{flex:1;width:auto;margin:0;border:2px solid #1d4ed8}
.buttons button.refuse{background:transparent;color:#1d4ed8}.err{margin:0}
@media (prefers-color-scheme:dark){.muted{color:#aab2c3}.buttons button.refuse{color:#93b4ff;border-color:#93b4ff}}`;

function frame(lang: Lang, nonce: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">${ICON_LINK}<title>${esc(title)}</title><style nonce="${nonce}">${CSS}</style></head>
<body><main>${body}</main></body></html>`;
}

export interface ConsentPage {
  lang: Lang;
  nonce: string;
  name: string;
  clientName: string;
  clientUri: string | null;
  rules: Rule[];
  csrf: string;
  /** The authorize parameters, posted back as hidden fields. */
  fields: Record<string, string>;
}

export function renderConsentPage(o: ConsentPage): string {
  const s = STRINGS[o.lang];
  const uri = o.clientUri ? `<p class="muted">${esc(s.from)} <a href="${esc(o.clientUri)}" rel="noopener noreferrer">${esc(o.clientUri)}</a></p>` : '';
  const rights = o.rules.map((r) => `<li>${esc(describeRule(o.lang, r))}</li>`).join('');
  const hidden = Object.entries({ ...o.fields, csrf_token: o.csrf })
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('\n');
  return frame(o.lang, o.nonce, `${s.title} · ${o.name}`, `<h1>${esc(fill(s.heading, { client: o.clientName, name: o.name }))}</h1>${uri}
<p>${esc(s.rights)}</p><ul>${rights}</ul><p class="muted">${esc(s.note)}</p>
<form method="post" action="/auth/authorize">
${hidden}
<div class="buttons"><button type="submit" name="approve" value="refuse" class="refuse" autofocus>${esc(s.refuse)}</button>
<button type="submit" name="approve" value="accept">${esc(s.accept)}</button></div>
</form>`);
}

export function renderErrorPage(lang: Lang, nonce: string, message: string): string {
  const s = STRINGS[lang];
  return frame(lang, nonce, s.errorTitle, `<h1>${esc(s.errorTitle)}</h1><p class="err" role="alert">${esc(message)}</p>`);
}
