/** `hearth mails ls|show`: the dev outbox (<dataDir>/outbox), read directly from disk. */
import { Argument, type Command } from 'commander';
import { BadRequest } from '../common/errors.js';
import { loadConfig } from '../config/load.js';
import { listOutbox, outboxDir, readOutboxMail } from '../mail/outbox.js';
import { readMail } from '../mail/mime-read.js';
import { CliError, out, parseDomain, printJson, table } from './io.js';

type Env = Record<string, string | undefined>;
type Flags = { config?: string; dataDir?: string };
const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
const SHOWN = ['date', 'from', 'to', 'cc', 'reply-to', 'subject', 'message-id'];

function withDataOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'YAML configuration file (env HEARTH_CONFIG, default ./hearth.yaml if present)')
    .option('--data-dir <dir>', 'where data lives (default ./.hearth)');
}

export function addMailsCommand(parent: Command, env: Env): Command {
  const cmd = parent
    .command('mails')
    .description('read the mails of the dev outbox (mail.mode outbox, or auto with --dev): <dataDir>/outbox')
    .addHelpText('after', examples('hearth mails ls', 'hearth mails show 20260102T030405678Z-1a2b3c4d5e6f'));
  const dirOf = (o: Flags) => outboxDir(loadConfig({ flags: { config: o.config, dataDir: o.dataDir }, env }).dataDir);

  withDataOptions(cmd.command('ls').description('list the mails "sent" to the outbox, oldest first'))
    .option('--json', 'print the summaries {id, domain, messageId, to, subject, date} as JSON')
    .option('--domain <domain>', 'only the mails of this instance', parseDomain)
    .addHelpText('after', examples('hearth mails ls', 'hearth mails ls --domain alice.localhost:8080 --json'))
    .action(async (o: Flags & { json?: boolean; domain?: string }) => {
      const dir = dirOf(o);
      const all = await listOutbox(dir);
      const mails = (all ?? []).filter((m) => o.domain === undefined || m.domain === o.domain);
      if (o.json) return printJson(mails);
      if (mails.length === 0) return out(`no mail yet (the outbox is ${dir})\n`);
      out(table([['ID', 'DATE', 'DOMAIN', 'TO', 'SUBJECT'], ...mails.map((m) => [m.id, m.date, m.domain, m.to.join(', '), m.subject])]));
    });

  withDataOptions(cmd.command('show').description("print a mail's headers and text part").addArgument(new Argument('<id>', 'the mail id, as `hearth mails ls` prints it')))
    .option('--raw', 'print the whole MIME message (.eml) instead')
    .addHelpText('after', examples('hearth mails show 20260102T030405678Z-1a2b3c4d5e6f', 'hearth mails show 20260102T030405678Z-1a2b3c4d5e6f --raw > mail.eml'))
    .action(async (id: string, o: Flags & { raw?: boolean }) => {
      const dir = dirOf(o);
      if ((await listOutbox(dir)) === null) throw new CliError(`no mail yet (the outbox is ${dir})`, 1);
      const eml = await readOutboxMail(dir, id).catch((e: Error) => {
        throw new CliError(e.message, e instanceof BadRequest ? 2 : 1);
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

