/** `hearth assets add|rm|ls`: per-context stack assets through the admin API (cozy-stack's `config insert-asset|rm-asset|ls-assets`). */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { AdminClient, withAdminOptions, type AdminOptions } from './client.js';
import { checkContextName } from './fields.js';
import { checkedBy, formatBytes, out, printJson, table } from './io.js';

type Env = Record<string, string | undefined>;
interface AssetView { context: string; name: string; size: number; md5: string; type: string; created_at: string }
interface Opts extends AdminOptions { context?: string; name?: string; url?: string; json?: boolean }

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
const contextOption = ['--context <name>', 'the context (default: default, which every context falls back to)'] as const;
/** A path of this machine becomes a file:// URL (the server reads it: run the CLI where hearth runs, as for imports). */
const urlOf = (raw: string) => (/^(https?|file):\/\//i.test(raw) ? raw : pathToFileURL(resolve(raw)).href);

export function addAssetsCommand(parent: Command, env: Env): void {
  const cmd = parent.command('assets').description('per-context stack assets: a context\'s logo, favicon, theme CSS or fonts replace the defaults under /assets/');
  withAdminOptions(cmd.command('add').description('add (or replace) a context\'s version of an asset'))
    .requiredOption('--name <name>', 'the asset as served under /assets/, e.g. /images/logo.svg, /styles/theme.css, /favicon.ico')
    .requiredOption('--url <url>', 'where the server reads it: a file (path or file://) or an http(s) URL')
    .option(...contextOption, checkedBy(checkContextName))
    .option('--json', 'print the asset as JSON')
    .addHelpText('after', examples('hearth assets add --context partner --name /images/logo.svg --url ./partner-logo.svg', 'hearth assets add --name /styles/theme.css --url https://example.org/theme.css'))
    .action(async (o: Opts) => {
      const body = { name: o.name, url: urlOf(o.url as string), ...(o.context ? { context: o.context } : {}) };
      const { data } = await AdminClient.from(o, env).request<{ data: AssetView }>('POST', '/assets', body);
      if (o.json) printJson(data.data);
      else out(`${data.data.context} ${data.data.name}: ${formatBytes(data.data.size)} (${data.data.type})\n`);
    });
  withAdminOptions(cmd.command('rm').description('remove a context\'s version of an asset: its instances get the default again'))
    .requiredOption('--name <name>', 'the asset, e.g. /images/logo.svg')
    .option(...contextOption, checkedBy(checkContextName))
    .addHelpText('after', examples('hearth assets rm --context partner --name /images/logo.svg'))
    .action(async (o: Opts) => {
      const q = new URLSearchParams({ name: o.name as string, ...(o.context ? { context: o.context } : {}) });
      await AdminClient.from(o, env).request('DELETE', `/assets?${q.toString()}`);
    });
  withAdminOptions(cmd.command('ls').description('list the per-context assets'))
    .option(...contextOption, checkedBy(checkContextName))
    .option('--json', 'print the list as JSON')
    .addHelpText('after', examples('hearth assets ls', 'hearth assets ls --context partner --json'))
    .action(async (o: Opts) => {
      const q = o.context ? `?${new URLSearchParams({ context: o.context }).toString()}` : '';
      const { data } = await AdminClient.from(o, env).request<{ data: AssetView[] }>('GET', `/assets${q}`);
      if (o.json) printJson(data.data);
      else out(table([['CONTEXT', 'NAME', 'SIZE', 'TYPE', 'ADDED'], ...data.data.map((a) => [a.context, a.name, formatBytes(a.size), a.type, a.created_at])]));
    });
}
