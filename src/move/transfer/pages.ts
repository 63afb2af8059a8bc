/**
 * The pages of a move between servers, in English or French by the instance locale, in the login page's look (phone
 * width, keyboard, dark mode): the target's passphrase page (/auth/authorize/move), the wizard on the source (the
 * target's address, then the summary that asks for the confirmation mail), and the one-message pages (check your mail,
 * errors, the vault, the moved instance's 410).
 */
import { CSS, DERIVE_JS, esc, ICON_LINK, type Lang } from '../../auth/login-page.js';

const STRINGS = {
  en: {
    authTitle: 'Move your data here', authHeading: 'Move another Hearth into {name}',
    authText: 'All the data of {name} will be replaced by the data of the Hearth you are moving from. Type the passphrase of {name} to accept.',
    label: 'Passphrase', accept: 'Accept the move', working: 'Checking…', missing: 'Type your passphrase.',
    nocrypto: 'Your browser cannot derive the passphrase on this page (it needs HTTPS).',
    wizardTitle: 'Move to another server', wizardHeading: 'Move {name} to another server',
    wizardText: 'Everything moves: documents, files with their versions, settings, apps and connectors. The new address must be a Hearth (or Cozy) instance that already exists, whose passphrase you know: its current data will be replaced.',
    targetLabel: 'Address of the new instance', targetHint: 'For example alice.example.org', next: 'Continue',
    usage: '{used} used here.', confirmTitle: 'Confirm the move', confirmHeading: 'Move {from} to {to}',
    confirmText: 'The new instance accepted. We will send you a mail to confirm: the move starts when you open its link. {to} has {quota}.',
    quotaNone: 'no storage limit', quotaOf: 'room for {quota}', send: 'Send me the confirmation mail',
    mailTitle: 'Check your mail', mailText: 'We sent a mail to {email}. Open the link it holds to start the move. The link is valid for one hour.',
    errorTitle: 'The move cannot go on', back: 'Back to the start',
    vaultTitle: 'Your passwords', vaultText: 'Hearth has no password manager: a password vault never moves with the data (it is encrypted end to end). If you kept one in another Cozy, export it there from its password manager and import it into the manager you use now.',
    movedTitle: 'This instance has moved', movedText: '{name} moved to another address. Your data is there now:',
  },
  fr: {
    authTitle: 'Déménager vos données ici', authHeading: 'Déménager un autre Hearth vers {name}',
    authText: 'Toutes les données de {name} seront remplacées par celles du Hearth que vous déménagez. Saisissez la phrase de passe de {name} pour accepter.',
    label: 'Phrase de passe', accept: 'Accepter le déménagement', working: 'Vérification…', missing: 'Saisissez votre phrase de passe.',
    nocrypto: 'Votre navigateur ne peut pas dériver la phrase de passe sur cette page (il faut HTTPS).',
    wizardTitle: 'Déménager vers un autre serveur', wizardHeading: 'Déménager {name} vers un autre serveur',
    wizardText: "Tout déménage : documents, fichiers avec leurs versions, paramètres, applications et connecteurs. La nouvelle adresse doit être une instance Hearth (ou Cozy) qui existe déjà et dont vous connaissez la phrase de passe : ses données actuelles seront remplacées.",
    targetLabel: 'Adresse de la nouvelle instance', targetHint: 'Par exemple alice.exemple.org', next: 'Continuer',
    usage: '{used} utilisés ici.', confirmTitle: 'Confirmer le déménagement', confirmHeading: 'Déménager {from} vers {to}',
    confirmText: "La nouvelle instance a accepté. Nous allons vous envoyer un mail de confirmation : le déménagement commence quand vous ouvrez son lien. {to} a {quota}.",
    quotaNone: 'un stockage sans limite', quotaOf: 'de la place pour {quota}', send: "M'envoyer le mail de confirmation",
    mailTitle: 'Consultez vos mails', mailText: "Nous avons envoyé un mail à {email}. Ouvrez le lien qu'il contient pour lancer le déménagement. Le lien est valable une heure.",
    errorTitle: 'Le déménagement ne peut pas continuer', back: 'Revenir au début',
    vaultTitle: 'Vos mots de passe', vaultText: "Hearth n'a pas de gestionnaire de mots de passe : un coffre de mots de passe ne déménage jamais avec les données (il est chiffré de bout en bout). Si vous en aviez un dans un autre Cozy, exportez-le depuis son gestionnaire et importez-le dans celui que vous utilisez maintenant.",
    movedTitle: 'Cette instance a déménagé', movedText: '{name} a déménagé à une autre adresse. Vos données y sont désormais :',
  },
} as const;

export type MoveText = keyof (typeof STRINGS)['en'];

export const say = (lang: Lang, key: MoveText, vars: Record<string, string> = {}): string =>
  STRINGS[lang][key].replace(/\{(\w+)\}/g, (_m, k: string) => vars[k] ?? '');

const EXTRA_CSS = 'h1,p{overflow-wrap:anywhere}p{margin:0 0 1rem}.hint{font-size:.9rem;opacity:.8;margin:.3rem 0 0}a.button{display:block;text-align:center;margin-top:1rem;padding:.75rem;border-radius:8px;background:#1d4ed8;color:#fff;font-weight:600;text-decoration:none}';

function frame(lang: Lang, nonce: string, title: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">${ICON_LINK}<title>${esc(title)}</title><style nonce="${nonce}">${CSS}${EXTRA_CSS}</style></head>
<body><main>${body}</main>${script ? `<script nonce="${nonce}">${script}</script>` : ''}</body></html>`;
}

/** Bytes in words a person reads (1.5 GB). */
export function humanBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** A page with a heading, a message and, optionally, a link. */
export function messagePage(lang: Lang, nonce: string, o: { title: MoveText; text: string; link?: { href: string; label: string }; alert?: boolean }): string {
  const title = say(lang, o.title);
  const text = `<p${o.alert ? ' class="err" role="alert"' : ''}>${esc(o.text)}</p>`;
  const link = o.link ? `<a class="button" href="${esc(o.link.href)}">${esc(o.link.label)}</a>` : '';
  return frame(lang, nonce, title, `<h1>${esc(title)}</h1>${text}${link}`);
}

const AUTH_SCRIPT = `(()=>{const f=document.getElementById('move'),p=document.getElementById('password'),e=document.getElementById('error'),b=f.querySelector('button');
${DERIVE_JS}
f.addEventListener('submit',async(ev)=>{ev.preventDefault();if(!p.value){e.textContent=f.dataset.missing;p.setAttribute('aria-invalid','true');p.focus();return;}
if(!window.crypto||!crypto.subtle){e.textContent=f.dataset.nocrypto;return;}
const label=b.textContent;b.disabled=true;b.textContent=f.dataset.working;
try{const body={passphrase:await derive(p.value,f.dataset.salt,Number(f.dataset.iterations)),state:f.dataset.state,client_id:f.dataset.client,redirect_uri:f.dataset.redirect};
const r=await fetch(f.action,{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify(body),credentials:'same-origin'});
const j=await r.json().catch(()=>({}));if(r.ok&&j.redirect){location.href=j.redirect;return;}
e.textContent=j.message||j.error||r.statusText;p.setAttribute('aria-invalid','true');p.value='';p.focus();}
catch(x){e.textContent=f.dataset.nocrypto;}b.disabled=false;b.textContent=label;});})();`;

/** The target's consent (GET /auth/authorize/move): the passphrase, derived in the browser, posted as JSON. */
export function authorizeMovePage(lang: Lang, nonce: string, o: { name: string; salt: string; iterations: number; state: string; clientId: string; redirectUri: string }): string {
  const v = { name: o.name };
  return frame(lang, nonce, say(lang, 'authTitle'), `<h1>${esc(say(lang, 'authHeading', v))}</h1><p>${esc(say(lang, 'authText', v))}</p>
<p id="error" class="err" role="alert" aria-live="assertive"></p>
<form id="move" method="post" novalidate action="/auth/authorize/move" data-salt="${esc(o.salt)}" data-iterations="${o.iterations}" data-state="${esc(o.state)}"
 data-client="${esc(o.clientId)}" data-redirect="${esc(o.redirectUri)}" data-working="${esc(say(lang, 'working'))}" data-missing="${esc(say(lang, 'missing'))}" data-nocrypto="${esc(say(lang, 'nocrypto'))}">
<label for="password">${esc(say(lang, 'label'))}</label>
<input id="password" type="password" autocomplete="current-password" required autofocus aria-describedby="error">
<button type="submit">${esc(say(lang, 'accept'))}</button></form>`, AUTH_SCRIPT);
}

const hidden = (fields: Record<string, string>) => Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');

/** The wizard's first step on the source: the address of the target. */
export function wizardPage(lang: Lang, nonce: string, o: { name: string; used: number; fields: Record<string, string>; error?: string; target?: string }): string {
  return frame(lang, nonce, say(lang, 'wizardTitle'), `<h1>${esc(say(lang, 'wizardHeading', { name: o.name }))}</h1><p>${esc(say(lang, 'wizardText'))}</p>
<p>${esc(say(lang, 'usage', { used: humanBytes(o.used) }))}</p>
<p id="error" class="err" role="alert" aria-live="assertive">${esc(o.error ?? '')}</p>
<form method="post" action="/move/wizard/target">${hidden(o.fields)}
<label for="target">${esc(say(lang, 'targetLabel'))}</label>
<input id="target" name="target" type="text" inputmode="url" autocomplete="url" autocapitalize="none" spellcheck="false" required autofocus aria-describedby="target-hint error" value="${esc(o.target ?? '')}"${o.error ? ' aria-invalid="true"' : ''}>
<p id="target-hint" class="hint">${esc(say(lang, 'targetHint'))}</p>
<button type="submit">${esc(say(lang, 'next'))}</button></form>`);
}

/** The wizard's summary: the form that posts the request (POST /move/request) and gets the confirmation mail sent. */
export function confirmPage(lang: Lang, nonce: string, o: { from: string; to: string; quota: number | null; fields: Record<string, string> }): string {
  const quota = o.quota === null ? say(lang, 'quotaNone') : say(lang, 'quotaOf', { quota: humanBytes(o.quota) });
  return frame(lang, nonce, say(lang, 'confirmTitle'), `<h1>${esc(say(lang, 'confirmHeading', { from: o.from, to: o.to }))}</h1>
<p>${esc(say(lang, 'confirmText', { to: o.to, quota }))}</p>
<form method="post" action="/move/request">${hidden(o.fields)}<button type="submit" autofocus>${esc(say(lang, 'send'))}</button></form>`);
}
