/**
 * `hearth apps publish <tarball> --registry DIR [--channel c] [--json]`: adds a version to a local folder
 * registry (publish.ts), offline: no server is needed. Then `apps.registries` lists `file:///DIR`.
 */
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { CliError, out, printJson } from '../../cli/io.js';
import { HearthError } from '../../common/errors.js';
import { DEFAULTS } from '../../config/schema.js';
import { publish } from './publish.js';
import { isChannel } from './versions.js';
import type { Channel } from './types.js';

const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

function channelArg(raw: string): Channel {
  if (!isChannel(raw)) throw new InvalidArgumentError('expected stable, beta or dev');
  return raw;
}

/** The `apps` command (created here unless another area created it first). */
function appsCommand(parent: Command): Command {
  return parent.commands.find((c) => c.name() === 'apps') ?? parent.command('apps').description('manage web apps: install them on instances, publish them to a local registry');
}

export function addAppsPublishCommand(parent: Command): void {
  appsCommand(parent)
    .command('publish')
    .description('add a version of an app or konnector (a .tar.gz with its manifest) to a local folder registry')
    .argument('<tarball>', 'the package: a .tar.gz (or .tar) with manifest.webapp or manifest.konnector, at its root or in one top folder')
    .requiredOption('--registry <dir>', 'the registry folder (created if missing); list it in apps.registries as file:///<dir>')
    .option('--channel <channel>', "stable, beta or dev (default: the version's own; dev turns X.Y.Z into X.Y.Z-dev.<sha256 prefix>)", channelArg)
    .option('--json', 'print the published version object as JSON')
    .addHelpText('after', examples(
      'hearth apps publish drive-1.2.0.tar.gz --registry /srv/hearth-apps',
      'hearth apps publish drive-1.2.0.tar.gz --registry /srv/hearth-apps --channel dev --json',
    ) + '\nThe version is the manifest\'s: X.Y.Z (stable), X.Y.Z-beta.N (beta), X.Y.Z-dev.<id> (dev). Publishing a version again\nwith the same bytes changes nothing; with other bytes it is refused (a version is immutable).\n')
    .action(async (tarball: string, o: { registry: string; channel?: Channel; json?: boolean }) => {
      let result;
      try {
        result = await publish(resolve(tarball), { dir: resolve(o.registry), ...(o.channel ? { channel: o.channel } : {}), limits: { maxEntries: DEFAULTS.apps.maxEntries, maxUnpackedBytes: DEFAULTS.apps.maxUnpackedBytes } });
      } catch (e) {
        if (e instanceof HearthError) throw new CliError(e.reason, 1);
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new CliError((e as Error).message, 1);
        throw e;
      }
      const v = result.version;
      if (o.json) return printJson({ ...v, created: result.created });
      out(`${result.created ? 'published' : 'already published (same bytes)'}: ${v.slug} ${v.version} (${v.type}), sha256 ${v.sha256}, ${v.size} bytes\n`);
    });
}
