/**
 * Outgoing mail. SmtpMailer relays through an SMTP server (pooled connections);
 * OutboxMailer (dev) writes each mail as a real MIME `.eml` file plus a `.json`
 * summary into <dataDir>/outbox/. Both validate the mail first (BadRequest).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Transporter } from 'nodemailer';
import { ServiceUnavailable } from '../common/errors.js';
import { loadNodemailer } from '../common/lazy-libs.js';
import type { HearthConfig } from '../config/types.js';
import { newOutboxId, type OutboxSummary } from './outbox.js';
import { toMessage, type Mailbox } from './validate.js';

export interface MailAttachment { filename: string; content: Buffer | NodeJS.ReadableStream; contentType?: string }
export interface Mail {
  to: Array<{ name?: string; email: string }>;
  from?: { name?: string; email: string };
  replyTo?: string;
  subject: string;
  text: string;
  html?: string;
  attachments?: MailAttachment[];
  /** the instance domain, for logs and the outbox */
  domain: string;
  /** the instance id: the dev outbox lists mails by instance, not by a domain that a new instance may reuse */
  instanceId?: string;
}
export interface Mailer {
  send(mail: Mail): Promise<{ messageId: string }>;
  /** Checks the connection (and the credentials); resolves with the round trip in ms. */
  ping(): Promise<number>;
  close(): Promise<void>;
}

export type SmtpSettings = Pick<HearthConfig['mail'], 'host' | 'port' | 'secure' | 'requireTls' | 'user' | 'password'>;

/** A nodemailer transport, made on its first use: nodemailer (~15 MB) is loaded with the first mail, not at start-up. */
class LazyTransport {
  private made: Promise<Transporter> | null = null;

  constructor(private readonly make: (nodemailer: Awaited<ReturnType<typeof loadNodemailer>>) => Transporter) {}

  get(): Promise<Transporter> {
    return (this.made ??= loadNodemailer().then(this.make));
  }

  async close(): Promise<void> {
    if (this.made) (await this.made).close();
  }
}

export class SmtpMailer implements Mailer {
  private readonly transporter;
  private readonly where: string;

  constructor(settings: SmtpSettings, private readonly defaultFrom: Mailbox | null = null, timeoutMs = 10_000) {
    this.where = `${settings.host}:${settings.port}`;
    this.transporter = new LazyTransport((nodemailer) => nodemailer.createTransport({
      pool: true,
      maxConnections: 3,
      host: settings.host,
      port: settings.port,
      secure: settings.secure,
      requireTLS: settings.requireTls,
      ...(settings.user === null ? {} : { auth: { user: settings.user, pass: settings.password ?? '' } }),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: 6 * timeoutMs,
      disableFileAccess: true,
      disableUrlAccess: true,
    }));
  }

  async send(mail: Mail): Promise<{ messageId: string }> {
    const message = toMessage(mail, this.defaultFrom);
    try {
      const info = await (await this.transporter.get()).sendMail(message);
      return { messageId: info.messageId ?? '' };
    } catch (e) {
      throw this.failure('cannot send mail through', e);
    }
  }

  async ping(): Promise<number> {
    const start = performance.now();
    try {
      await (await this.transporter.get()).verify();
    } catch (e) {
      throw this.failure('cannot reach', e);
    }
    return performance.now() - start;
  }

  async close(): Promise<void> {
    await this.transporter.close();
  }

  private failure(what: string, e: unknown): ServiceUnavailable {
    const err = new ServiceUnavailable(`${what} the SMTP server ${this.where}: ${(e as Error).message}`);
    return Object.assign(err, { cause: e });
  }
}

/** Dev mode: "sends" into `<dir>/<id>.eml` (RFC 822, attachments included) and `<dir>/<id>.json`. */
export class OutboxMailer implements Mailer {
  private readonly transporter = new LazyTransport((nodemailer) => nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' }));

  constructor(readonly dir: string, private readonly defaultFrom: Mailbox | null = null) {}

  async send(mail: Mail): Promise<{ messageId: string }> {
    const message = toMessage(mail, this.defaultFrom);
    const info = await (await this.transporter.get()).sendMail(message);
    const now = new Date();
    const id = newOutboxId(now);
    const summary: OutboxSummary = {
      id, domain: mail.domain, instanceId: mail.instanceId ?? null, messageId: info.messageId, to: mail.to.map((m) => m.email), subject: mail.subject, date: now.toISOString(),
    };
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFile(join(this.dir, `${id}.eml`), info.message as Buffer, { flag: 'wx', mode: 0o600 });
    await writeFile(join(this.dir, `${id}.json`), JSON.stringify(summary, null, 2) + '\n', { flag: 'wx', mode: 0o600 });
    return { messageId: info.messageId };
  }

  async ping(): Promise<number> {
    const start = performance.now();
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    return performance.now() - start;
  }

  async close(): Promise<void> {
    await this.transporter.close();
  }
}
