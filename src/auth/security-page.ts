/**
 * The owner's "Security" page (GET /auth/security), with the login page's look and languages:
 * two-factor authentication (enrol an authenticator app, see the recovery codes once, turn it off
 * with the passphrase), changing the passphrase, and logging out the other sessions. Its one script
 * calls the JSON settings routes with same-origin fetches; passphrases are derived in the browser
 * with the login page's code, never sent in clear.
 */
import type { AuthMode } from '../instances/types.js';
import { CSS, DERIVE_JS, esc, ICON_LINK, type Lang } from './login-page.js';

const STRINGS = {
  en: {
    title: 'Security', back: 'Back to home', working: 'Please wait…',
    nojs: 'This page needs JavaScript: your passphrase is derived in your browser and never sent in clear.',
    nocrypto: 'Your browser cannot derive the passphrase on this page (it needs HTTPS).',
    tfHeading: 'Two-factor authentication', tfStatus: 'Status:',
    basic: 'Off', two_factor_totp: 'On, with an authenticator app', two_factor_mail: 'On, with codes sent by e-mail',
    tfIntro: 'Besides your passphrase, logins will ask for a 6-digit code shown by an app on your phone (such as Aegis, FreeOTP or Google Authenticator).',
    tfStart: 'Set up an authenticator app', tfSetup: 'Set up the authenticator app',
    tfScan: 'Scan this QR code with your authenticator app.', tfKey: 'Or type this key in the app:',
    qrLabel: 'QR code to scan with your authenticator app',
    codeLabel: 'The 6-digit code the app shows', confirm: 'Confirm', cancel: 'Cancel',
    codeMissing: 'Type the 6-digit code your authenticator app shows.',
    codesHeading: 'Your recovery codes',
    codesText: 'Write these codes down now and keep them somewhere safe: they are shown only this once. Each one lets you log in once without your phone.',
    done: 'Done',
    tfOnText: 'To turn it off, confirm with your passphrase: logins will then ask for the passphrase only.',
    passLabel: 'Passphrase', tfOff: 'Turn off two-factor authentication', tfTurnedOff: 'Two-factor authentication is off.',
    passHeading: 'Passphrase', currentLabel: 'Current passphrase', newLabel: 'New passphrase', confirmLabel: 'Confirm the new passphrase',
    passHint: 'At least 8 characters. A few unrelated words make a long passphrase that is easy to remember.',
    passChange: 'Change the passphrase', passChanged: 'Your passphrase was changed. Your other sessions were logged out.',
    missingPass: 'Type your passphrase.', missingCurrent: 'Type your current passphrase.',
    tooShort: 'The new passphrase needs at least 8 characters.', mismatch: 'The two new passphrases differ.',
    sessionsHeading: 'Sessions', one: 'Only this session is open.', many: '{n} sessions are open, this one included.',
    logoutOthers: 'Log out the other sessions', othersDone: 'The other sessions were logged out.',
    appOne: 'Apart from your browsers, one session belongs to an app token made on the command line; logging out the other sessions ends it too.',
    appMany: 'Apart from your browsers, {n} sessions belong to app tokens made on the command line; logging out the other sessions ends them too.',
    errCode: 'Wrong code: type the code your authenticator app shows now.',
    errPass: 'Wrong passphrase. Failed attempts count towards the lock-out of logins.',
    errRate: 'Too many attempts: try again in {s} seconds.', errRateMin: 'Too many attempts: try again in {m} minutes.',
    errConflict: 'The settings changed meanwhile: reload the page and try again.',
    errSession: 'Your session has ended: reload the page to log in again.',
    errNetwork: 'The server could not be reached: check your connection and try again.',
    errOther: 'The request failed: {detail}',
  },
  fr: {
    title: 'Sécurité', back: "Retour à l'accueil", working: 'Un instant…',
    nojs: "Cette page a besoin de JavaScript : votre phrase de passe est dérivée dans votre navigateur et n'est jamais envoyée en clair.",
    nocrypto: 'Votre navigateur ne peut pas dériver la phrase de passe sur cette page (il faut HTTPS).',
    tfHeading: 'Authentification à deux facteurs', tfStatus: 'État :',
    basic: 'Désactivée', two_factor_totp: 'Activée, avec une application d’authentification', two_factor_mail: 'Activée, avec des codes envoyés par e-mail',
    tfIntro: 'En plus de votre phrase de passe, les connexions demanderont un code à 6 chiffres affiché par une application de votre téléphone (comme Aegis, FreeOTP ou Google Authenticator).',
    tfStart: 'Configurer une application d’authentification', tfSetup: 'Configuration de l’application d’authentification',
    tfScan: 'Scannez ce QR code avec votre application d’authentification.', tfKey: 'Ou saisissez cette clé dans l’application :',
    qrLabel: 'QR code à scanner avec votre application d’authentification',
    codeLabel: 'Le code à 6 chiffres affiché par l’application', confirm: 'Confirmer', cancel: 'Annuler',
    codeMissing: 'Saisissez le code à 6 chiffres affiché par votre application d’authentification.',
    codesHeading: 'Vos codes de secours',
    codesText: 'Notez ces codes maintenant et gardez-les en lieu sûr : ils ne sont affichés que cette fois. Chacun permet de vous connecter une fois sans votre téléphone.',
    done: 'Terminé',
    tfOnText: 'Pour la désactiver, confirmez avec votre phrase de passe : les connexions ne demanderont plus que la phrase de passe.',
    passLabel: 'Phrase de passe', tfOff: 'Désactiver l’authentification à deux facteurs', tfTurnedOff: 'L’authentification à deux facteurs est désactivée.',
    passHeading: 'Phrase de passe', currentLabel: 'Phrase de passe actuelle', newLabel: 'Nouvelle phrase de passe', confirmLabel: 'Confirmez la nouvelle phrase de passe',
    passHint: 'Au moins 8 caractères. Quelques mots sans rapport entre eux font une longue phrase de passe facile à retenir.',
    passChange: 'Changer la phrase de passe', passChanged: 'Votre phrase de passe a été changée. Vos autres sessions ont été déconnectées.',
    missingPass: 'Saisissez votre phrase de passe.', missingCurrent: 'Saisissez votre phrase de passe actuelle.',
    tooShort: 'La nouvelle phrase de passe doit compter au moins 8 caractères.', mismatch: 'Les deux nouvelles phrases de passe diffèrent.',
    sessionsHeading: 'Sessions', one: 'Seule cette session est ouverte.', many: '{n} sessions sont ouvertes, celle-ci comprise.',
    logoutOthers: 'Déconnecter les autres sessions', othersDone: 'Les autres sessions ont été déconnectées.',
    appOne: "En plus de vos navigateurs, une session appartient à un jeton d'application créé en ligne de commande ; déconnecter les autres sessions y met fin aussi.",
    appMany: "En plus de vos navigateurs, {n} sessions appartiennent à des jetons d'application créés en ligne de commande ; déconnecter les autres sessions y met fin aussi.",
    errCode: 'Code incorrect : saisissez le code que votre application d’authentification affiche maintenant.',
    errPass: 'Phrase de passe incorrecte. Les échecs comptent pour le blocage des connexions.',
    errRate: 'Trop de tentatives : réessayez dans {s} secondes.', errRateMin: 'Trop de tentatives : réessayez dans {m} minutes.',
    errConflict: 'Les réglages ont changé entre-temps : rechargez la page et réessayez.',
    errSession: 'Votre session a pris fin : rechargez la page pour vous reconnecter.',
    errNetwork: 'Le serveur est injoignable : vérifiez votre connexion et réessayez.',
    errOther: 'La requête a échoué : {detail}',
  },
} as const;

type Text = keyof (typeof STRINGS)['en'];

export function securityText(lang: Lang, key: Text): string {
  return STRINGS[lang][key];
}

export const sessionsText = (lang: Lang, n: number): string => (n <= 1 ? STRINGS[lang].one : STRINGS[lang].many.replace('{n}', String(n)));
/** The sessions of command-line app tokens, listed apart from the browsers'. */
export const appSessionsText = (lang: Lang, n: number): string => (n === 0 ? '' : n === 1 ? STRINGS[lang].appOne : STRINGS[lang].appMany.replace('{n}', String(n)));

const EXTRA_CSS = `main{width:min(34rem,100% - 2rem)}h1{margin-bottom:.2rem}p.sub{opacity:.75;margin-bottom:0}section{border-top:1px solid #d5d9e2;margin-top:1.5rem;padding-top:1.25rem}
h2{font-size:1.15rem;margin:0 0 .75rem}h3{font-size:1rem;margin:1.25rem 0 .5rem}h3:focus{outline:none}p{margin:0 0 .75rem}
label{margin-top:1rem}.hint{font-size:.9rem;opacity:.8;margin:.4rem 0 0}[hidden]{display:none!important}
.pill{display:inline-block;padding:.05rem .6rem;border-radius:999px;font-weight:600;background:#fdecea;color:#8c1d18}.pill.on{background:#e3f4e8;color:#14532d}
.ok{color:#14532d;background:#e3f4e8;padding:.6rem .8rem;border-radius:8px;margin:0 0 1rem}.ok:empty{display:none}
svg.qr{display:block;width:13rem;height:13rem;margin:.5rem auto 1rem;border-radius:8px;background:#fff}
code.key,ol.codes{font:1.05rem/1.5 ui-monospace,SFMono-Regular,Menlo,monospace;background:#eef0f4;border-radius:8px;padding:.6rem .8rem}
code.key{display:block;letter-spacing:.04em;word-break:break-all;user-select:all}
ol.codes{columns:2;list-style:none;margin:0 0 .5rem;text-align:center}.warn{font-weight:600}
button.secondary,a.secondary{background:transparent;color:#1d4ed8;border:2px solid #1d4ed8}button.danger{background:#b3261e}
a.secondary{display:block;margin-top:.75rem;text-align:center;font-weight:600;padding:.6rem;border-radius:8px;text-decoration:none}
@media (prefers-color-scheme:dark){section{border-color:#343b4d}code.key,ol.codes{background:#12151c}.ok,.pill.on{background:#0f2e1b;color:#a7f3c0}
.pill{background:#3b1414;color:#ffb4ab}button.secondary,a.secondary{color:#9db8ff;border-color:#9db8ff}button.danger{background:#d93a30}}`;

/** The page's one script. `T` holds the texts; every call goes to the JSON routes of the instance's own origin. */
const SCRIPT = `(()=>{const T=JSON.parse(document.getElementById('texts').textContent),$=(i)=>document.getElementById(i);
${DERIVE_JS}
/** An error about the form's main field (a wrong code or passphrase): the field is marked and focused. */
const field=(m)=>Object.assign(new Error(m),{field:true});
function rate(r){const s=Number(r.headers.get('retry-after'))||60;return s>=120?T.errRateMin.replace('{m}',String(Math.ceil(s/60))):T.errRate.replace('{s}',String(s));}
async function call(method,path,body){const o={method,credentials:'same-origin',headers:{accept:'application/json'}};
if(body!==undefined){o.headers['content-type']='application/json';o.body=JSON.stringify(body);}
let r;try{r=await fetch(path,o);}catch(x){throw new Error(T.errNetwork);}
const text=await r.text();let j=null;try{j=text?JSON.parse(text):null;}catch(x){}
if(r.ok)return j;const e=(j&&j.errors&&j.errors[0])||{},code=e.title||(j&&j.error),detail=e.detail||(j&&(j.message||j.reason))||('HTTP '+r.status);
if(r.status===401)throw new Error(T.errSession);if(r.status===429)throw new Error(rate(r));
if(code==='invalid_code')throw field(T.errCode);if(code==='wrong_passphrase'||code==='invalid_passphrase')throw field(T.errPass);
if(r.status===409)throw new Error(T.errConflict);throw new Error(T.errOther.replace('{detail}',detail));}
function form(id,run){const f=$(id),b=f.querySelector('button[type=submit]'),err=$(id+'-error'),ok=$(id+'-ok');
f.addEventListener('submit',async(ev)=>{ev.preventDefault();if(b.disabled)return;err.textContent='';ok.textContent='';
for(const i of f.querySelectorAll('input'))i.removeAttribute('aria-invalid');
const bad=(msg,el)=>{err.textContent=msg;if(el){el.setAttribute('aria-invalid','true');el.focus();}};
const label=b.textContent;try{await run({f,bad,ok,busy:()=>{b.disabled=true;b.textContent=T.working;}});}
catch(x){bad(x.message,x.field&&f.dataset.field?$(f.dataset.field):null);}
finally{b.disabled=false;b.textContent=label;if(!document.activeElement||document.activeElement===document.body)b.focus();}});}
async function derived(pw,f){if(!window.crypto||!crypto.subtle)throw new Error(T.nocrypto);return derive(pw,f.dataset.salt,Number(f.dataset.iterations));}
async function count(){try{const j=await call('GET','/settings/sessions');const web=j.data.filter((s)=>s.attributes.kind!=='app-token').length,app=j.data.length-web;
$('sessions-count').textContent=web<=1?T.one:T.many.replace('{n}',String(web));const a=$('app-sessions');a.hidden=app===0;a.textContent=app===0?'':app===1?T.appOne:T.appMany.replace('{n}',String(app));}catch(x){}}
const NS='http://www.w3.org/2000/svg';
function qr(markup){const src=new DOMParser().parseFromString(markup,'image/svg+xml').documentElement;
if(src.namespaceURI!==NS||src.localName!=='svg')return null;const s=document.createElementNS(NS,'svg');
for(const [k,v] of [['viewBox',src.getAttribute('viewBox')||''],['class','qr'],['role','img'],['aria-label',T.qrLabel],['shape-rendering','crispEdges']])s.setAttribute(k,v);
for(const p of src.querySelectorAll('path')){const q=document.createElementNS(NS,'path');for(const a of ['d','fill','stroke'])if(p.hasAttribute(a))q.setAttribute(a,p.getAttribute(a));s.appendChild(q);}
return s;}
const start=$('totp-start');
if(start)start.addEventListener('click',async()=>{const err=$('tf-basic-error');err.textContent='';$('tf-basic-ok').textContent='';start.disabled=true;
try{const j=await call('POST','/settings/twofactor/totp',{});const box=$('totp-qr');box.replaceChildren();const s=qr(j.qr_svg);if(s)box.appendChild(s);
$('totp-secret').textContent=j.secret.replace(/(.{4})(?=.)/g,'$1 ');$('tf-basic').hidden=true;$('totp-setup').hidden=false;$('totp-setup-heading').focus();}
catch(x){err.textContent=x.message;}finally{start.disabled=false;if(!$('tf-basic').hidden)start.focus();}});
if($('totp-confirm'))form('totp-confirm',async({bad,busy})=>{const c=$('totp-code'),code=c.value.replace(/\\s+/g,'');
if(!/^\\d{6}$/.test(code))return bad(T.codeMissing,c);busy();const j=await call('POST','/settings/twofactor/totp/confirm',{code});
const list=$('recovery-codes');list.replaceChildren(...j.recovery_codes.map((t)=>{const li=document.createElement('li');li.textContent=t;return li;}));
const m=$('tf-mode');m.textContent=T.two_factor_totp;m.classList.add('on');
c.value='';$('totp-setup').hidden=true;$('totp-codes').hidden=false;$('codes-heading').focus();});
const doneBtn=$('codes-done');if(doneBtn)doneBtn.addEventListener('click',()=>location.reload());
if($('tf-off'))form('tf-off',async({f,bad,busy})=>{const p=$('tf-pass');if(!p.value)return bad(T.missingPass,p);busy();
await call('DELETE','/settings/twofactor',{passphrase:await derived(p.value,f)});p.value='';
const m=$('tf-mode');m.textContent=T.basic;m.classList.remove('on');$('tf-on').hidden=true;$('tf-basic').hidden=false;
$('tf-basic-ok').textContent=T.tfTurnedOff;$('totp-start').focus();});
form('pass',async({f,bad,ok,busy})=>{const cur=$('pass-current'),nw=$('pass-new'),cf=$('pass-confirm');
if(!cur.value)return bad(T.missingCurrent,cur);if([...nw.value].length<8)return bad(T.tooShort,nw);if(nw.value!==cf.value)return bad(T.mismatch,cf);
busy();const [current_passphrase,new_passphrase]=await Promise.all([derived(cur.value,f),derived(nw.value,f)]);
await call('PUT','/settings/passphrase',{current_passphrase,new_passphrase});f.reset();ok.textContent=T.passChanged;await count();});
form('others',async({ok,busy})=>{busy();await call('DELETE','/auth/login/others');await count();ok.textContent=T.othersDone;});})();`;

export interface SecurityPage {
  lang: Lang;
  name: string;
  /** The account name shown to password managers (the instance domain). */
  domain: string;
  nonce: string;
  mode: AuthMode;
  /** The browser sessions. */
  sessions: number;
  /** The sessions of command-line app tokens. */
  appSessions: number;
  salt: string;
  iterations: number;
}

/** JSON for a <script type="application/json"> block: no `<` left to close the element. */
const jsonBlock = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

export function renderSecurityPage(o: SecurityPage): string {
  const s = STRINGS[o.lang];
  const t = (k: Text) => esc(s[k]);
  const kdf = `data-salt="${esc(o.salt)}" data-iterations="${o.iterations}"`;
  const alerts = (id: string) => `<p id="${id}-error" class="err" role="alert" aria-live="assertive"></p><p id="${id}-ok" class="ok" role="status"></p>`;
  const on = o.mode !== 'basic';
  const twoFactor = `<section aria-labelledby="tf-heading"><h2 id="tf-heading">${t('tfHeading')}</h2>
<p>${t('tfStatus')} <span id="tf-mode" class="pill${on ? ' on' : ''}">${t(o.mode)}</span></p>
<div id="tf-basic"${on ? ' hidden' : ''}>${alerts('tf-basic')}<p>${t('tfIntro')}</p>
<button type="button" id="totp-start">${t('tfStart')}</button></div>
<div id="totp-setup" hidden><h3 id="totp-setup-heading" tabindex="-1">${t('tfSetup')}</h3>
<p>${t('tfScan')}</p><div id="totp-qr"></div><p id="totp-key-label">${t('tfKey')}</p><code id="totp-secret" class="key" aria-labelledby="totp-key-label"></code>
<form id="totp-confirm" novalidate data-field="totp-code"><label for="totp-code">${t('codeLabel')}</label>
<input id="totp-code" type="text" inputmode="numeric" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="12" aria-describedby="totp-confirm-error">
${alerts('totp-confirm')}<button type="submit">${t('confirm')}</button></form><a class="secondary" href="/auth/security">${t('cancel')}</a></div>
<div id="totp-codes" hidden><h3 id="codes-heading" tabindex="-1">${t('codesHeading')}</h3><p class="warn" id="codes-text">${t('codesText')}</p>
<ol id="recovery-codes" class="codes" aria-describedby="codes-text"></ol><button type="button" id="codes-done">${t('done')}</button></div>
<div id="tf-on"${on ? '' : ' hidden'}><p>${t('tfOnText')}</p>
<form id="tf-off" novalidate data-field="tf-pass" ${kdf}>${alerts('tf-off')}
<input type="text" autocomplete="username" value="${esc(o.domain)}" hidden>
<label for="tf-pass">${t('passLabel')}</label><input id="tf-pass" type="password" autocomplete="current-password" aria-describedby="tf-off-error">
<button type="submit" class="danger">${t('tfOff')}</button></form></div></section>`;
  const passphrase = `<section aria-labelledby="pass-heading"><h2 id="pass-heading">${t('passHeading')}</h2>
<form id="pass" novalidate data-field="pass-current" ${kdf}>${alerts('pass')}
<input type="text" autocomplete="username" value="${esc(o.domain)}" hidden>
<label for="pass-current">${t('currentLabel')}</label><input id="pass-current" type="password" autocomplete="current-password" aria-describedby="pass-error">
<label for="pass-new">${t('newLabel')}</label><input id="pass-new" type="password" autocomplete="new-password" aria-describedby="pass-error pass-hint">
<p id="pass-hint" class="hint">${t('passHint')}</p>
<label for="pass-confirm">${t('confirmLabel')}</label><input id="pass-confirm" type="password" autocomplete="new-password" aria-describedby="pass-error">
<button type="submit">${t('passChange')}</button></form></section>`;
  const sessions = `<section aria-labelledby="sessions-heading"><h2 id="sessions-heading">${t('sessionsHeading')}</h2>
<form id="others" novalidate>${alerts('others')}<p id="sessions-count" aria-live="polite">${esc(sessionsText(o.lang, o.sessions))}</p>
<p id="app-sessions" class="hint"${o.appSessions ? '' : ' hidden'}>${esc(appSessionsText(o.lang, o.appSessions))}</p>
<button type="submit" class="secondary">${t('logoutOthers')}</button></form></section>`;
  return `<!doctype html>
<html lang="${o.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">${ICON_LINK}<title>${t('title')} · ${esc(o.name)}</title><style nonce="${o.nonce}">${CSS}
${EXTRA_CSS}</style></head>
<body><main><h1>${t('title')}</h1><p class="sub">${esc(o.name)}</p>
<noscript><p class="err">${t('nojs')}</p></noscript>
${twoFactor}
${passphrase}
${sessions}
<a class="below" href="/">${t('back')}</a></main>
<script type="application/json" id="texts">${jsonBlock(s)}</script><script nonce="${o.nonce}">${SCRIPT}</script></body></html>`;
}
