/**
 * `hearth apps install|update|uninstall|ls` and `hearth konnectors install|update|uninstall|ls`: the installed
 * apps of an instance through the admin API. Install and update print each state as it comes (NDJSON progress
 * from the server); `--json` prints the final document instead; the exit code is 1 when the operation failed.
 */
import { Argument, type Command } from 'commander';
import { AdminClient, withAdminOptions, type AdminOptions } from './client.js';
import { CliError, out, parseDomain, printJson, table } from './io.js';

type Env = Record<string, string | undefined>;
interface AppResource { id: string; attributes: { slug: string; state: string; version: string; source: string; available_version?: string; error?: string } }
type Line = { type: 'state'; data: AppResource } | { type: 'error'; error: string } | { type: 'working' };
type Opts = AdminOptions & { domain: string; source?: string; json?: boolean; permissionsAcked?: boolean; deactivated?: boolean };

const enc = encodeURIComponent;
const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
const withDomain = (cmd: Command) => withAdminOptions(cmd).requiredOption('--domain <domain>', 'the instance, e.g. alice.example.org', parseDomain);

/** Runs an install or update, printing its states (unless --json); returns the last state, throws on an error line. */
async function operate(client: AdminClient, method: 'POST' | 'PUT', path: string, json: boolean): Promise<void> {
  let last: AppResource | null = null;
  let error: string | null = null;
  await client.stream(path, (raw) => {
    const line = JSON.parse(raw) as Line;
    if (line.type === 'state') {
      last = line.data;
      const a = line.data.attributes;
      if (!json) out(`${new Date().toISOString()}  ${a.slug} ${a.state}${a.version ? ` ${a.version}` : ''}${a.available_version ? ` (${a.available_version} waits for --permissions-acked)` : ''}\n`);
    } else if (line.type === 'error') error = line.error;
  }, method);
  if (error !== null) throw new CliError(`failed: ${error as string}`, 1);
  if (!last) throw new CliError('the server sent no state', 1);
  if (json) printJson(last);
}

function addKind(parent: Command, env: Env, name: 'apps' | 'konnectors', what: string): void {
  const cmd = parent.commands.find((c) => c.name() === name) ?? parent.command(name);
  if (!/\binstall/.test(cmd.description())) cmd.description(`${cmd.description() ? `${cmd.description()}; ` : ''}install, update, uninstall and list ${what}s`);
  const slugArg = new Argument('<slug>', `the ${what}'s slug`);
  const base = (domain: string) => `/instances/${enc(domain)}/${name}`;
  withDomain(cmd.command('install').description(`install a ${what}, printing its progress`))
    .addArgument(slugArg)
    .option('--source <source>', 'registry://slug[/channel][/version], https://….tar.gz[#sha256], git://….git[#branch], git+https://….git[#branch], file:///dir (dev); default registry://<slug>/stable')
    .option('--deactivated', 'end in state installed rather than ready')
    .option('--json', 'print the final document as JSON')
    .addHelpText('after', examples(`hearth ${name} install my${name === 'apps' ? 'app' : 'konnector'} --domain alice.example.org --source https://example.org/my.tar.gz`))
    .action(async (slug: string, o: Opts) => {
      const q = new URLSearchParams({ ...(o.source ? { Source: o.source } : {}), ...(o.deactivated ? { Deactivated: 'true' } : {}) });
      await operate(AdminClient.from(o, env), 'POST', `${base(o.domain)}/${enc(slug)}?${q}`, o.json === true);
    });
  withDomain(cmd.command('update').description(`update a ${what} (from its source, or --source), printing its progress`))
    .addArgument(slugArg)
    .option('--source <source>', 'a new source (default: the one it was installed from)')
    .option('--permissions-acked', 'accept the new permissions or terms the update asks for')
    .option('--json', 'print the final document as JSON')
    .addHelpText('after', examples(`hearth ${name} update my${name === 'apps' ? 'app' : 'konnector'} --domain alice.example.org --permissions-acked`))
    .action(async (slug: string, o: Opts) => {
      const q = new URLSearchParams({ ...(o.source ? { Source: o.source } : {}), ...(o.permissionsAcked ? { PermissionsAcked: 'true' } : {}) });
      await operate(AdminClient.from(o, env), 'PUT', `${base(o.domain)}/${enc(slug)}?${q}`, o.json === true);
    });
  withDomain(cmd.command('uninstall').description(`uninstall a ${what}: its document, permissions, triggers and code`))
    .addArgument(slugArg)
    .option('--json', 'print the removed document as JSON')
    .action(async (slug: string, o: Opts) => {
      const { data } = await AdminClient.from(o, env).request<{ data: AppResource }>('DELETE', `${base(o.domain)}/${enc(slug)}`);
      if (o.json) printJson(data.data);
      else out(`${slug} uninstalled\n`);
    });
  withDomain(cmd.command('ls').description(`list the installed ${what}s`))
    .option('--json', 'print them as JSON')
    .action(async (o: Opts) => {
      const { data } = await AdminClient.from(o, env).request<{ data: AppResource[] }>('GET', base(o.domain));
      if (o.json) return printJson(data.data);
      if (!data.data.length) return out(`No ${what}s on ${o.domain}.\n`);
      out(table([['SLUG', 'STATE', 'VERSION', 'SOURCE'], ...data.data.map((d) => [d.attributes.slug, d.attributes.state, d.attributes.version || '-', d.attributes.source])]));
    });
}

export function addAppsCommands(parent: Command, env: Env): void {
  addKind(parent, env, 'apps', 'web app');
  addKind(parent, env, 'konnectors', 'konnector');
}
