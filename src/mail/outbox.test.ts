import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BadRequest, TooManyRequests } from '../common/errors.js';
import { loadConfig } from '../config/load.js';
import { main } from '../main.js';
import { createHearth } from '../server/compose.js';
import { testConfig } from '../../test/helpers/hearth.js';
import { freePort } from '../../test/helpers/ports.js';
import { createMailer, mailMode, OutboxMailer, SlidingWindowLimiter, type Mail } from './index.js';
import { readMail } from './mime-read.js';

let stdout = '';
let stderr = '';
beforeEach(() => {
  stdout = stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

const tmp = () => mkdtempSync(join(tmpdir(), 'hearth-mail-'));
const mail = (over: Partial<Mail> = {}): Mail => ({ domain: 'alice.localhost:8080', to: [{ email: 'bob@example.net' }], subject: 'Hi', text: 'Hello', ...over });
const pdf = Buffer.from('%PDF-1.4 fake\n\u0000\u00ff', 'latin1');

describe('OutboxMailer', () => {
  it('writes a real MIME .eml (attachments included) and a .json summary', async () => {
    const dir = join(tmp(), 'outbox');
    const mailer = new OutboxMailer(dir);
    const { messageId } = await mailer.send(mail({ subject: 'Réinitialisation', html: '<p>Bonjour</p>', text: 'Bonjour, été ✓', attachments: [{ filename: 'facture été.pdf', content: pdf, contentType: 'application/pdf' }] }));
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{12}\.eml$/);
    expect(files[1]).toBe(files[0]!.replace('.eml', '.json'));
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600);
    const parsed = await simpleParser(readFileSync(join(dir, files[0]!)));
    expect(parsed.messageId).toBe(messageId);
    expect(parsed.from?.text).toBe('"Hearth" <noreply@alice.localhost>');
    expect(parsed.subject).toBe('Réinitialisation');
    expect(parsed.text?.trim()).toBe('Bonjour, été ✓');
    expect(parsed.attachments[0]).toMatchObject({ filename: 'facture été.pdf', contentType: 'application/pdf' });
    expect(Buffer.compare(parsed.attachments[0]!.content, pdf)).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, files[1]!), 'utf8'));
    expect(summary).toEqual({ id: files[0]!.slice(0, -4), domain: 'alice.localhost:8080', instanceId: null, messageId, to: ['bob@example.net'], subject: 'Réinitialisation', date: expect.any(String) });
    // our own reader (used by `hearth mails show`) agrees with mailparser
    const read = readMail(readFileSync(join(dir, files[0]!)));
    expect(read.text?.trim()).toBe('Bonjour, été ✓');
    expect(read.attachments).toEqual([{ filename: 'facture été.pdf', contentType: 'application/pdf' }]);
    expect(read.headers).toContainEqual(['Subject', 'Réinitialisation']);
  });

  it('refuses header injection and invalid addresses with BadRequest', async () => {
    const mailer = new OutboxMailer(join(tmp(), 'outbox'));
    const refused = async (m: Mail, re: RegExp) => {
      const e = await mailer.send(m).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(BadRequest);
      expect((e as Error).message).toMatch(re);
    };
    await refused(mail({ subject: 'Hi\r\nBcc: victim@example.net' }), /subject must not contain line breaks/);
    await refused(mail({ subject: 'Hi\nX: y' }), /subject must not contain line breaks/);
    await refused(mail({ to: [{ name: 'Bob\r\nBcc: x@y.z', email: 'bob@example.net' }] }), /to\[0\] name must not contain/);
    await refused(mail({ to: [{ email: 'bob@example.net\r\nBcc: x@y.z' }] }), /to\[0\] address must not contain/);
    await refused(mail({ to: [{ email: 'not an address' }] }), /"not an address" is not a valid email address/);
    await refused(mail({ to: [{ email: 'a@b@c' }] }), /not a valid email address/);
    await refused(mail({ to: [] }), /no recipient/);
    await refused(mail({ from: { email: 'x@-bad-.org' } }), /from: .* not a valid email address/);
    await refused(mail({ replyTo: 'nope' }), /replyTo/);
    await refused(mail({ attachments: [{ filename: 'a\r\n.txt', content: Buffer.from('') }] }), /filename must not contain/);
    await refused(mail({ attachments: [{ filename: 'a.txt', content: Buffer.from(''), contentType: 'text/plain\r\nX: y' }] }), /not a MIME type/);
  });
});

describe('createMailer', () => {
  it('picks the outbox in dev (auto), SMTP otherwise, and validates mail.from', () => {
    const cwd = tmp();
    expect(mailMode(loadConfig({ cwd, env: { HEARTH_DEV: '1' } }))).toBe('outbox');
    expect(mailMode(loadConfig({ cwd, env: {} }))).toBe('smtp');
    expect(mailMode(loadConfig({ cwd, env: { HEARTH_DEV: '1', HEARTH_MAIL_MODE: 'smtp' } }))).toBe('smtp');
    expect(() => createMailer(loadConfig({ cwd, env: { HEARTH_MAIL_FROM: 'Hearth <oops>' } }))).toThrow(/mail.from must be an address/);
  });

  it('refuses with 429 once an instance sent rateLimitPerHour mails in the last hour', async () => {
    let now = 1_000_000;
    const config = loadConfig({ cwd: tmp(), env: { HEARTH_MAIL_MODE: 'outbox', HEARTH_MAIL_RATE_LIMIT_PER_HOUR: '3', HEARTH_MAIL_FROM: 'Hearth <hi@hearth.example>' } });
    const mailer = createMailer(config, new SlidingWindowLimiter(() => now));
    for (let i = 0; i < 3; i++) await mailer.send(mail());
    const e = await mailer.send(mail()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TooManyRequests);
    expect(e).toMatchObject({ status: 429, error: 'too_many_requests' });
    expect((e as Error).message).toMatch(/alice\.localhost:8080 has sent 3 mails in the last hour/);
    await mailer.send(mail({ domain: 'bob.localhost:8080' })); // another instance has its own quota
    await expect(mailer.send(mail({ subject: 'a\nb' }))).rejects.toBeInstanceOf(BadRequest); // validation first
    now += 3_600_001; // the window slides
    await mailer.send(mail());
    const sent = readdirSync(join(config.dataDir, 'outbox')).filter((f) => f.endsWith('.eml'));
    expect(sent).toHaveLength(5);
    expect(readFileSync(join(config.dataDir, 'outbox', sent[0]!), 'latin1')).toMatch(/^From: Hearth <hi@hearth\.example>/m);
    await mailer.close();
  });
});

describe('hearth mails', () => {
  it('reads the outbox of the running server, whatever data directory it was started with', async () => {
    const dataDir = tmp();
    const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
    try {
      const adminUrl = await hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
      await hearth.mailer.send(mail({ subject: 'Reset your passphrase', text: 'Follow the link' }));
      const env = { HEARTH_ADMIN_URL: adminUrl, HEARTH_ADMIN_PASSPHRASE: 'admin-secret' };
      expect(await main(['mails', 'ls', '--json'], env)).toBe(0);
      const list = JSON.parse(stdout) as Array<{ id: string; subject: string }>;
      expect(list.map((m) => m.subject)).toEqual(['Reset your passphrase']);
      stdout = '';
      expect(await main(['mails', 'show', list[0]!.id], env)).toBe(0);
      expect(stdout).toMatch(/^Subject:\s+Reset your passphrase$/m);
      expect(stdout).toMatch(/\nFollow the link\s*$/);
      expect(await main(['mails', 'show', '20200101T000000000Z-000000000000'], env)).toBe(1);
      expect(stderr).toMatch(/no mail 20200101T000000000Z-000000000000/);
    } finally {
      await hearth.close();
    }
  });

  it('lists by instance, not by domain: a new instance of a reused domain does not see the mails of the one before', async () => {
    const dataDir = tmp();
    const hearth = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
    try {
      const adminUrl = await hearth.adminApp.listen({ host: '127.0.0.1', port: 0 });
      const old = await hearth.registry.create({ domain: 'alice.localhost:8080' });
      await hearth.mailer.send(mail({ subject: 'For the first owner', instanceId: old.id }));
      await hearth.registry.destroy('alice.localhost:8080');
      const reused = await hearth.registry.create({ domain: 'alice.localhost:8080', aliases: ['alice.localhost:9090'] });
      await hearth.mailer.send(mail({ subject: 'For the new owner', instanceId: reused.id }));
      const subjects = async (args: string[], env: Record<string, string>) => {
        stdout = '';
        expect(await main(['mails', 'ls', '--json', ...args], env), stderr).toBe(0);
        return (JSON.parse(stdout) as Array<{ subject: string }>).map((m) => m.subject);
      };
      const env = { HEARTH_ADMIN_URL: adminUrl, HEARTH_ADMIN_PASSPHRASE: 'admin-secret' };
      expect(await subjects([], env)).toEqual(['For the first owner', 'For the new owner']);
      expect(await subjects(['--domain', 'alice.localhost:8080'], env)).toEqual(['For the new owner']);
      // the same instance by an alias (the dev instance on another port)
      expect(await subjects(['--domain', 'alice.localhost:9090'], env)).toEqual(['For the new owner']);
      // from disk, with the data directory's registry
      expect(await subjects(['--domain', 'alice.localhost:8080', '--data-dir', dataDir], {})).toEqual(['For the new owner']);
      stderr = '';
      expect(await main(['mails', 'ls', '--domain', 'nobody.localhost:8080'], env)).toBe(1);
      expect(stderr).toMatch(/no instance for nobody\.localhost:8080/);
    } finally {
      await hearth.close();
    }
  });

  it('lists and shows the outbox of a data directory when no server answers', async () => {
    const dataDir = tmp();
    // nothing listens there: the CLI says so, then reads the configuration's data directory
    const env = { HEARTH_DATA_DIR: dataDir, HEARTH_ADMIN_URL: `http://127.0.0.1:${await freePort()}` };
    expect(await main(['mails', 'ls'], env)).toBe(0);
    expect(stdout).toBe(`no mail yet (the outbox is ${join(dataDir, 'outbox')})\n`);
    expect(stderr).toMatch(/cannot reach the admin API[\s\S]*reading the outbox of/);

    const mailer = new OutboxMailer(join(dataDir, 'outbox'));
    await mailer.send(mail({ subject: 'Code: 123456', text: 'Your code is 123456 ✓', attachments: [{ filename: 'a.txt', content: Buffer.from('x') }] }));
    await mailer.send(mail({ domain: 'bob.localhost:8080', to: [{ name: 'Ann', email: 'ann@example.net' }] }));

    stdout = '';
    expect(await main(['mails', 'ls', '--json'], env)).toBe(0);
    const list = JSON.parse(stdout) as Array<{ id: string; domain: string; subject: string; to: string[] }>;
    expect(list.map((m) => [m.domain, m.subject, m.to])).toEqual([['alice.localhost:8080', 'Code: 123456', ['bob@example.net']], ['bob.localhost:8080', 'Hi', ['ann@example.net']]]);

    stdout = '';
    expect(await main(['mails', 'ls', '--domain', 'BOB.localhost:8080', '--json'], env)).toBe(0);
    expect((JSON.parse(stdout) as unknown[]).length).toBe(1);
    stdout = '';
    expect(await main(['mails', 'ls', '--data-dir', dataDir], {})).toBe(0);
    expect(stdout).toMatch(/^ID\s+DATE\s+DOMAIN\s+TO\s+SUBJECT\n/);
    expect(stdout).toMatch(/alice\.localhost:8080\s+bob@example\.net\s+Code: 123456\n/);

    stdout = '';
    expect(await main(['mails', 'show', list[0]!.id], env)).toBe(0);
    expect(stdout).toMatch(/^Subject:\s+Code: 123456$/m);
    expect(stdout).toMatch(/^From:\s+Hearth <noreply@alice\.localhost>$/m);
    expect(stdout).toMatch(/^Attachments: a\.txt \(text\/plain\)$/m);
    expect(stdout).toContain('\nYour code is 123456 ✓\n');

    stdout = '';
    expect(await main(['mails', 'show', list[0]!.id, '--raw'], env)).toBe(0);
    expect(stdout).toMatch(/^Content-Type: multipart\/mixed/m);

    expect(await main(['mails', 'show', '../../etc/passwd'], env)).toBe(2);
    expect(stderr).toMatch(/is not an outbox mail id/);
    stderr = '';
    expect(await main(['mails', 'show', '20200101T000000000Z-000000000000'], env)).toBe(1);
    expect(stderr).toMatch(/no mail 20200101T000000000Z-000000000000/);
  });

  it('has help with examples', async () => {
    expect(await main(['mails', 'ls', '--help'], {})).toBe(0);
    expect(stdout).toMatch(/--domain <domain>[\s\S]*Examples:\n {2}\$ hearth mails ls/);
  });
});
