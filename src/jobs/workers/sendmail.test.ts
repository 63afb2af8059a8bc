/** sendmail through a real loopback SMTP server (smtp-server), the mails parsed back with mailparser. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AddressObject } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceUnavailable, TooManyRequests } from '../../common/errors.js';
import { DEFAULTS } from '../../config/schema.js';
import { ROOT_DIR_ID } from '../../files/types.js';
import type { Instance } from '../../instances/types.js';
import { SmtpMailer } from '../../mail/mailer.js';
import { LimitedMailer, SlidingWindowLimiter } from '../../mail/rate-limit.js';
import { jobContext } from '../../../test/helpers/job-context.js';
import { openTestVfs, type TestVfs } from '../../../test/helpers/vfs.js';
import { startTestSmtp, type ReceivedMail, type TestSmtp } from '../../../test/helpers/smtp.js';
import { PermanentJobError } from '../types.js';
import { sendmailWorker, type SendmailDeps } from './sendmail.js';

let received: ReceivedMail[];
let server: TestSmtp;
let smtp: SmtpMailer;
let t: TestVfs;
let owner: Instance;
const config = (from: string | null = null) => ({ mail: { ...structuredClone(DEFAULTS.mail), from } });

beforeAll(async () => {
  server = await startTestSmtp();
  received = server.received;
  smtp = new SmtpMailer({ host: '127.0.0.1', port: server.port, secure: false, requireTls: false, user: null, password: null });
  t = openTestVfs('e');
  owner = { ...t.instance, email: 'alice@example.org', publicName: 'Alice Été' };
});
afterAll(async () => {
  await smtp.close();
  await server.close();
  await t.close();
});

const deps = (over: Partial<SendmailDeps> = {}): SendmailDeps => ({ vfs: t.vfs, mailer: new LimitedMailer(smtp, new SlidingWindowLimiter(), 100), config: config(), ...over });
const run = (d: SendmailDeps, args: unknown, instance = owner) => sendmailWorker(d).run(jobContext(instance, 'sendmail', args).ctx);
const parts = [{ type: 'text/plain', body: 'Hello café' }, { type: 'text/html', body: '<p>Hello <b>café</b></p>' }];
const addrs = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a : a ? [a] : []).flatMap((x) => x.value);
const up = (name: string, data: Buffer) => t.vfs.fs.upload(t.instance, { dirId: ROOT_DIR_ID, name, body: Readable.from([data]) });

async function refused(d: SendmailDeps, args: unknown, re: RegExp, instance = owner): Promise<void> {
  const before = received.length;
  const e = await run(d, args, instance).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(PermanentJobError);
  expect((e as Error).message).toMatch(re);
  expect(received.length).toBe(before);
}

describe('sendmail worker', () => {
  it('noreply: to the owner, from the default noreply sender, with a file of the VFS and a base64 attachment', async () => {
    const w = sendmailWorker(deps());
    expect(w).toMatchObject({ name: 'sendmail', maxExecCount: 3, timeoutSeconds: 60 });
    expect(w.internal).toBeFalsy();
    const bytes = randomBytes(300_000);
    const file = await up('report.pdf', bytes);
    const small = Buffer.from([0, 1, 2, 255]);
    await run(deps(), {
      mode: 'noreply', subject: 'Your report ✉', parts,
      attachments: [{ file_id: file._id }, { filename: 'renamed.bin', file_id: file._id }, { filename: 'small.bin', content: small.toString('base64') }],
    });
    const got = received.at(-1)!;
    expect(got.from).toBe('noreply@e.files.example');
    expect(got.to).toEqual(['alice@example.org']);
    expect(addrs(got.mail.to)).toEqual([{ name: 'Alice Été', address: 'alice@example.org' }]);
    expect(got.mail.subject).toBe('Your report ✉');
    expect(got.mail.text?.trim()).toBe('Hello café');
    expect(got.mail.html).toContain('<b>café</b>');
    expect(got.mail.attachments.map((a) => [a.filename, a.contentType])).toEqual([
      ['report.pdf', 'application/pdf'], ['renamed.bin', 'application/pdf'], ['small.bin', 'application/octet-stream'],
    ]);
    expect(Buffer.compare(got.mail.attachments[0]!.content, bytes)).toBe(0);
    expect(Buffer.compare(got.mail.attachments[1]!.content, bytes)).toBe(0);
    expect(Buffer.compare(got.mail.attachments[2]!.content, small)).toBe(0);
  });

  it('from: to the recipients, under the owner name from the noreply address, replying to the owner', async () => {
    await run(deps({ config: config('My Hearth <mail@hearth.example>') }), {
      mode: 'from', to: [{ name: 'Bob', email: 'bob@example.net' }, { email: 'carol@example.net' }], subject: 'Hey', parts: [{ type: 'text/html', body: '<h1>Hey !</h1>' }],
    });
    const got = received.at(-1)!;
    expect(got.from).toBe('mail@hearth.example');
    expect(got.to).toEqual(['bob@example.net', 'carol@example.net']);
    expect(addrs(got.mail.from)).toEqual([{ name: 'Alice Été', address: 'mail@hearth.example' }]);
    expect(addrs(got.mail.replyTo)).toEqual([{ name: '', address: 'alice@example.org' }]);
    expect(got.mail.text?.trim()).toBe('Hey !');
    // no mail.from: the instance's noreply address
    await run(deps(), { mode: 'from', to: [{ email: 'dan@example.net' }], subject: 's', parts });
    expect(received.at(-1)!.from).toBe('noreply@e.files.example');
  });

  it('refuses for good bad addresses, a missing owner address, bad arguments, trashed, missing or too big attachments', async () => {
    const d = deps();
    await refused(d, { mode: 'from', to: [{ email: 'not an address' }], subject: 's', parts }, /to\[0\]: "not an address" is not a valid email address/);
    await refused(d, { mode: 'from', to: [{ name: 'x\r\nBcc: eve@example.net', email: 'bob@example.net' }], subject: 's', parts }, /refused: .*line breaks/);
    await refused(d, { mode: 'from', subject: 's', parts }, /"to" must be a non-empty list/);
    await refused(d, { mode: 'noreply', subject: 's', parts }, /no valid owner email/, { ...owner, email: null });
    await refused(d, { mode: 'support', subject: 's', parts }, /unknown mode "support"/);
    await refused(d, { mode: 'noreply', subject: 's', parts: [{ type: 'text/markdown', body: '*' }] }, /unknown body content-type/);
    await refused(d, { mode: 'noreply', subject: 'a\nb', parts }, /line breaks/);
    const gone = await up('gone.txt', Buffer.from('gone'));
    await t.vfs.tree.trash(t.instance, gone._id);
    await refused(d, { mode: 'noreply', subject: 's', parts, attachments: [{ file_id: gone._id }] }, /attachments\[0\]: the file .* is in the trash/);
    await refused(d, { mode: 'noreply', subject: 's', parts, attachments: [{ file_id: 'nope' }] }, /attachments\[0\]: no file or directory/);
    await refused(d, { mode: 'noreply', subject: 's', parts, attachments: [{ filename: 'x', content: '***' }] }, /not base64/);
    const big = await up('big.bin', Buffer.alloc(2000));
    await refused(deps({ maxAttachmentBytes: 1000 }), { mode: 'noreply', subject: 's', parts, attachments: [{ file_id: big._id }] }, /more than the 1000 bytes/);
  });

  it('a rate limit or an SMTP server down is a retryable failure', async () => {
    const limited = deps({ mailer: new LimitedMailer(smtp, new SlidingWindowLimiter(), 1) });
    const args = { mode: 'noreply', subject: 'once', parts };
    await run(limited, args);
    const e = await run(limited, args).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TooManyRequests);
    expect(e).not.toBeInstanceOf(PermanentJobError);
    const dead = new SmtpMailer({ host: '127.0.0.1', port: 1, secure: false, requireTls: false, user: null, password: null }, null, 2000);
    try {
      const down = await run(deps({ mailer: dead }), args).catch((x: unknown) => x);
      expect(down).toBeInstanceOf(ServiceUnavailable);
    } finally {
      await dead.close();
    }
  });
});
