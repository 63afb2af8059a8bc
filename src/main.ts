/** The `hearth` command line: `main(argv)` parses, runs one command and returns its exit code. */
import { Command, CommanderError } from 'commander';
import { ConfigError } from './config/load.js';
import { addInstancesCommand } from './cli/instances.js';
import { addAssetsCommand } from './cli/assets.js';
import { CliError, err } from './cli/io.js';
import { addMailsCommand } from './cli/mails.js';
import { addJobsCommands } from './cli/jobs.js';
import { addAppsCommands } from './cli/apps.js';
import { addBackupCommands } from './cli/backup.js';
import { addConfigCommand, addStatusCommand, addVersionCommand } from './cli/misc.js';
import { addServeCommand } from './cli/serve.js';
import { cliVersion } from './cli/version.js';
import { addAppsPublishCommand } from './apps/registry/cli.js';

/** Exit codes: 0 success, 1 failure (unreachable server, API error), 2 usage error (bad argument or configuration). */
export async function main(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const program = new Command('hearth')
    .description('Hearth: a self-hosted personal data platform (cozy-stack compatible API)')
    .version(cliVersion().version, '-V, --version', 'print the version number')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void process.stdout.write(s), writeErr: (s) => err(s) })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', '\nExamples:\n  $ hearth serve --dev\n  $ hearth instances add alice.example.org\n  $ hearth instances ls\n');
  addServeCommand(program, env);
  addAppsPublishCommand(program);
  addInstancesCommand(program, env);
  addAssetsCommand(program, env);
  addStatusCommand(program, env);
  addVersionCommand(program, env);
  addConfigCommand(program, env);
  addMailsCommand(program, env);
  addJobsCommands(program, env);
  addAppsCommands(program, env);
  addBackupCommands(program, env);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    if (e instanceof CliError) {
      if (e.message) err(`error: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof ConfigError) {
      err(`error: invalid configuration:\n${e.message}\n`);
      return 2;
    }
    err(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
