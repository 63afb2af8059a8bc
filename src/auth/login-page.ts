/**
 * The server-rendered login page, in English or French by the instance locale. Its only script
 * (allowed by a per-response CSP nonce) derives the passphrase with WebCrypto as auth/passphrase.ts
 * does, so the clear password never leaves the browser.
 */
const STRINGS = {
  en: {
    title: 'Log in', heading: 'Log in to {name}', label: 'Passphrase', submit: 'Log in', working: 'Checking…',
    wrong: 'Wrong passphrase. {n} attempt(s) left before logins are locked.',
    locked: 'Too many failed attempts: logins are locked until {time} (in about {min} min). If you forgot your passphrase, choosing a new one (“Forgot your passphrase?”) lifts the lock at once.',
    rate: 'Too many login attempts: try again in {s} seconds.',
    csrf: 'This form has expired: reload the page and try again.',
    missing: 'Type your passphrase.',
    nojs: 'This page needs JavaScript: your passphrase is derived in your browser and never sent in clear.',
    nocrypto: 'Your browser cannot derive the passphrase on this page (it needs HTTPS).',
    forgot: 'Forgot your passphrase?',
  },
  fr: {
    title: 'Connexion', heading: 'Se connecter à {name}', label: 'Phrase de passe', submit: 'Se connecter', working: 'Vérification…',
    wrong: 'Phrase de passe incorrecte. Encore {n} essai(s) avant le blocage des connexions.',
    locked: "Trop d'échecs : les connexions sont bloquées jusqu'à {time} (environ {min} min). Si vous avez oublié votre phrase de passe, en choisir une nouvelle (« Phrase de passe oubliée ? ») lève le blocage aussitôt.",
    rate: 'Trop de tentatives de connexion : réessayez dans {s} secondes.',
    csrf: 'Ce formulaire a expiré : rechargez la page et réessayez.',
    missing: 'Saisissez votre phrase de passe.',
    nojs: "Cette page a besoin de JavaScript : votre phrase de passe est dérivée dans votre navigateur et n'est jamais envoyée en clair.",
    nocrypto: 'Votre navigateur ne peut pas dériver la phrase de passe sur cette page (il faut HTTPS).',
    forgot: 'Phrase de passe oubliée ?',
  },
} as const;

export type Lang = keyof typeof STRINGS;
export type MessageKey = Exclude<keyof (typeof STRINGS)['en'], 'title' | 'heading' | 'label' | 'submit' | 'working' | 'nojs' | 'nocrypto' | 'forgot'>;

export function langOf(locale: string): Lang {
  return locale.toLowerCase().startsWith('fr') ? 'fr' : 'en';
}

export function message(lang: Lang, key: MessageKey, vars: Record<string, string | number> = {}): string {
  return STRINGS[lang][key].replace(/\{(\w+)\}/g, (_m, k: string) => String(vars[k] ?? ''));
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ESC[c] as string);

export interface LoginPage {
  lang: Lang;
  name: string;
  nonce: string;
  csrf: string;
  redirect: string;
  salt: string;
  iterations: number;
  error: string | null;
}

/** The pages' icon (auth/favicon.ts serves it). */
export const ICON_LINK = '<link rel="icon" href="/favicon.ico" sizes="16x16 32x32 48x48">';

export const CSS = `*{box-sizing:border-box}body{margin:0;padding:1.5rem 0;min-height:100vh;display:grid;place-items:center;font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1d2330}
main{width:min(24rem,100% - 2rem);background:#fff;padding:2rem;border-radius:12px;box-shadow:0 2px 12px #0002}
h1{font-size:1.4rem;margin:0 0 1.5rem}label{display:block;font-weight:600;margin-bottom:.4rem}
input{width:100%;font:inherit;padding:.7rem;border:2px solid #8a93a6;border-radius:8px}
input[aria-invalid=true]{border-color:#b3261e}button{margin-top:1rem;width:100%;font:inherit;font-weight:600;padding:.75rem;border:0;border-radius:8px;background:#1d4ed8;color:#fff;cursor:pointer}
button:disabled{opacity:.7}:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.err{color:#b3261e;background:#fdecea;padding:.6rem .8rem;border-radius:8px;margin:0 0 1rem}.err:empty{display:none}
a{color:inherit}a.below{display:block;margin-top:1rem;text-align:center}
@media (prefers-color-scheme:dark){body{background:#12151c;color:#e8eaf0}main{background:#1d2330}input{background:#12151c;color:inherit}.err{background:#3b1414;color:#ffb4ab}}`;

/** The browser side of auth/passphrase.ts `derivePassphrase` (WebCrypto), shared by every page that sends a passphrase. */
export const DERIVE_JS = `async function derive(pw,salt,it){const t=new TextEncoder(),k=await crypto.subtle.importKey('raw',t.encode(pw),'PBKDF2',false,['deriveBits']);
const m=await crypto.subtle.deriveBits({name:'PBKDF2',hash:'SHA-256',salt:t.encode(salt),iterations:it},k,256);
const k2=await crypto.subtle.importKey('raw',m,'PBKDF2',false,['deriveBits']);
const h=await crypto.subtle.deriveBits({name:'PBKDF2',hash:'SHA-256',salt:t.encode(pw),iterations:1},k2,256);
return btoa(String.fromCharCode(...new Uint8Array(h)));}`;

const SCRIPT = `(()=>{const f=document.getElementById('login'),p=document.getElementById('password'),e=document.getElementById('error'),b=f.querySelector('button');
${DERIVE_JS}
f.addEventListener('submit',async(ev)=>{ev.preventDefault();if(!p.value){e.textContent=f.dataset.missing;p.setAttribute('aria-invalid','true');p.focus();return;}
if(!window.crypto||!crypto.subtle){e.textContent=f.dataset.nocrypto;return;}
b.disabled=true;b.textContent=f.dataset.working;
try{f.elements.passphrase.value=await derive(p.value,f.dataset.salt,Number(f.dataset.iterations));p.value='';
// the fragment of the page that sent here (an app's #/route) never reaches the server: the redirect takes it along
const r=f.elements.redirect;if(r&&r.value&&location.hash&&!r.value.includes('#'))r.value+=location.hash;f.submit();}
catch(x){b.disabled=false;e.textContent=f.dataset.nocrypto;}});})();`;

export function renderLoginPage(o: LoginPage): string {
  const s = STRINGS[o.lang];
  const err = o.error ? esc(o.error) : '';
  return `<!doctype html>
<html lang="${o.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">${ICON_LINK}<title>${esc(s.title)} · ${esc(o.name)}</title><style nonce="${o.nonce}">${CSS}</style></head>
<body><main><h1>${esc(s.heading.replace('{name}', o.name))}</h1>
<p id="error" class="err" role="alert" aria-live="assertive">${err}</p>
<noscript><p class="err">${esc(s.nojs)}</p></noscript>
<form id="login" method="post" novalidate action="/auth/login" data-salt="${esc(o.salt)}" data-iterations="${o.iterations}"
 data-working="${esc(s.working)}" data-missing="${esc(message(o.lang, 'missing'))}" data-nocrypto="${esc(s.nocrypto)}">
<label for="password">${esc(s.label)}</label>
<input id="password" type="password" autocomplete="current-password" required autofocus aria-describedby="error"${err ? ' aria-invalid="true"' : ''}>
<input type="hidden" name="passphrase" value="">
<input type="hidden" name="redirect" value="${esc(o.redirect)}">
<input type="hidden" name="csrf_token" value="${esc(o.csrf)}">
<button type="submit">${esc(s.submit)}</button>
</form><a class="below" href="/auth/passphrase_reset">${esc(s.forgot)}</a></main><script nonce="${o.nonce}">${SCRIPT}</script></body></html>`;
}
