/**
 * The pages of the passphrase flows, with the login page's look and languages: choosing a
 * passphrase (onboarding and reset; derived in the browser with the login page's code, a
 * strength meter), asking for a reset link, and short message pages (link sent, link expired…).
 */
import { CSS, DERIVE_JS, esc, ICON_LINK, type Lang } from './login-page.js';

const STRINGS = {
  en: {
    chooseTitle: 'Choose your passphrase', chooseHeading: 'Choose the passphrase of {name}',
    newLabel: 'New passphrase', confirmLabel: 'Confirm the passphrase', save: 'Save the passphrase', working: 'Saving…',
    tooShort: 'The passphrase needs at least 8 characters.', mismatch: 'The two passphrases differ.',
    strength: 'Strength:', weak: 'weak', fair: 'fair', strong: 'strong',
    hint: 'A few unrelated words make a long passphrase that is easy to remember.',
    nojs: 'This page needs JavaScript: your passphrase is derived in your browser and never sent in clear.',
    nocrypto: 'Your browser cannot derive the passphrase on this page (it needs HTTPS).',
    missing: 'Choose a passphrase.',
    csrf: 'This form has expired: reload the page and try again.',
    resetTitle: 'Forgotten passphrase', resetHeading: 'Forgotten passphrase of {name}',
    resetText: 'We can send a link to choose a new passphrase to the e-mail address of this instance. The link is valid for 15 minutes.',
    resetButton: 'Send me a link',
    sentTitle: 'Check your mailbox', sent: 'If this instance has an e-mail address, a link to choose a new passphrase was sent to it. It is valid for 15 minutes.',
    sentNext: 'Nothing after a few minutes? Look in your spam folder, then send the link again. If this instance has no e-mail address, ask the administrator of this server to help you in.',
    resend: 'Send the link again', backLogin: 'Back to the login page',
    rate: 'Too many requests: try again in {s} seconds.',
    badRegister: 'This link is not valid (anymore): the passphrase may already be chosen. Log in, or ask the administrator for a new link.',
    badRenew: 'This link has expired or was already used.', askAgain: 'Ask for a new link', login: 'Log in',
    errorTitle: 'Link not valid',
    mailSubject: 'Choose a new passphrase for {name}',
    mailText: 'Hello,\n\nSomeone (hopefully you) asked to reset the passphrase of {name}.\nOpen this link within 15 minutes to choose a new one:\n\n{link}\n\nIf it was not you, ignore this mail: your passphrase is unchanged.\n',
  },
  fr: {
    chooseTitle: 'Choisissez votre phrase de passe', chooseHeading: 'Choisissez la phrase de passe de {name}',
    newLabel: 'Nouvelle phrase de passe', confirmLabel: 'Confirmez la phrase de passe', save: 'Enregistrer la phrase de passe', working: 'Enregistrement…',
    tooShort: 'La phrase de passe doit compter au moins 8 caractères.', mismatch: 'Les deux phrases de passe diffèrent.',
    strength: 'Robustesse :', weak: 'faible', fair: 'moyenne', strong: 'forte',
    hint: 'Quelques mots sans rapport entre eux font une longue phrase de passe facile à retenir.',
    nojs: "Cette page a besoin de JavaScript : votre phrase de passe est dérivée dans votre navigateur et n'est jamais envoyée en clair.",
    nocrypto: 'Votre navigateur ne peut pas dériver la phrase de passe sur cette page (il faut HTTPS).',
    missing: 'Choisissez une phrase de passe.',
    csrf: 'Ce formulaire a expiré : rechargez la page et réessayez.',
    resetTitle: 'Phrase de passe oubliée', resetHeading: 'Phrase de passe oubliée de {name}',
    resetText: "Nous pouvons envoyer un lien pour choisir une nouvelle phrase de passe à l'adresse e-mail de cette instance. Le lien est valable 15 minutes.",
    resetButton: "M'envoyer un lien",
    sentTitle: 'Consultez votre messagerie', sent: 'Si cette instance a une adresse e-mail, un lien pour choisir une nouvelle phrase de passe lui a été envoyé. Il est valable 15 minutes.',
    sentNext: "Rien après quelques minutes ? Regardez dans vos courriers indésirables, puis renvoyez le lien. Si cette instance n'a pas d'adresse e-mail, demandez de l'aide à l'administrateur de ce serveur.",
    resend: 'Renvoyer le lien', backLogin: 'Retour à la page de connexion',
    rate: 'Trop de demandes : réessayez dans {s} secondes.',
    badRegister: "Ce lien n'est pas (ou plus) valable : la phrase de passe est peut-être déjà choisie. Connectez-vous, ou demandez un nouveau lien à l'administrateur.",
    badRenew: 'Ce lien a expiré ou a déjà servi.', askAgain: 'Demander un nouveau lien', login: 'Se connecter',
    errorTitle: 'Lien non valable',
    mailSubject: 'Choisissez une nouvelle phrase de passe pour {name}',
    mailText: "Bonjour,\n\nQuelqu'un (vous, espérons-le) a demandé à réinitialiser la phrase de passe de {name}.\nOuvrez ce lien dans les 15 minutes pour en choisir une nouvelle :\n\n{link}\n\nSi ce n'était pas vous, ignorez ce message : votre phrase de passe reste inchangée.\n",
  },
} as const;

export type PassphraseText = keyof (typeof STRINGS)['en'];

export function passphraseText(lang: Lang, key: PassphraseText, vars: Record<string, string | number> = {}): string {
  return STRINGS[lang][key].replace(/\{(\w+)\}/g, (_m, k: string) => String(vars[k] ?? ''));
}

const EXTRA_CSS = `label+input{margin-bottom:1rem}meter{width:100%;height:.8rem}.hint{font-size:.9rem;opacity:.8;margin:.2rem 0 0}
a.btn{display:block;text-align:center;margin-top:1rem;font-weight:600;padding:.75rem;border-radius:8px;background:#1d4ed8;color:#fff;text-decoration:none}`;

/** Strength: log2(charset size) × length, a rough entropy estimate; client-side refusals before deriving. */
const CHOOSE_SCRIPT = `(()=>{const f=document.getElementById('choose'),p=document.getElementById('password'),c=document.getElementById('confirm'),
e=document.getElementById('error'),m=document.getElementById('meter'),l=document.getElementById('strength'),b=f.querySelector('button'),d=f.dataset;
${DERIVE_JS}
function bits(s){let n=0;if(/[a-z]/.test(s))n+=26;if(/[A-Z]/.test(s))n+=26;if(/[0-9]/.test(s))n+=10;if(/[^A-Za-z0-9]/.test(s))n+=33;
return n?Math.round(s.length*Math.log2(n)):0;}
p.addEventListener('input',()=>{const x=bits(p.value);m.value=Math.min(x,100);l.textContent=x<50?d.weak:x<80?d.fair:d.strong;});
function bad(msg,el){e.textContent=msg;el.setAttribute('aria-invalid','true');el.focus();}
f.addEventListener('submit',async(ev)=>{ev.preventDefault();p.removeAttribute('aria-invalid');c.removeAttribute('aria-invalid');
if([...p.value].length<8)return bad(d.tooshort,p);if(p.value!==c.value)return bad(d.mismatch,c);
if(!window.crypto||!crypto.subtle){e.textContent=d.nocrypto;return;}
b.disabled=true;b.textContent=d.working;
try{f.elements.passphrase.value=await derive(p.value,d.salt,Number(d.iterations));p.value='';c.value='';f.submit();}
catch(x){b.disabled=false;e.textContent=d.nocrypto;}});})();`;

function shell(lang: Lang, nonce: string, title: string, name: string, body: string, script = ''): string {
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">${ICON_LINK}<title>${esc(title)} · ${esc(name)}</title><style nonce="${nonce}">${CSS}
${EXTRA_CSS}</style></head>
<body><main>${body}</main>${script ? `<script nonce="${nonce}">${script}</script>` : ''}</body></html>`;
}

export interface ChoosePage {
  lang: Lang;
  name: string;
  nonce: string;
  csrf: string;
  /** Where the form posts: /settings/passphrase (onboarding) or /auth/passphrase_renew (reset). */
  action: string;
  /** The hidden token field: `register_token` or `token`. */
  tokenField: string;
  token: string;
  salt: string;
  iterations: number;
  error: string | null;
}

export function renderChoosePage(o: ChoosePage): string {
  const t = (k: PassphraseText) => esc(passphraseText(o.lang, k));
  const err = o.error ? esc(o.error) : '';
  const body = `<h1>${esc(passphraseText(o.lang, 'chooseHeading', { name: o.name }))}</h1>
<p id="error" class="err" role="alert" aria-live="assertive">${err}</p>
<noscript><p class="err">${t('nojs')}</p></noscript>
<form id="choose" method="post" novalidate action="${esc(o.action)}" data-salt="${esc(o.salt)}" data-iterations="${o.iterations}" data-working="${t('working')}"
 data-tooshort="${t('tooShort')}" data-mismatch="${t('mismatch')}" data-nocrypto="${t('nocrypto')}" data-weak="${t('weak')}" data-fair="${t('fair')}" data-strong="${t('strong')}">
<label for="password">${t('newLabel')}</label>
<input id="password" type="password" autocomplete="new-password" minlength="8" required autofocus aria-describedby="error hint">
<label for="confirm">${t('confirmLabel')}</label>
<input id="confirm" type="password" autocomplete="new-password" minlength="8" required aria-describedby="error">
<label for="meter">${t('strength')} <span id="strength" aria-live="polite"></span></label>
<meter id="meter" min="0" max="100" low="50" high="80" optimum="100" value="0"></meter>
<p id="hint" class="hint">${t('hint')}</p>
<input type="hidden" name="passphrase" value="">
<input type="hidden" name="iterations" value="${o.iterations}">
<input type="hidden" name="${esc(o.tokenField)}" value="${esc(o.token)}">
<input type="hidden" name="csrf_token" value="${esc(o.csrf)}">
<button type="submit">${t('save')}</button>
</form>`;
  return shell(o.lang, o.nonce, passphraseText(o.lang, 'chooseTitle'), o.name, body, CHOOSE_SCRIPT);
}

export function renderResetPage(o: { lang: Lang; name: string; nonce: string; csrf: string; error: string | null }): string {
  const t = (k: PassphraseText) => esc(passphraseText(o.lang, k));
  const body = `<h1>${esc(passphraseText(o.lang, 'resetHeading', { name: o.name }))}</h1>
<p id="error" class="err" role="alert" aria-live="assertive">${o.error ? esc(o.error) : ''}</p>
<p>${t('resetText')}</p>
<form method="post" action="/auth/passphrase_reset"><input type="hidden" name="csrf_token" value="${esc(o.csrf)}">
<button type="submit">${t('resetButton')}</button></form>
<a class="below" href="/auth/login">${t('login')}</a>`;
  return shell(o.lang, o.nonce, passphraseText(o.lang, 'resetTitle'), o.name, body);
}

/** After a reset was asked: what happens next, a way to ask again, and the way back to the login page. */
export function renderSentPage(o: { lang: Lang; name: string; nonce: string; csrf: string }): string {
  const t = (k: PassphraseText) => esc(passphraseText(o.lang, k));
  const body = `<h1>${t('sentTitle')}</h1><p role="status">${t('sent')}</p><p>${t('sentNext')}</p>
<form method="post" action="/auth/passphrase_reset"><input type="hidden" name="csrf_token" value="${esc(o.csrf)}">
<button type="submit">${t('resend')}</button></form>
<a class="below" href="/auth/login">${t('backLogin')}</a>`;
  return shell(o.lang, o.nonce, passphraseText(o.lang, 'sentTitle'), o.name, body);
}

/** A page with a heading, a message and an optional link button. */
export function renderMessagePage(o: { lang: Lang; name: string; nonce: string; title: string; text: string; link?: { href: string; label: string } }): string {
  const body = `<h1>${esc(o.title)}</h1><p role="status">${esc(o.text)}</p>${o.link ? `<a class="btn" href="${esc(o.link.href)}">${esc(o.link.label)}</a>` : ''}`;
  return shell(o.lang, o.nonce, o.title, o.name, body);
}
