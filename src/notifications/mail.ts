/**
 * The mail of a notification: the arguments of a `sendmail` job in `noreply` mode (to the owner), with a
 * plain text part and an HTML part. Everything that comes from the notification or the instance is escaped
 * in the HTML (an app's `content_html` is not put in the mail: its text `content` is, escaped); the subject
 * has no line breaks or control characters. The footer names the sender and links to the instance.
 */
import { esc } from '../auth/login-page.js';
import type { Instance } from '../instances/types.js';
import type { NotificationDoc } from './types.js';

export interface MailArgs {
  mode: 'noreply';
  subject: string;
  parts: Array<{ type: 'text/plain' | 'text/html'; body: string }>;
}

// eslint-disable-next-line no-control-regex -- control characters are what it removes
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
const SUBJECT_MAX = 200;

export function mailSubject(title: string): string {
  const one = title.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  return one.length > SUBJECT_MAX ? `${one.slice(0, SUBJECT_MAX - 1)}…` : one || 'Notification';
}

/** Escaped text with its line breaks kept. */
const html = (s: string): string => esc(s).replace(/\r\n|\r|\n/g, '<br>');

function senderLabel(doc: Pick<NotificationDoc, 'originator' | 'slug'>): string {
  if (doc.slug) return `the ${doc.originator === 'konnector' ? 'connector' : 'app'} ${doc.slug}`;
  return 'your Hearth';
}

export function renderNotificationMail(instance: Pick<Instance, 'domain' | 'publicName' | 'locale'>, link: string, doc: NotificationDoc): MailArgs {
  const owner = instance.publicName?.trim() || instance.domain;
  const from = senderLabel(doc);
  const paragraphs = [doc.message, doc.content].filter((p): p is string => typeof p === 'string' && p.trim() !== '');
  const text = [
    doc.title,
    '',
    ...paragraphs.flatMap((p) => [p, '']),
    '-- ',
    `Sent by ${from} from ${owner}'s Hearth: ${link}`,
    'You can choose which notifications come by mail in the notification preferences of your Hearth.',
  ].join('\n');
  const body = [
    '<!DOCTYPE html>',
    `<html lang="${esc(instance.locale || 'en')}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">`,
    `<title>${esc(doc.title)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#f5f6f7;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#1f2328">',
    '<div style="max-width:560px;margin:0 auto;background:#fff;border-radius:8px;padding:24px">',
    `<h1 style="font-size:20px;margin:0 0 16px">${html(doc.title)}</h1>`,
    ...paragraphs.map((p) => `<p style="font-size:15px;line-height:1.5;margin:0 0 12px">${html(p)}</p>`),
    '<hr style="border:none;border-top:1px solid #e1e4e8;margin:20px 0">',
    `<p style="font-size:12px;color:#57606a;margin:0">Sent by ${esc(from)} from <a href="${esc(link)}" style="color:#0969da">${esc(owner)}</a>.`,
    ' You can choose which notifications come by mail in the notification preferences of your Hearth.</p>',
    '</div></body></html>',
  ].join('\n');
  return { mode: 'noreply', subject: mailSubject(doc.title), parts: [{ type: 'text/plain', body: text }, { type: 'text/html', body }] };
}
