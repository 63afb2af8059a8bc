/**
 * The second step of a login with two-factor authentication: the same look as the login page,
 * in English or French. It needs no script: the code is sent as typed.
 */
import { CSS, esc, ICON_LINK, type Lang } from './login-page.js';

const STRINGS = {
  en: {
    title: 'Two-factor authentication', heading: 'Confirm it is you',
    totp: 'Type the 6-digit code your authenticator app shows for {name}, or one of your recovery codes.',
    mail: 'We sent a 6-digit code to your e-mail address. Type it here (it is valid 5 minutes).',
    label: 'Code', submit: 'Confirm', again: 'Start again',
    wrongCode: 'Wrong or already used code. {n} attempt(s) left before logins are locked.',
    expired: 'This login has expired (5 minutes): log in again.',
    missingCode: 'Type the code.',
    mailRate: 'Too many codes were sent this hour: try again later, or use a recovery code.',
    mailWait: 'A login code was used less than 30 seconds ago: log in again in {s} seconds to get a new one.',
    mailSubject: 'Your login code for {name}',
    mailText: 'Your login code is {code}.\n\nIt is valid 5 minutes. If you did not just log in to {name}, someone knows your passphrase: change it.',
  },
  fr: {
    title: 'Authentification à deux facteurs', heading: 'Confirmez que c’est bien vous',
    totp: 'Saisissez le code à 6 chiffres affiché par votre application d’authentification pour {name}, ou l’un de vos codes de secours.',
    mail: 'Nous avons envoyé un code à 6 chiffres à votre adresse e-mail. Saisissez-le ici (il est valable 5 minutes).',
    label: 'Code', submit: 'Confirmer', again: 'Recommencer',
    wrongCode: 'Code incorrect ou déjà utilisé. Encore {n} essai(s) avant le blocage des connexions.',
    expired: 'Cette connexion a expiré (5 minutes) : reconnectez-vous.',
    missingCode: 'Saisissez le code.',
    mailRate: 'Trop de codes envoyés cette heure-ci : réessayez plus tard, ou utilisez un code de secours.',
    mailWait: 'Un code de connexion a été utilisé il y a moins de 30 secondes : reconnectez-vous dans {s} secondes pour en recevoir un nouveau.',
    mailSubject: 'Votre code de connexion pour {name}',
    mailText: 'Votre code de connexion est {code}.\n\nIl est valable 5 minutes. Si vous ne venez pas de vous connecter à {name}, quelqu’un connaît votre phrase de passe : changez-la.',
  },
} as const;

export function twoFactorText(lang: Lang, key: keyof (typeof STRINGS)['en'], vars: Record<string, string | number> = {}): string {
  return STRINGS[lang][key].replace(/\{(\w+)\}/g, (_m, k: string) => String(vars[k] ?? ''));
}

export interface TwoFactorPage {
  lang: Lang;
  name: string;
  nonce: string;
  csrf: string;
  token: string;
  redirect: string;
  mode: 'totp' | 'mail';
  error: string | null;
  /** The second factor of a move's consent (the wizard's client): posted back so that the route knows it. */
  clientId?: string;
  /** Where "Start again" goes (by default the login page; a move's consent page for a move). */
  again?: string;
}

const EXTRA = 'p.help{margin:0 0 1rem}';

export function renderTwoFactorPage(o: TwoFactorPage): string {
  const s = STRINGS[o.lang];
  const err = o.error ? esc(o.error) : '';
  return `<!doctype html>
<html lang="${o.lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">${ICON_LINK}<title>${esc(s.title)} · ${esc(o.name)}</title><style nonce="${o.nonce}">${CSS}${EXTRA}</style></head>
<body><main><h1>${esc(s.heading)}</h1>
<p id="error" class="err" role="alert" aria-live="assertive">${err}</p>
<p class="help" id="help">${esc(twoFactorText(o.lang, o.mode, { name: o.name }))}</p>
<form id="twofactor" method="post" action="/auth/twofactor">
<label for="passcode">${esc(s.label)}</label>
<input id="passcode" name="two-factor-passcode" type="text" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="32" required autofocus aria-describedby="help error"${err ? ' aria-invalid="true"' : ''}>
<input type="hidden" name="two-factor-token" value="${esc(o.token)}">
<input type="hidden" name="redirect" value="${esc(o.redirect)}">${o.clientId ? `
<input type="hidden" name="client_id" value="${esc(o.clientId)}">` : ''}
<input type="hidden" name="csrf_token" value="${esc(o.csrf)}">
<button type="submit">${esc(s.submit)}</button>
</form><a class="below" href="${esc(o.again ?? '/auth/login')}">${esc(s.again)}</a></main></body></html>`;
}
