/**
 * `hearth backup <dir>` and `hearth restore <backup>`: operators' backups of a data directory with the embedded engines
 * (src/backup). They work on dataDir directly, beside a running server or not (see README, Backups): people read one
 * line per second of progress and a summary; with --json, one JSON object per line ({type: progress|done|error}).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { HearthConfig } from '../config/types.js';
import { BackupError } from '../backup/manifest.js';
import { restoreBackup, type RestoreProgress } from '../backup/restore.js';
import { takeBackup, type BackupProgress } from '../backup/snapshot.js';
import { CONFIG_OPTION } from './client.js';
import { CliError, err, formatBytes, out } from './io.js';
import { cliVersion } from './version.js';

type Env = Record<string, string | undefined>;
interface Common { config?: string; dataDir?: string; json?: boolean }
const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
const positive = (raw: string): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of snapshots, at least 1.');
  return n;
};
const line = (v: unknown) => out(`${JSON.stringify(v)}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** Runs `fn`, turning a refusal into the CLI's error (and, with --json, a last {type: "error"} line). */
async function refusing<T>(json: boolean | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof BackupError)) throw e;
    if (json) line({ type: 'error', error: e.message });
    throw new CliError(e.message, 1);
  }
}

/** Only the embedded engines keep everything in dataDir: with the others, the operator backs them up with their tools. */
function checkEngines(config: HearthConfig): void {
  const elsewhere: string[] = [];
  if (config.docs.engine !== 'sqlite') elsewhere.push('documents and the server\'s state are in PostgreSQL: pg_dump (schemas hearth, hearth_fn and i_*) or pg_basebackup with WAL archiving');
  if (config.blobs.engine !== 'local') elsewhere.push(`files are in ${config.blobs.engine === 's3' ? 'S3' : 'Swift'}: bucket versioning or replication, or rclone sync`);
  if (elsewhere.length) throw new CliError(`hearth backup copies the embedded engines' data directory only, and here ${elsewhere.join('; ')} (see README, Backups)`, 1);
  if (config.docs.url || config.blobs.swift.authUrl || config.blobs.s3.endpoint) {
    err('warning: PostgreSQL or an object store is configured: instances moved there with `hearth instances migrate` are not in this backup (back those up with their own tools, see README, Backups)\n');
  }
}

export function addBackupCommands(parent: Command, env: Env): void {
  parent.command('backup')
    .description('snapshot the data directory (SQLite online backups, blobs linked or copied) into <dir>/<timestamp>/, while the server runs')
    .argument('<dir>', 'the folder of the snapshots (created if needed; unchanged files are hard links to the previous snapshot)')
    .option(...CONFIG_OPTION)
    .option('--data-dir <dir>', 'the data directory to back up (default: the configuration\'s dataDir, ./.hearth)')
    .option('--copy', 'copy new blobs even when <dir> is on the data directory\'s file system (default: hard links, blobs are never rewritten)')
    .option('--keep <n>', 'then keep only the newest n snapshots', positive)
    .option('--json', 'print the progress as JSON, one object per line')
    .addHelpText('after', `
Only with the embedded engines (docs.engine sqlite, blobs.engine local): with PostgreSQL or an object store, use their
own tools (see README, Backups). An interrupted run leaves only <dir>/.partial-*, removed by the next run.
${examples('hearth backup /var/backups/hearth', 'hearth backup /mnt/usb/hearth --data-dir /srv/hearth --copy --keep 7 --json')}`)
    .action(async (dir: string, o: Common & { copy?: boolean; keep?: number }) => {
      const config = loadConfig({ flags: { config: o.config, dataDir: o.dataDir }, env });
      checkEngines(config);
      let last = -Infinity;
      const progress = (p: BackupProgress) => {
        if (o.json) return line({ type: 'progress', ...p });
        if (p.elapsed_ms - last < 1000) return;
        last = p.elapsed_ms;
        out(`${secs(p.elapsed_ms)}  ${p.phase}: ${p.files} files (${formatBytes(p.bytes)}), copied ${p.copied_files} (${formatBytes(p.copied_bytes)}), linked ${p.linked_files + p.data_linked_files}\n`);
      };
      const s = await refusing(o.json, () => takeBackup({
        dataDir: config.dataDir, target: dir, hearthVersion: cliVersion().version, copy: o.copy, keep: o.keep, onProgress: progress,
        engines: { docs: config.docs.engine, coordination: config.coordination.engine, blobs: config.blobs.engine },
      }));
      if (o.json) return line({ type: 'done', data: s });
      for (const p of s.removed_partials) out(`removed ${p}, left by an interrupted backup\n`);
      out(`Snapshot ${s.snapshot}: ${s.files} files, ${s.databases} databases (${formatBytes(s.bytes)}) in ${secs(s.elapsed_ms)} (${s.mb_per_s} MB/s)\n`
        + `  copied ${s.copied_files} (${formatBytes(s.copied_bytes)}), linked to the previous snapshot ${s.linked_files}, linked from the data directory ${s.data_linked_files}\n`);
      if (s.pruned.length) out(`  removed the older snapshots ${s.pruned.join(', ')}\n`);
    });

  parent.command('restore')
    .description('bring a backup back into an empty data directory, after checking every file against its manifest')
    .argument('<backup>', 'a snapshot folder, or the folder `hearth backup` wrote into (its newest snapshot)')
    .option(...CONFIG_OPTION)
    .option('--data-dir <dir>', 'where to restore (default: the configuration\'s dataDir, ./.hearth); must be empty unless --force')
    .option('--force', 'replace what the data directory holds (refused while a server uses it)')
    .option('--json', 'print the progress as JSON, one object per line')
    .addHelpText('after', `
Nothing is written into the data directory unless every file matches the manifest's size and SHA-256.
Then start the server on it: hearth serve --data-dir <dir>.
${examples('hearth restore /var/backups/hearth --data-dir /srv/hearth-restored', 'hearth restore /var/backups/hearth/2026-12-07T01-30-00.000Z --data-dir /srv/hearth --force --json')}`)
    .action(async (backup: string, o: Common & { force?: boolean }) => {
      const config = loadConfig({ flags: { config: o.config, dataDir: o.dataDir }, env });
      let last = -Infinity;
      const progress = (p: RestoreProgress) => {
        if (o.json) return line({ type: 'progress', ...p });
        if (p.elapsed_ms - last < 1000) return;
        last = p.elapsed_ms;
        out(`${secs(p.elapsed_ms)}  copied and checked ${p.files}/${p.files_total} files (${formatBytes(p.bytes)} of ${formatBytes(p.bytes_total)})\n`);
      };
      const s = await refusing(o.json, () => restoreBackup({ source: backup, dataDir: config.dataDir, force: o.force, onProgress: progress }));
      if (o.json) return line({ type: 'done', data: s });
      out(`Restored ${s.snapshot} (hearth ${s.hearth_version}, taken ${s.taken_at}) into ${s.data_dir}: ${s.files} files, ${s.databases} databases `
        + `(${formatBytes(s.bytes)}), every checksum verified, in ${secs(s.elapsed_ms)} (${s.mb_per_s} MB/s)\nStart it with: hearth serve --data-dir ${s.data_dir}\n`);
    });
}
