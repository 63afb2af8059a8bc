/**
 * The page of a password-protected share link (§2 step 10): 401, the look of the auth pages (auth/login-page.ts's
 * CSS, light and dark, phone width), in English or French by the instance locale. Its script posts the password to
 * the instance's `/auth/share-by-link/password` (which sets the `pass<perm id>` cookie), then reloads the link; each
 * refusal (wrong password, link gone, too many tries, no network) is said in words, in an alert, and the focus goes
 * back to the field. Its own CSP: only its nonce'd script and style, and requests to the instance.
 */
import type { FastifyReply } from 'fastify';
import { randomBytes } from 'node:crypto';
import { CSS, esc, langOf } from '../../auth/login-page.js';
import type { Instance } from '../../instances/types.js';

const STRINGS = {
  en: {
    title: 'Password required', heading: 'This link is protected',
    help: 'The person who shared it with you also gave you a password: type it to open the link.',
    label: 'Password', submit: 'Open', working: 'Checking…', missing: 'Type the password.',
    wrong: 'Wrong password. Check it with the person who shared the link, then try again.',
    gone: 'This link does not exist any more or has expired: ask the person who shared it for a new one.',
    rate: 'Too many tries: wait a minute, then try again.',
    network: 'The server could not be reached: check your connection and try again.',
    failed: 'Something went wrong on the server: try again in a moment.',
    nojs: 'This page needs JavaScript to open the link.',
  },
  fr: {
    title: 'Mot de passe requis', heading: 'Ce lien est protégé',
    help: 'La personne qui vous l’a partagé vous a aussi donné un mot de passe : saisissez-le pour ouvrir le lien.',
    label: 'Mot de passe', submit: 'Ouvrir', working: 'Vérification…', missing: 'Saisissez le mot de passe.',
    wrong: 'Mot de passe incorrect. Vérifiez-le auprès de la personne qui a partagé le lien, puis réessayez.',
    gone: 'Ce lien n’existe plus ou a expiré : demandez-en un nouveau à la personne qui l’a partagé.',
    rate: 'Trop d’essais : attendez une minute, puis réessayez.',
    network: 'Le serveur est injoignable : vérifiez votre connexion et réessayez.',
    failed: 'Un problème est survenu sur le serveur : réessayez dans un instant.',
    nojs: 'Cette page a besoin de JavaScript pour ouvrir le lien.',
  },
} as const;

type Messages = (typeof STRINGS)['en'];
const STATUS: Record<number, keyof Messages> = { 403: 'wrong', 404: 'gone', 429: 'rate' };

const EXTRA = 'p.help{margin:0 0 1rem}';

function script(url: string): string {
  return `(()=>{const f=document.getElementById('f'),p=document.getElementById('password'),e=document.getElementById('error'),b=f.querySelector('button'),d=f.dataset;
const say=(m)=>{e.textContent=m;p.setAttribute('aria-invalid','true');b.disabled=false;b.textContent=d.submit;p.focus();p.select();};
f.addEventListener('submit',async(ev)=>{ev.preventDefault();if(!p.value){say(d.missing);return;}
b.disabled=true;b.textContent=d.working;let r;
try{r=await fetch(${JSON.stringify(url).replace(/</g, '\\u003c')},{method:'POST',credentials:'include',body:new URLSearchParams(new FormData(f))});}catch(x){say(d.network);return;}
if(r.ok){location.reload();return;}say(d[${JSON.stringify(STATUS)}[r.status]]||d.failed);});})();`;
}

export function passwordPage(reply: FastifyReply, r: { instanceHost: string; instance: Pick<Instance, 'locale'> }, scheme: string, permId: string): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const api = `${scheme}://${r.instanceHost}`;
  const url = `${api}/auth/share-by-link/password`;
  const lang = langOf(r.instance.locale);
  const s = STRINGS[lang];
  const data = (['submit', 'working', 'missing', 'wrong', 'gone', 'rate', 'network', 'failed'] as const).map((k) => ` data-${k}="${esc(s[k])}"`).join('');
  const html = `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><link rel="icon" href="${esc(`${api}/favicon.ico`)}" sizes="16x16 32x32 48x48">
<title>${esc(s.title)}</title><style nonce="${nonce}">${CSS}${EXTRA}</style></head>
<body><main><h1>${esc(s.heading)}</h1>
<p id="error" class="err" role="alert" aria-live="assertive"></p>
<noscript><p class="err">${esc(s.nojs)}</p></noscript>
<p class="help" id="help">${esc(s.help)}</p>
<form id="f" method="post" novalidate action="${esc(url)}"${data}>
<input type="hidden" name="perm_id" value="${esc(permId)}">
<label for="password">${esc(s.label)}</label>
<input id="password" type="password" name="password" autocomplete="current-password" required autofocus aria-describedby="help error">
<button type="submit">${esc(s.submit)}</button>
</form></main><script nonce="${nonce}">${script(url)}</script></body></html>`;
  return reply.code(401)
    .header('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; img-src ${api}; connect-src ${api}; form-action ${api}; base-uri 'none'; frame-ancestors 'none'`)
    .header('Cache-Control', 'private, no-store').type('text/html; charset=UTF-8').send(html);
}
