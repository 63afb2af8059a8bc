/** `hearth instances …`: instance administration through the admin API. */
import { createInterface } from 'node:readline/promises';
import { Argument, InvalidArgumentError, type Command } from 'commander';
import { AdminClient, withAdminOptions, type AdminOptions } from './client.js';
import { parseScope } from '../permissions/rules.js';
import { checkContextName, checkEmail, checkLocale, checkPassphraseStrength, checkPublicName, checkTos, checkTz } from './fields.js';
import { addMigrateCommand } from './migrate.js';
import { addImportCommand } from './import.js';
import { addExportCommand } from './export.js';
import { CliError, checkedBy, err, formatBytes, out, parseBytes, parseDomain, printJson, table } from './io.js';

type Env = Record<string, string | undefined>;

interface Resource {
  id: string;
  attributes: {
    domain: string; domain_aliases: string[]; locale: string; email: string | null; public_name: string | null;
    tz: string | null; disk_quota: number | null; onboarded: boolean; created_at: string; updated_at: string;
    context_name?: string; tos_signed?: string | null; tos_latest?: string | null;
  };
  meta?: { registration_url?: string };
}

interface InstanceOptions extends AdminOptions {
  passphrase?: string; email?: string; locale?: string; publicName?: string; tz?: string;
  diskQuota?: number | null; domainAliases?: string[]; json?: boolean; unlock?: boolean;
  contextName?: string; tos?: string; tosLatest?: string;
}

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
const domainArg = () => new Argument('<domain>', 'the instance domain, e.g. alice.example.org').argParser(parseDomain);
const list = (raw: string) => raw.split(',').map((s) => s.trim()).filter(Boolean).map(parseDomain);
const pageSize = (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError('expected a whole number from 1 to 1000.');
  return n;
};
const orNull = (s: string | undefined) => (s === undefined ? undefined : s === '' ? null : s);

function instanceOptions(cmd: Command): Command {
  return withAdminOptions(cmd)
    .option('--passphrase <passphrase>', "the owner's passphrase, at least 8 characters (otherwise set at onboarding)", checkedBy(checkPassphraseStrength))
    .option('--email <email>', "the owner's email address", checkedBy(checkEmail))
    .option('--locale <locale>', 'the locale, e.g. en or fr', checkedBy(checkLocale))
    .option('--public-name <name>', 'the name shown to others', checkedBy(checkPublicName))
    .option('--disk-quota <bytes>', 'a quota in bytes or with a unit (10GB, 512MiB) or "unlimited"', parseBytes)
    .option('--tz <tz>', 'the time zone, e.g. Europe/Paris', checkedBy(checkTz))
    .option('--domain-aliases <a,b>', 'other domains serving this instance (comma-separated)', list)
    .option('--context-name <name>', 'the context, whose stack assets (`hearth assets`) override the defaults', checkedBy(checkContextName))
    .option('--tos <version>', 'the terms of service the owner signed, e.g. 1.0.0-20270101', checkedBy(checkTos))
    .option('--tos-latest <version>', 'the latest terms of service: the owner is warned 30 days before their date', checkedBy(checkTos))
    .option('--json', 'print the instance as JSON');
}

function body(o: InstanceOptions): Record<string, unknown> {
  const b: Record<string, unknown> = {
    passphrase: o.passphrase, email: orNull(o.email), locale: o.locale, public_name: orNull(o.publicName),
    tz: orNull(o.tz), disk_quota: o.diskQuota, domain_aliases: o.domainAliases,
    context_name: o.contextName, tos_signed: orNull(o.tos), tos_latest: orNull(o.tosLatest),
  };
  for (const k of Object.keys(b)) if (b[k] === undefined) delete b[k];
  return b;
}

function show(r: Resource): void {
  const a = r.attributes;
  const rows: Array<[string, string]> = [
    ['domain', a.domain], ['id', r.id], ['aliases', a.domain_aliases.join(', ') || '-'], ['locale', a.locale],
    ['email', a.email ?? '-'], ['public name', a.public_name ?? '-'], ['time zone', a.tz ?? '-'],
    ['disk quota', formatBytes(a.disk_quota)], ['onboarded', a.onboarded ? 'yes' : 'no'], ['context', a.context_name ?? 'default'],
    ['terms signed', a.tos_signed ?? '-'], ['latest terms', a.tos_latest ?? '-'],
    ['created', a.created_at], ['updated', a.updated_at],
  ];
  out(table(rows.map(([k, v]) => [`${k}:`, v])));
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** Adds `instances` to `parent` (with .command() so that it inherits exitOverride and output settings). */
export function addInstancesCommand(parent: Command, env: Env): Command {
  const cmd = parent.command('instances').description('manage instances (one per person) through the admin API');
  const client = (o: AdminOptions) => AdminClient.from(o, env);
  const enc = encodeURIComponent;

  instanceOptions(cmd.command('add').description('create an instance').addArgument(domainArg()))
    .addHelpText('after', examples('hearth instances add alice.example.org --email alice@example.org --locale fr', 'hearth instances add bob.localhost:8080 --passphrase correct-horse-battery --disk-quota 10GB'))
    .action(async (domain: string, o: InstanceOptions) => {
      const { data } = await client(o).request<{ data: Resource }>('POST', '/instances', { domain, ...body(o) });
      if (o.json) return printJson(data.data);
      out(`Instance created for ${data.data.attributes.domain} (id ${data.data.id})\n`);
      if (data.data.meta?.registration_url) out(`Open this link to choose the passphrase: ${data.data.meta.registration_url}\n`);
    });

  withAdminOptions(cmd.command('ls').description('list the instances, a page at a time (by domain)'))
    .option('--json', 'print the JSON-API list')
    .option('--limit <n>', 'how many instances to show (default 100, at most 1000)', pageSize, 100)
    .option('--after <domain>', 'start after this domain (the next page)', parseDomain)
    .option('--all', 'show every instance, page after page')
    .addHelpText('after', examples('hearth instances ls', 'hearth instances ls --after alice.example.org', 'hearth instances ls --all --json | jq -r ".[].attributes.domain"'))
    .action(async (o: AdminOptions & { json?: boolean; limit: number; after?: string; all?: boolean }) => {
      const all: Resource[] = [];
      let path: string | null = `/instances?page[limit]=${o.limit}${o.after ? `&page[cursor]=${enc(o.after)}` : ''}`;
      let more = false;
      while (path) {
        const res: { data: { data: Resource[]; links?: { next?: string } } } = await client(o).request('GET', path);
        all.push(...res.data.data);
        more = !!res.data.links?.next;
        path = o.all && res.data.links?.next ? res.data.links.next : null;
      }
      if (o.json) return printJson(all);
      if (all.length === 0) return out(o.after ? `No instances after ${o.after}.\n` : 'No instances yet: create one with `hearth instances add <domain>`.\n');
      const rows = all.map(({ attributes: a }) => [a.domain, a.locale, a.email ?? '-', formatBytes(a.disk_quota), a.onboarded ? 'yes' : 'no', a.created_at]);
      out(table([['DOMAIN', 'LOCALE', 'EMAIL', 'QUOTA', 'ONBOARDED', 'CREATED'], ...rows]));
      if (more) out(`More: hearth instances ls --after ${all[all.length - 1]!.attributes.domain} (or --all)\n`);
    });

  withAdminOptions(cmd.command('show').description("show an instance's settings").addArgument(domainArg()))
    .option('--json', 'print the instance as JSON')
    .addHelpText('after', examples('hearth instances show alice.example.org'))
    .action(async (domain: string, o: AdminOptions & { json?: boolean }) => {
      const { data } = await client(o).request<{ data: Resource }>('GET', `/instances/${enc(domain)}`);
      if (o.json) printJson(data.data);
      else show(data.data);
    });

  instanceOptions(cmd.command('modify').description("change an instance's settings (an empty value clears email, public name, tz)").addArgument(domainArg()))
    .option('--unlock', "lift the lock-out after too many failed logins (the server's memory: a restart also lifts it)")
    .addHelpText('after', examples('hearth instances modify alice.example.org --disk-quota 20GB', 'hearth instances modify alice.example.org --email ""', 'hearth instances modify alice.example.org --unlock'))
    .action(async (domain: string, o: InstanceOptions) => {
      const patch = body(o);
      if (o.unlock) patch.unlock = true;
      if (Object.keys(patch).length === 0) throw new CliError('nothing to modify: pass at least one option (see --help)', 2);
      const { data } = await client(o).request<{ data: Resource }>('PATCH', `/instances/${enc(domain)}`, patch);
      if (o.json) printJson(data.data);
      else show(data.data);
    });

  withAdminOptions(cmd.command('destroy').description('delete an instance and all its data (irreversible)').addArgument(domainArg()))
    .option('--force', 'do not ask for confirmation')
    .addHelpText('after', examples('hearth instances destroy alice.example.org --force'))
    .action(async (domain: string, o: AdminOptions & { force?: boolean }) => {
      if (!o.force) {
        if (!process.stdin.isTTY || !process.stdout.isTTY) {
          throw new CliError(`refusing to destroy ${domain} without confirmation: pass --force`, 2);
        }
        if (!(await confirm(`Destroy the instance ${domain} and all its data? [y/N] `))) throw new CliError('aborted', 1);
      }
      await client(o).request('DELETE', `/instances/${enc(domain)}`);
      out(`Instance ${domain} destroyed\n`);
    });

  addMigrateCommand(cmd, client);
  addImportCommand(cmd, client);
  addExportCommand(cmd, client);

  withAdminOptions(cmd.command('fsck').description("check an instance's file system: documents against file contents, and the tree").addArgument(domainArg()))
    .option('--clean', 'also remove the contents no document names (left by uploads cut by a crash)')
    .option('--json', 'print one JSON object per problem')
    .addHelpText('after', examples('hearth instances fsck alice.example.org', 'hearth instances fsck alice.example.org --clean'))
    .action(async (domain: string, o: AdminOptions & { clean?: boolean; json?: boolean }) => {
      const { data } = await client(o).request<string>('GET', `/instances/${enc(domain)}/fsck${o.clean ? '?clean=true' : ''}`, undefined, { timeoutMs: 30 * 60_000 });
      const text = typeof data === 'string' ? data : data === null ? '' : JSON.stringify(data) + '\n';
      const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; file_doc?: { _id?: string; name?: string }; dir_doc?: { _id?: string; name?: string }; blob?: { key: string; removed: boolean }; export?: { id: string; expires_at: string } });
      if (o.json) return out(lines.map((p) => JSON.stringify(p) + '\n').join(''));
      // contents an export keeps (files changed or deleted since it began) are no problem: said apart, never removed
      const problems = lines.filter((p) => p.type !== 'held_by_export');
      const held = new Map<string, { n: number; until: string }>();
      for (const p of lines) if (p.export) held.set(p.export.id, { n: (held.get(p.export.id)?.n ?? 0) + 1, until: p.export.expires_at });
      for (const [id, { n, until }] of held) out(`${n} content(s) no file names any more are kept for the export ${id} (not orphans: --clean leaves them); they go when it ends, by ${until} at the latest.\n`);
      if (problems.length === 0) return out(`The file system of ${domain} is sound.\n`);
      out(table([['PROBLEM', 'ENTRY', 'NOTE'], ...problems.map((p) => {
        const doc = p.file_doc ?? p.dir_doc;
        return [p.type, doc ? `${doc.name ?? ''} (${doc._id ?? ''})` : p.blob ? `content ${p.blob.key}` : '', p.blob ? (p.blob.removed ? 'removed' : 'run again with --clean to remove it') : ''];
      })]));
      out(`${problems.length} problem(s) found.\n`);
    });

  withAdminOptions(cmd.command('token-cli').description('print a CLI token (valid 30 min) for the given permission scopes'))
    .addArgument(domainArg())
    .argument('<scope...>', 'doctypes or permission scopes, e.g. io.cozy.files', (raw: string, prev: string[] = []) => [...prev, checkedBy(parseScope)(raw)])
    .addHelpText('after', examples('hearth instances token-cli alice.example.org io.cozy.files io.cozy.contacts'))
    .action(async (domain: string, scopes: string[], o: AdminOptions) => {
      const { data } = await client(o).request<{ token: string }>('POST', '/instances/token', { domain, audience: 'cli', scope: scopes.join(' ') });
      out(data.token + '\n');
    });

  withAdminOptions(cmd.command('token-app').description('grant an app slug its rights and print an app token (valid 24 h, only with the session cookie printed on stderr)'))
    .addArgument(domainArg())
    .argument('<slug>', 'the app slug, e.g. drive')
    .option('--scope <scope>', 'space-separated permission scopes for the app', checkedBy(parseScope))
    .addHelpText('after', examples('hearth instances token-app alice.example.org drive --scope "io.cozy.files"'))
    .action(async (domain: string, slug: string, o: AdminOptions & { scope?: string }) => {
      const req = { domain, audience: 'app', subject: slug, ...(o.scope === undefined ? {} : { scope: o.scope }) };
      const { data } = await client(o).request<{ token: string; session_cookie?: string }>('POST', '/instances/token', req);
      out(data.token + '\n');
      // the token is bound to a "hearth-cli" session: it is refused without that session's cookie
      if (data.session_cookie) {
        err(`This app token is valid only with its session cookie; send both:\n  -H "Authorization: Bearer $TOKEN" -H "Cookie: cozysessid=${data.session_cookie}"\n`);
      }
    });

  withAdminOptions(cmd.command('token-konnector').description('grant a konnector slug its rights and print a konnector token (valid 30 min)'))
    .addArgument(domainArg())
    .argument('<slug>', 'the konnector slug, e.g. bank-x')
    .option('--scope <scope>', 'space-separated permission scopes for the konnector', checkedBy(parseScope))
    .addHelpText('after', examples('hearth instances token-konnector alice.example.org bank-x --scope "io.cozy.bank.* io.cozy.files:POST"'))
    .action(async (domain: string, slug: string, o: AdminOptions & { scope?: string }) => {
      const req = { domain, audience: 'konnector', subject: slug, ...(o.scope === undefined ? {} : { scope: o.scope }) };
      const { data } = await client(o).request<{ token: string }>('POST', '/instances/token', req);
      out(data.token + '\n');
    });

  return cmd;
}
