/** `hearth status`, `hearth version`, `hearth config show|passwd`. */
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { hash } from '@node-rs/argon2';
import type { Command } from 'commander';
import { loadConfig, type ConfigFlags } from '../config/load.js';
import { formatConfig, maskConfig } from '../config/show.js';
import { AdminClient, withAdminOptions, type AdminOptions } from './client.js';
import { CliError, err, out, printJson } from './io.js';
import { withConfigOptions } from './serve.js';
import { cliVersion, type VersionInfo } from './version.js';

type Env = Record<string, string | undefined>;
type Json = { json?: boolean };
const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

export function addStatusCommand(parent: Command, env: Env): void {
  withAdminOptions(parent.command('status').description("check the server's health (exits 1 when KO)"))
    .option('--json', 'print the status document as JSON')
    .addHelpText('after', examples('hearth status', 'hearth status --json'))
    .action(async (o: AdminOptions & Json) => {
      const { data } = await AdminClient.from(o, env).request<Record<string, unknown>>('GET', '/status', undefined, { accept: [200, 502, 503] });
      if (o.json) printJson(data);
      else for (const [k, v] of Object.entries(data)) out(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}\n`);
      if (data.status !== 'OK') throw new CliError('', 1);
    });
}

export function addVersionCommand(parent: Command, env: Env): void {
  withAdminOptions(parent.command('version').description("print this program's version and the running server's"))
    .option('--json', 'print {version, build_mode, runtime_version, server} as JSON')
    .addHelpText('after', examples('hearth version', 'hearth version --json'))
    .action(async (o: AdminOptions & Json) => {
      const local = cliVersion();
      let server: VersionInfo | null = null;
      let why = '';
      try {
        server = (await AdminClient.from(o, env).request<VersionInfo>('GET', '/version', undefined, { timeoutMs: 3000 })).data;
      } catch (e) {
        why = (e as Error).message.split('\n')[0] ?? '';
      }
      if (o.json) return printJson({ ...local, server });
      out(`hearth ${local.version} (${local.build_mode}, ${local.runtime_version})\n`);
      out(server ? `server: hearth ${server.version} (${server.build_mode}, ${server.runtime_version})\n` : `server: unavailable (${why})\n`);
    });
}

async function readPassphrase(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  const ask = async (prompt: string) => {
    const muted = new Writable({ write: (_c, _e, cb) => cb() });
    const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
    err(prompt);
    try {
      return await rl.question('');
    } finally {
      rl.close();
      err('\n');
    }
  };
  const first = await ask('Admin passphrase: ');
  if (first !== (await ask('Confirm the passphrase: '))) throw new CliError('the passphrases differ', 1);
  return first;
}

export function addConfigCommand(parent: Command, env: Env): void {
  const cmd = parent.command('config').description('inspect the configuration, hash the admin passphrase');
  withConfigOptions(cmd.command('show').description('print the effective settings (file < HEARTH_* env < flags), secrets masked'))
    .option('--json', 'print the settings as JSON')
    .addHelpText('after', examples('hearth config show', 'hearth config show --config /etc/hearth.yaml --json'))
    .action(async (o: ConfigFlags & Json) => {
      const config = loadConfig({ flags: o, env });
      if (o.json) printJson(maskConfig(config));
      else out(formatConfig(config));
    });
  cmd
    .command('passwd')
    .description('hash an admin passphrase (argon2id) for admin.passphraseHash; reads it from stdin unless --passphrase')
    .option('--passphrase <passphrase>', 'the passphrase to hash (visible in your shell history: prefer stdin)')
    .addHelpText('after', examples('hearth config passwd', 'printf %s "$PASS" | hearth config passwd'))
    .action(async (o: { passphrase?: string }) => {
      const passphrase = o.passphrase ?? (await readPassphrase());
      if (passphrase === '') throw new CliError('empty passphrase: give one on stdin or with --passphrase', 2);
      out((await hash(passphrase)) + '\n');
    });
}
