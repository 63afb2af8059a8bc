/** `hearth serve`: starts the servers, then waits for SIGTERM/SIGINT to stop them gracefully. */
import type { EventEmitter } from 'node:events';
import type { Command } from 'commander';
import { loadConfig, type ConfigFlags } from '../config/load.js';
import { LOG_LEVELS } from '../config/schema.js';
import { trimMalloc } from '../common/malloc-trim.js';
import { saveCodeCache } from '../server/bundle-loader.js';
import { CONFIG_OPTION } from './client.js';
import { CliError, err, out } from './io.js';

export interface ServerHandle {
  publicUrl: string;
  adminUrl: string;
  close(): Promise<void>;
}

/** The flags shared by `serve` and `config show` (loadConfig's ConfigFlags). */
export function withConfigOptions(cmd: Command): Command {
  return cmd
    .option(...CONFIG_OPTION)
    .option('--dev', 'development mode: admin API open on loopback, a default instance')
    .option('--port <n>', 'public HTTP port (default 8080)')
    .option('--host <host>', 'public listen address (default 127.0.0.1; 0.0.0.0 for every interface)')
    .option('--admin-port <n>', 'admin API port (default 6060)')
    .option('--admin-host <host>', 'admin API listen address (default 127.0.0.1)')
    .option('--data-dir <dir>', 'where data lives (default ./.hearth)')
    .option('--log-level <level>', `one of ${LOG_LEVELS.join(', ')}`);
}

/**
 * Starts, then resolves with the exit code once a first SIGTERM/SIGINT has closed the servers. The signals are heard
 * from before the start: one that comes during it (or between the "listening" line and the next instruction, which
 * a loaded machine can leave a while unscheduled) closes the servers once started, instead of killing the process.
 */
export async function runServer(start: () => Promise<ServerHandle>, signals: EventEmitter = process): Promise<number> {
  let handle: ServerHandle | null = null;
  let signalled = false;
  let settle: (code: number) => void = () => {};
  const settled = new Promise<number>((resolve) => (settle = resolve));
  const shutDown = (h: ServerHandle) => h.close().then(
    () => finish(0),
    (e: unknown) => {
      err(`error while shutting down: ${(e as Error).message}\n`);
      finish(1);
    },
  );
  const onSignal = (signal: string) => {
    if (signalled) return err(`${signal}: still ${handle ? 'shutting down' : 'starting, then shutting down'}…\n`);
    signalled = true;
    err(`${signal}: shutting down (draining requests, closing databases)…\n`);
    if (handle) void shutDown(handle);
  };
  const finish = (code: number) => {
    signals.off('SIGTERM', onSignal);
    signals.off('SIGINT', onSignal);
    settle(code);
  };
  signals.on('SIGTERM', onSignal);
  signals.on('SIGINT', onSignal);
  try {
    handle = await start();
  } catch (e) {
    finish(1);
    throw e;
  }
  if (signalled) void shutDown(handle);
  else out(`hearth is listening on ${handle.publicUrl} (admin API on ${handle.adminUrl}); stop it with Ctrl-C\n`);
  return settled;
}

export function addServeCommand(parent: Command, env: Record<string, string | undefined>): Command {
  return withConfigOptions(parent.command('serve').description('run the Hearth server (public API and admin API)'))
    .addHelpText('after', '\nExamples:\n  $ hearth serve --dev\n  $ HEARTH_ADMIN_PASSPHRASE=… hearth serve --config /etc/hearth.yaml --port 8443\n')
    .action(async (flags: ConfigFlags) => {
      const config = loadConfig({ flags, env });
      const { pauseOptimizer, endStartUp } = await import('../server/young-gen.js');
      pauseOptimizer(); // no TurboFan for code that runs only while the server starts (server/young-gen.ts)
      const { startHearth } = await import('../server/compose.js');
      const code = await runServer(async () => {
        try {
          const handle = await startHearth(config);
          saveCodeCache(); // the bundle's compiled code for the next start, under this start's V8 flags (server/bundle-loader.ts)
          // the C heap's free pages back to the system: reading the 3.7 MB bundle (and its cache) left ~3 MB free in the
          // middle of glibc's heap, which it keeps otherwise (measured: 9.5 -> 6.3 MB of [heap] 5 s after the start)
          trimMalloc();
          return handle;
        } finally {
          endStartUp(); // started (or failed): V8 sizes the young generation and optimizes as usual again (server/young-gen.ts)
        }
      });
      if (code !== 0) throw new CliError('', code);
    });
}
