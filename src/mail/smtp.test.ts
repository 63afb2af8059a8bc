import { createServer, type AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceUnavailable } from '../common/errors.js';
import { SmtpMailer, type SmtpSettings } from './mailer.js';

let server: SMTPServer;
let port: number;
const received: Array<{ from: string; to: string[]; raw: Buffer; user: string | undefined }> = [];

beforeAll(async () => {
  server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'bot' && auth.password === 's3cret') return cb(null, { user: 'bot' });
      cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const settings = (over: Partial<SmtpSettings> = {}): SmtpSettings => ({
  host: '127.0.0.1', port, secure: false, requireTls: false, user: null, password: null, ...over,
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const p = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return p;
}

describe('SmtpMailer', () => {
  it('sends a mail with an attachment through a real SMTP server, authenticated', async () => {
    const mailer = new SmtpMailer(settings({ user: 'bot', password: 's3cret' }));
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 13, 10, 46, 13, 10]);
    try {
      const { messageId } = await mailer.send({
        domain: 'alice.example.org:8080',
        to: [{ name: 'Bob Été', email: 'bob@example.net' }, { email: 'carol@example.net' }],
        replyTo: 'alice@example.org',
        subject: 'Hello ✉ there',
        text: 'Plain text, café.\n.\nA line with a lone dot.',
        html: '<p>Hello <b>café</b></p>',
        attachments: [{ filename: 'data.bin', content: bytes, contentType: 'application/octet-stream' }],
      });
      expect(messageId).toMatch(/^<.+@.+>$/);
    } finally {
      await mailer.close();
    }
    const got = received.at(-1)!;
    expect(got).toMatchObject({ from: 'noreply@alice.example.org', to: ['bob@example.net', 'carol@example.net'], user: 'bot' });
    const parsed = await simpleParser(got.raw);
    expect(parsed.from?.value).toEqual([{ name: 'Hearth', address: 'noreply@alice.example.org' }]);
    const to = Array.isArray(parsed.to) ? parsed.to : [parsed.to];
    expect(to.flatMap((a) => a?.value ?? [])).toEqual([{ name: 'Bob Été', address: 'bob@example.net' }, { name: '', address: 'carol@example.net' }]);
    expect(parsed.replyTo?.value[0]?.address).toBe('alice@example.org');
    expect(parsed.subject).toBe('Hello ✉ there');
    expect(parsed.text?.trim()).toBe('Plain text, café.\n.\nA line with a lone dot.');
    expect(parsed.html).toContain('<b>café</b>');
    expect(parsed.attachments).toHaveLength(1);
    expect(parsed.attachments[0]).toMatchObject({ filename: 'data.bin', contentType: 'application/octet-stream' });
    expect(Buffer.compare(parsed.attachments[0]!.content, bytes)).toBe(0);
  });

  it('uses the configured sender and a streamed attachment', async () => {
    const { Readable } = await import('node:stream');
    const mailer = new SmtpMailer(settings(), { name: 'My Hearth', email: 'mail@hearth.example' });
    try {
      await mailer.send({
        domain: 'a.example', to: [{ email: 'x@example.net' }], subject: 's', text: 't',
        attachments: [{ filename: 'notes.txt', content: Readable.from([Buffer.from('streamed ')], { objectMode: false }), contentType: 'text/plain' }],
      });
    } finally {
      await mailer.close();
    }
    const parsed = await simpleParser(received.at(-1)!.raw);
    expect(parsed.from?.text).toBe('"My Hearth" <mail@hearth.example>');
    expect(parsed.attachments[0]?.content.toString()).toBe('streamed ');
  });

  it('refuses wrong credentials with an error naming the server', async () => {
    const mailer = new SmtpMailer(settings({ user: 'bot', password: 'wrong' }));
    try {
      await expect(mailer.ping()).rejects.toThrow(new RegExp(`cannot reach the SMTP server 127\\.0\\.0\\.1:${port}: .*Invalid username`));
    } finally {
      await mailer.close();
    }
  });

  it('ping() times a live server and fails clearly on a closed port', async () => {
    const live = new SmtpMailer(settings());
    expect(await live.ping()).toBeGreaterThan(0);
    await live.close();
    const p = await closedPort();
    const dead = new SmtpMailer(settings({ port: p }), null, 2000);
    try {
      const e = await dead.ping().catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ServiceUnavailable);
      expect((e as ServiceUnavailable).status).toBe(503);
      expect((e as Error).message).toContain(`cannot reach the SMTP server 127.0.0.1:${p}`);
      expect((e as Error).message).toMatch(/ECONNREFUSED/);
    } finally {
      await dead.close();
    }
  });

  it('send() through a server that is down names host:port', async () => {
    const p = await closedPort();
    const mailer = new SmtpMailer(settings({ port: p }), null, 2000);
    try {
      await expect(mailer.send({ domain: 'a.example', to: [{ email: 'x@example.net' }], subject: 's', text: 't' })).rejects.toThrow(
        new RegExp(`^cannot send mail through the SMTP server 127\\.0\\.0\\.1:${p}: .*ECONNREFUSED`),
      );
    } finally {
      await mailer.close();
    }
  });
});
