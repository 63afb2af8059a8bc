/**
 * The mails of a move between servers, in English or French by the instance locale: the confirmation asked on the source
 * (cozy-stack's `move_confirm`), and what the owner is told at the end (the source's export failed; the target's import
 * ended). `sendmail` jobs in `noreply` mode, to the owner.
 */
import { esc, type Lang } from '../../auth/login-page.js';
import { mailSubject, type MailArgs } from '../../notifications/mail.js';

const MAILS = {
  en: {
    confirm: { subject: 'Confirm the move of {from}', lines: ['You asked to move {from} to {to}. All its data will be copied there, and {from} will then send you there.', 'Open this link to start the move (valid for one hour). If you did not ask for it, ignore this mail: nothing will move.'], button: 'Start the move' },
    exportFailed: { subject: 'The move of {from} failed', lines: ['The data of {from} could not be prepared for {to}: {error}.', '{from} stays as it was; you can try the move again from its settings.'], button: 'Open {from}' },
    moved: { subject: 'Your data moved to {to}', lines: ['The move from {from} is over: your data is in {to} now.', 'Apps and connectors were reinstalled; reconnect your devices and the apps you authorized to {to}.'], button: 'Open {to}' },
    importFailed: { subject: 'The move to {to} failed', lines: ['The data of {from} could not be imported into {to}: {error}.', '{from} was unblocked and keeps your data.'], button: 'Open {to}' },
  },
  fr: {
    confirm: { subject: 'Confirmez le déménagement de {from}', lines: ['Vous avez demandé à déménager {from} vers {to}. Toutes ses données y seront copiées, puis {from} vous y renverra.', "Ouvrez ce lien pour lancer le déménagement (valable une heure). Si vous ne l'avez pas demandé, ignorez ce mail : rien ne bougera."], button: 'Lancer le déménagement' },
    exportFailed: { subject: 'Le déménagement de {from} a échoué', lines: ["Les données de {from} n'ont pas pu être préparées pour {to} : {error}.", '{from} reste tel quel ; vous pouvez recommencer le déménagement depuis ses paramètres.'], button: 'Ouvrir {from}' },
    moved: { subject: 'Vos données ont déménagé vers {to}', lines: ['Le déménagement depuis {from} est terminé : vos données sont désormais dans {to}.', 'Les applications et connecteurs ont été réinstallés ; reconnectez vos appareils et les applications autorisées à {to}.'], button: 'Ouvrir {to}' },
    importFailed: { subject: 'Le déménagement vers {to} a échoué', lines: ["Les données de {from} n'ont pas pu être importées dans {to} : {error}.", '{from} a été débloqué et garde vos données.'], button: 'Ouvrir {to}' },
  },
} as const;

export type MoveMail = keyof (typeof MAILS)['en'];

export function moveMail(lang: Lang, kind: MoveMail, link: string, vars: { from: string; to: string; error?: string }): MailArgs {
  const m = MAILS[lang][kind];
  const fill = (t: string) => t.replace(/\{(\w+)\}/g, (_m, k: string) => (vars as Record<string, string | undefined>)[k] ?? '');
  const subject = mailSubject(fill(m.subject));
  const lines = m.lines.map(fill);
  const text = [...lines.flatMap((l) => [l, '']), link].join('\n');
  const html = [
    '<!DOCTYPE html>',
    `<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${esc(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#f5f6f7;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1f2328">',
    '<div style="max-width:560px;margin:0 auto;background:#fff;border-radius:8px;padding:24px">',
    `<h1 style="font-size:20px;margin:0 0 16px">${esc(subject)}</h1>`,
    ...lines.map((l) => `<p style="font-size:15px;line-height:1.5;margin:0 0 12px">${esc(l)}</p>`),
    `<p style="margin:20px 0"><a href="${esc(link)}" style="display:inline-block;background:#1d4ed8;color:#fff;padding:10px 18px;border-radius:6px;text-decoration:none;font-weight:600">${esc(fill(m.button))}</a></p>`,
    `<p style="font-size:12px;color:#57606a;margin:0;word-break:break-all">${esc(link)}</p>`,
    '</div></body></html>',
  ].join('\n');
  return { mode: 'noreply', subject, parts: [{ type: 'text/plain', body: text }, { type: 'text/html', body: html }] };
}
