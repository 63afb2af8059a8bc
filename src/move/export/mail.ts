/**
 * The mails of an export (cozy-stack's `archiver` and `archiver_error` templates), in English or French after the
 * instance's locale, sent to the owner through the `sendmail` worker (mode noreply).
 */
import type { Instance } from '../../instances/types.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const TEXT = {
  en: {
    ready: 'Your data is ready to be downloaded',
    readyBody: (link: string, until: string) => `Hello,\n\nthe archive of your data (documents and files) is ready. Download it from this page until ${until}:\n\n${link}\n\nThe link is personal: whoever has it can download your data.`,
    failed: 'The export of your data failed',
    failedBody: (error: string) => `Hello,\n\nthe archive of your data could not be made (${error}). You can ask for a new one from the Settings app.`,
  },
  fr: {
    ready: 'Vos données sont prêtes à être téléchargées',
    readyBody: (link: string, until: string) => `Bonjour,\n\nl'archive de vos données (documents et fichiers) est prête. Téléchargez-la depuis cette page jusqu'au ${until} :\n\n${link}\n\nLe lien est personnel : quiconque le possède peut télécharger vos données.`,
    failed: "L'export de vos données a échoué",
    failedBody: (error: string) => `Bonjour,\n\nl'archive de vos données n'a pas pu être créée (${error}). Vous pouvez en demander une nouvelle depuis l'application Paramètres.`,
  },
};

const textOf = (instance: Pick<Instance, 'locale'>) => (instance.locale.toLowerCase().startsWith('fr') ? TEXT.fr : TEXT.en);

/** A `sendmail` message of two parts: the text, and the same as HTML with the link clickable. */
function message(subject: string, text: string, link?: string) {
  const html = `<p>${escapeHtml(text).replace(/\n\n/g, '</p><p>').replace(/\n/g, '<br>')}</p>`;
  return {
    mode: 'noreply', subject,
    parts: [{ type: 'text/plain', body: text }, { type: 'text/html', body: link ? html.replace(escapeHtml(link), `<a href="${escapeHtml(link)}">${escapeHtml(link)}</a>`) : html }],
  };
}

export function exportReadyMail(instance: Pick<Instance, 'locale'>, link: string, expiresAt: string) {
  const t = textOf(instance);
  const until = new Date(expiresAt).toLocaleString(instance.locale.toLowerCase().startsWith('fr') ? 'fr-FR' : 'en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC';
  return message(t.ready, t.readyBody(link, until), link);
}

export function exportFailedMail(instance: Pick<Instance, 'locale'>, error: string) {
  const t = textOf(instance);
  return message(t.failed, t.failedBody(error.slice(0, 300)));
}
