/** Checks a Mail before it reaches nodemailer: valid addresses, no CR/LF (header injection) in any header value. */
import type { SendMailOptions } from 'nodemailer';
import type { Readable } from 'node:stream';
import { BadRequest } from '../common/errors.js';
import type { Mail } from './mailer.js';

// The WHATWG "valid e-mail address" (ASCII, as HTML forms accept it).
const EMAIL = /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i;

export type Mailbox = { name?: string; email: string };

export function isEmail(s: string): boolean {
  return s.length <= 254 && EMAIL.test(s);
}

/** A header value: no CR, LF or other control character (a tab is fine). */
export function headerText(what: string, value: string): string {
  if (typeof value !== 'string') throw new BadRequest(`${what} must be a string`);
  if (CONTROL.test(value)) throw new BadRequest(`${what} must not contain line breaks or control characters`);
  return value;
}

function mailbox(what: string, m: Mailbox): { name: string; address: string } {
  if (typeof m !== 'object' || m === null || typeof m.email !== 'string') throw new BadRequest(`${what} must be {name?, email}`);
  const email = headerText(`${what} address`, m.email);
  if (!isEmail(email)) throw new BadRequest(`${what}: "${email}" is not a valid email address`);
  return { name: m.name === undefined ? '' : headerText(`${what} name`, m.name), address: email };
}

/** "Name <a@b.c>" or "a@b.c" (the `mail.from` setting) → a Mailbox; throws BadRequest when invalid. */
export function parseMailbox(raw: string): Mailbox {
  const m = /^\s*(?:"?([^"<]*?)"?\s*<([^<>]+)>|([^<>\s]+))\s*$/.exec(raw);
  const email = (m?.[2] ?? m?.[3] ?? '').trim();
  const name = m?.[1]?.trim();
  const box = name ? { name, email } : { email };
  mailbox('from', box);
  return box;
}

/** The bare host of an instance domain ("alice.example.org:8080" → "alice.example.org"). */
export const mailHost = (domain: string): string => domain.replace(/:\d+$/, '');

/** Validates `mail` and turns it into nodemailer options, `defaultFrom` when it has no `from`. */
export function toMessage(mail: Mail, defaultFrom: Mailbox | null): SendMailOptions {
  const domain = headerText('domain', mail.domain);
  if (!domain) throw new BadRequest('the mail has no instance domain');
  if (!Array.isArray(mail.to) || mail.to.length === 0) throw new BadRequest('the mail has no recipient');
  if (typeof mail.text !== 'string') throw new BadRequest('the mail has no text part');
  if (mail.html !== undefined && typeof mail.html !== 'string') throw new BadRequest('html must be a string');
  const from = mail.from ?? defaultFrom ?? { name: 'Hearth', email: `noreply@${mailHost(domain)}` };
  const replyTo = mail.replyTo === undefined ? undefined : headerText('replyTo', mail.replyTo);
  if (replyTo !== undefined && !isEmail(replyTo)) throw new BadRequest(`replyTo: "${replyTo}" is not a valid email address`);
  const attachments = (mail.attachments ?? []).map((a, i) => {
    const filename = headerText(`attachments[${i}].filename`, a.filename);
    if (!filename) throw new BadRequest(`attachments[${i}] has no filename`);
    if (a.contentType !== undefined && !MIME_TYPE.test(a.contentType)) throw new BadRequest(`attachments[${i}].contentType is not a MIME type`);
    if (!Buffer.isBuffer(a.content) && typeof (a.content as Readable | undefined)?.pipe !== 'function') {
      throw new BadRequest(`attachments[${i}].content must be a Buffer or a stream`);
    }
    return { filename, content: a.content as Buffer | Readable, ...(a.contentType ? { contentType: a.contentType } : {}) };
  });
  return {
    from: mailbox('from', from),
    to: mail.to.map((m, i) => mailbox(`to[${i}]`, m)),
    ...(replyTo === undefined ? {} : { replyTo }),
    subject: headerText('subject', mail.subject),
    text: mail.text,
    ...(mail.html === undefined ? {} : { html: mail.html }),
    attachments,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}
