/**
 * `hearth mails ls|show`: the dev outbox (<dataDir>/outbox) of the running server, asked through the admin API (so
 * that it is the server's data directory, whatever it was started with); with --data-dir, read from disk directly.
 */
import { Argument, type Command } from 'commander';
import { BadRequest } from '../common/errors.js';
import { loadConfig } from '../config/load.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listOutbox, mailsOf, outboxDir, readOutboxMail, type OutboxSummary } from '../mail/outbox.js';
import { readMail } from '../mail/mime-read.js';
import { AdminClient, Unreachable, withAdminOptions, type AdminOptions } from './client.js';
import { CliError, err, out, parseDomain, printJson, table } from './io.js';

type Env = Record<string, string | undefined>;
type Flags = AdminOptions & { dataDir?: string };
const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
const SHOWN = ['date', 'from', 'to', 'cc', 'reply-to', 'subject', 'message-id'];

interface Outbox {
  dir: string;
  /** The summaries, oldest first, or null when there is no outbox yet. */
  mails: OutboxSummary[] | null;
  read(id: string): Promise<Buffer>;
}

/** The outbox of a data directory; with `domain`, the mails of the instance served there now (its registry), else of that domain. */
async function onDisk(dataDir: string, domain?: string): Promise<Outbox> {
  const dir = outboxDir(dataDir);
  const all = await listOutbox(dir);
  let mails = all;
  if (all !== null && domain !== undefined) {
    const file = join(dataDir, 'registry.sqlite');
    const { SqliteInstanceRegistry } = await import('../instances/registry-sqlite.js');
    const registry = existsSync(file) ? new SqliteInstanceRegistry(file) : null;
    try {
      const instance = registry ? await registry.findByHost(domain) : null;
      mails = instance ? mailsOf(all, instance) : all.filter((m) => m.domain === domain);
    } finally {
      await registry?.close();
    }
  }
  return { dir, mails, read: (id) => readOutboxMail(dir, id) };
}

/** The server's outbox; a server that does not answer leaves the data directory of the configuration, said on stderr. */
async function outboxOf(o: Flags, env: Env, domain?: string): Promise<Outbox> {
  const local = () => loadConfig({ flags: { config: o.config, dataDir: o.dataDir }, env }).dataDir;
  if (o.dataDir !== undefined) return onDisk(local(), domain);
  const client = AdminClient.from(o, env);
  try {
    const path = domain === undefined ? '/mails' : `/mails?domain=${encodeURIComponent(domain)}`;
    const { data } = await client.request<{ dir: string; mails: OutboxSummary[] }>('GET', path, undefined, { timeoutMs: 5000 });
    const read = async (id: string) => Buffer.from((await client.request<string>('GET', `/mails/${encodeURIComponent(id)}`)).data);
    return { dir: data.dir, mails: data.mails, read };
  } catch (e) {
    if (!(e instanceof Unreachable)) throw e;
    const dataDir = local();
    err(`${e.message}\nreading the outbox of ${dataDir} instead\n`);
    return onDisk(dataDir, domain);
  }
}

function withDataOptions(cmd: Command): Command {
  return withAdminOptions(cmd).option('--data-dir <dir>', "read the outbox of this data directory from disk, without asking the server");
}

export function addMailsCommand(parent: Command, env: Env): Command {
  const cmd = parent
    .command('mails')
    .description("read the mails of the running server's dev outbox (mail.mode outbox, or auto with --dev): <dataDir>/outbox")
    .addHelpText('after', examples('hearth mails ls', 'hearth mails show 20260102T030405678Z-1a2b3c4d5e6f'));

  withDataOptions(cmd.command('ls').description('list the mails "sent" to the outbox, oldest first'))
    .option('--json', 'print the summaries {id, domain, messageId, to, subject, date} as JSON')
    .option('--domain <domain>', 'only the mails of this instance', parseDomain)
    .addHelpText('after', examples('hearth mails ls', 'hearth mails ls --domain alice.localhost:8080 --json'))
    .action(async (o: Flags & { json?: boolean; domain?: string }) => {
      const { dir, mails: found } = await outboxOf(o, env, o.domain);
      const mails = found ?? [];
      if (o.json) return printJson(mails);
      if (mails.length === 0) return out(`no mail yet (the outbox is ${dir})\n`);
      out(table([['ID', 'DATE', 'DOMAIN', 'TO', 'SUBJECT'], ...mails.map((m) => [m.id, m.date, m.domain, m.to.join(', '), m.subject])]));
    });

  withDataOptions(cmd.command('show').description("print a mail's headers and text part").addArgument(new Argument('<id>', 'the mail id, as `hearth mails ls` prints it')))
    .option('--raw', 'print the whole MIME message (.eml) instead')
    .addHelpText('after', examples('hearth mails show 20260102T030405678Z-1a2b3c4d5e6f', 'hearth mails show 20260102T030405678Z-1a2b3c4d5e6f --raw > mail.eml'))
    .action(async (id: string, o: Flags & { raw?: boolean }) => {
      const outbox = await outboxOf(o, env);
      if (outbox.mails === null) throw new CliError(`no mail yet (the outbox is ${outbox.dir})`, 1);
      const eml = await outbox.read(id).catch((e: Error) => {
        throw e instanceof CliError ? e : new CliError(e.message, e instanceof BadRequest ? 2 : 1);
      });
      if (o.raw) return void process.stdout.write(eml);
      const mail = readMail(eml);
      const headers = mail.headers.filter(([k]) => SHOWN.includes(k.toLowerCase()));
      out(table(headers.map(([k, v]) => [`${k}:`, v])));
      if (mail.attachments.length > 0) out(`Attachments: ${mail.attachments.map((a) => `${a.filename} (${a.contentType})`).join(', ')}\n`);
      out(`\n${mail.text ?? '(no text part)'}\n`);
    });
  return cmd;
}
