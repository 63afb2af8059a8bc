/**
 * The `sendmail` worker (cozy-stack's worker/mails), modes `noreply` (to the owner, from the noreply sender) and
 * `from` (from the owner to `to`: as cozy-stack, the sender address is the noreply one, to keep SPF valid, under
 * the owner's name, and Reply-To is the owner's address). Arguments: `{mode, to?, subject, parts, attachments?}`;
 * an attachment is `{filename, content}` (base64) or, a Hearth extension, `{filename?, file_id}`: a file of the
 * instance, streamed from its blob. Bad arguments are permanent failures; a rate limit (LimitedMailer) or an SMTP
 * server down are retried.
 */
import type { Readable } from 'node:stream';
import type { HearthConfig } from '../../config/types.js';
import type { Vfs } from '../../files/vfs.js';
import type { Mail, MailAttachment, Mailer } from '../../mail/mailer.js';
import { isEmail, mailHost, parseMailbox, type Mailbox } from '../../mail/validate.js';
import { PermanentJobError, type JobContext, type WorkerDef } from '../types.js';
import { CPUS, argString, argsObject, jobFileRights, liveFile, permanentIfClientError, type RightsNow } from './common.js';

export interface SendmailDeps {
  vfs: Vfs;
  mailer: Mailer;
  /** `mail.from`: the noreply sender ("Hearth <noreply@<instance host>>" when unset). */
  config: Pick<HearthConfig, 'mail'>;
  /** The rights of the job's token as they are now, for `file_id` attachments (a revoked app keeps none). */
  rightsNow?: RightsNow;
  /** At most this many bytes of attachments in one mail (default 20 MiB). */
  maxAttachmentBytes?: number;
}

const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;
const fail = (why: string) => new PermanentJobError(`sendmail: ${why}`);

function recipients(raw: unknown): Mailbox[] {
  if (!Array.isArray(raw) || raw.length === 0) throw fail('"to" must be a non-empty list of {name, email} in "from" mode');
  return raw.map((r: unknown, i) => {
    const m = r as { name?: unknown; email?: unknown } | null;
    if (typeof m !== 'object' || m === null || typeof m.email !== 'string') throw fail(`to[${i}] must be {name, email}`);
    const email = m.email.trim();
    if (!isEmail(email)) throw fail(`to[${i}]: "${email.slice(0, 100)}" is not a valid email address`);
    if (m.name !== undefined && m.name !== null && typeof m.name !== 'string') throw fail(`to[${i}].name must be a string`);
    return typeof m.name === 'string' && m.name !== '' ? { name: m.name, email } : { email };
  });
}

/** The text and html bodies; several parts of one type are joined. */
function bodies(raw: unknown): { text: string; html?: string } {
  if (!Array.isArray(raw) || raw.length === 0) throw fail('"parts" must be a non-empty list of {type, body}');
  const text: string[] = [];
  const html: string[] = [];
  raw.forEach((p: unknown, i) => {
    const part = p as { type?: unknown; body?: unknown } | null;
    if (typeof part?.body !== 'string') throw fail(`parts[${i}].body must be a string`);
    if (part.type === 'text/plain') text.push(part.body);
    else if (part.type === 'text/html') html.push(part.body);
    else throw fail(`parts[${i}]: unknown body content-type ${JSON.stringify(part.type)} (text/plain or text/html)`);
  });
  // an html-only mail still gets a plain text alternative: the html without its tags
  const plain = text.length ? text.join('\n') : html.join('\n').replace(/<(script|style)[\s\S]*?<\/\1>/gi, '').replace(/<[^>]*>/g, '').trim();
  return html.length ? { text: plain, html: html.join('\n') } : { text: plain };
}

async function attachments(deps: SendmailDeps, ctx: JobContext, raw: unknown, max: number): Promise<MailAttachment[]> {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw fail('"attachments" must be a list');
  const out: MailAttachment[] = [];
  let total = 0;
  const add = (n: number) => {
    total += n;
    if (total > max) throw fail(`the attachments weigh more than the ${max} bytes a mail may carry`);
  };
  try {
    for (const [i, a] of (raw as unknown[]).entries()) {
      const att = a as { filename?: unknown; content?: unknown; file_id?: unknown } | null;
      if (typeof att !== 'object' || att === null) throw fail(`attachments[${i}] must be {filename, content} or {filename?, file_id}`);
      if (att.filename !== undefined && (typeof att.filename !== 'string' || att.filename === '')) throw fail(`attachments[${i}].filename must be a non-empty string`);
      if (typeof att.file_id === 'string') {
        const doc = await liveFile(deps.vfs.fs, ctx.instance, att.file_id, `sendmail: attachments[${i}]`, await jobFileRights(deps.vfs, ctx, deps.rightsNow));
        add(Number(doc.size));
        const content = await deps.vfs.fs.open(ctx.instance, doc);
        out.push({ filename: (att.filename as string | undefined) ?? doc.name, content, contentType: String(doc.mime || 'application/octet-stream') });
      } else if (typeof att.content === 'string') {
        if (att.filename === undefined) throw fail(`attachments[${i}] has no filename`);
        if (!BASE64.test(att.content)) throw fail(`attachments[${i}].content is not base64`);
        const content = Buffer.from(att.content, 'base64');
        add(content.length);
        out.push({ filename: att.filename as string, content });
      } else {
        throw fail(`attachments[${i}] needs a base64 "content" or a "file_id"`);
      }
    }
  } catch (err) {
    close(out);
    throw err;
  }
  return out;
}

/** Streams not (fully) read by the mailer are closed: their file descriptors are released. */
function close(list: MailAttachment[]): void {
  for (const a of list) if (!Buffer.isBuffer(a.content)) (a.content as Readable).destroy();
}

export function sendmailWorker(deps: SendmailDeps): WorkerDef {
  const max = deps.maxAttachmentBytes ?? 20 * 1024 * 1024;
  return {
    name: 'sendmail',
    concurrency: CPUS,
    // cozy-stack runs it once, within 10 s; Hearth retries (a rate limit, an SMTP server down) and streams big attachments
    maxExecCount: 3,
    timeoutSeconds: 60,
    async run(ctx) {
      const args = argsObject('sendmail', ctx.job.message);
      const { instance } = ctx;
      const owner = instance.email;
      if (owner === null || !isEmail(owner)) throw fail(`the instance ${instance.domain} has no valid owner email address in its settings`);
      const subject = argString('sendmail', args, 'subject');
      if (/[\r\n]/.test(subject)) throw fail('the subject must not contain line breaks');
      if (args.template_name !== undefined) throw fail('mail templates are not supported: give "subject" and "parts"');
      const { text, html } = bodies(args.parts);
      let mail: Mail;
      if (args.mode === 'noreply') {
        if (args.to !== undefined) ctx.log.warn('sendmail: "to" is ignored in noreply mode (the mail goes to the owner)');
        // the sender is the mailer's: mail.from, or Hearth <noreply@host>
        mail = { domain: instance.domain, instanceId: instance.id, to: [instance.publicName ? { name: instance.publicName, email: owner } : { email: owner }], subject, text };
      } else if (args.mode === 'from') {
        const to = recipients(args.to);
        const noreply = deps.config.mail.from === null ? `noreply@${mailHost(instance.domain)}` : parseMailbox(deps.config.mail.from).email;
        mail = { domain: instance.domain, instanceId: instance.id, to, from: { name: instance.publicName || owner, email: noreply }, replyTo: owner, subject, text };
      } else {
        throw fail(`unknown mode ${JSON.stringify(args.mode)} (noreply or from)`);
      }
      if (html !== undefined) mail.html = html;
      const files = await attachments(deps, ctx, args.attachments, max);
      if (files.length) mail.attachments = files;
      try {
        const { messageId } = await deps.mailer.send(mail);
        ctx.log.info({ messageId, mode: args.mode, to: mail.to.length, attachments: files.length }, 'sendmail: mail sent');
      } catch (err) {
        throw permanentIfClientError(err, 'sendmail: the mail was refused');
      } finally {
        close(files);
      }
    },
  };
}
