/**
 * The waiting page of a blocked instance (cozy-stack's /move/importing), in the look of the auth pages: "import in
 * progress", or "move in progress" while the instance waits for the data of a move. A small script listens to
 * /move/importing/realtime and follows its `redirect` (to the login page) once the import is over; without script the
 * page reloads itself every 30 s. English or French, by the instance's locale.
 */
import { randomBytes } from 'node:crypto';
import { CSS, esc, langOf } from '../../auth/login-page.js';

const STRINGS: Record<'en' | 'fr', { importing: [string, string]; moving: [string, string]; done: string; login: string }> = {
  en: {
    importing: ['Import in progress', 'Your data is being imported into {name}. This can take a while: you can close this page and come back later, a mail will tell you when it is over.'],
    moving: ['Move in progress', 'Your data is being moved to {name}. This can take a while: you can close this page and come back later, a mail will tell you when it is over.'],
    done: 'It is over: you can log in again.', login: 'Log in',
  },
  fr: {
    importing: ['Import en cours', 'Vos données sont en cours d’import sur {name}. Cela peut prendre du temps : vous pouvez fermer cette page et revenir plus tard, un e-mail vous préviendra à la fin.'],
    moving: ['Déménagement en cours', 'Vos données sont en cours de déménagement vers {name}. Cela peut prendre du temps : vous pouvez fermer cette page et revenir plus tard, un e-mail vous préviendra à la fin.'],
    done: 'C’est terminé : vous pouvez vous reconnecter.', login: 'Se connecter',
  },
};

const PAGE_CSS = `${CSS}
p{margin:0 0 .75rem}.spinner{width:2.5rem;height:2.5rem;margin:0 auto 1.25rem;border:4px solid #c9cfdb;border-top-color:#1d4ed8;border-radius:50%;animation:spin 1s linear infinite}
@keyframes spin{to{transform:rotate(360deg)}}@media (prefers-reduced-motion:reduce){.spinner{animation:none}}
a.button{display:block;margin-top:1.5rem;text-align:center;font-weight:600;padding:.75rem;border-radius:8px;background:#1d4ed8;color:#fff;text-decoration:none}`;

/** The page, and the CSP that lets its own style and script run (by nonce) and its WebSocket connect to this host. */
export function importingPage(opts: { locale: string; host: string; moving: boolean; done: boolean; loginUrl: string }): { html: string; csp: string } {
  const lang = langOf(opts.locale);
  const s = STRINGS[lang];
  const [title, text] = opts.moving ? s.moving : s.importing;
  const nonce = randomBytes(16).toString('base64');
  const body = opts.done
    ? `<h1>${esc(title)}</h1><p role="status">${esc(s.done)}</p><a class="button" href="${esc(opts.loginUrl)}">${esc(s.login)}</a>`
    : `<div class="spinner" aria-hidden="true"></div><h1>${esc(title)}</h1><p role="status">${esc(text.replace('{name}', opts.host))}</p>`;
  const script = opts.done ? '' : `<script nonce="${nonce}">(function(){try{var ws=new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+'/move/importing/realtime','io.cozy.websocket');ws.onmessage=function(e){try{var m=JSON.parse(e.data);if(m.redirect)location.href=m.redirect}catch(_){}}}catch(_){}})()</script>`;
  const html = `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
${opts.done ? '' : '<meta http-equiv="refresh" content="30">'}<title>${esc(title)}</title><style nonce="${nonce}">${PAGE_CSS}</style></head>
<body><main>${body}</main>${script}</body></html>`;
  const csp = `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
  return { html, csp };
}
