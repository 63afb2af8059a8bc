/**
 * `hearth instances migrate <domain> --to sqlite|postgres [--blobs-to local|swift|s3] [--drop-source] [--json]` and
 * `… --cleanup`: moves an instance between engines through the admin API (instances/migrate-routes.ts). For people,
 * one line per step with the counts; with --json, the server's NDJSON lines as they come (one JSON object per line).
 * The exit code is 1 when the migration failed (the instance then stays on its engines).
 */
import { Argument, InvalidArgumentError, type Command } from 'commander';
import { withAdminOptions, type AdminClient, type AdminOptions } from './client.js';
import { CliError, formatBytes, out, parseDomain } from './io.js';

type Opts = AdminOptions & { to?: string; blobsTo?: string; dropSource?: boolean; cleanup?: boolean; json?: boolean };
type Progress = { step: string; doctype?: string; docs: number; blobs: number; bytes: number; elapsed_ms: number };
type Summary = Progress & { from: { docs: string; blobs: string }; to: { docs: string; blobs: string }; blocked_ms: number; docs_per_s: number; mb_per_s: number };
type Line = ({ type: 'progress' } & Progress) | { type: 'done'; data: Summary } | { type: 'error'; error: string } | { type: 'working' };

const engine = (raw: string): string => {
  if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(raw)) throw new InvalidArgumentError('expected an engine name: sqlite or postgres for --to, local, swift or s3 for --blobs-to.');
  return raw;
};
const STEPS: Record<string, string> = {
  prepare: 'dropping what an earlier run left on the target', copy: 'copying while the instance serves', blocked: 'instance blocked',
  'catch-up': 'copying what changed meanwhile', verify: 'comparing both sides', switched: 'switched, instance unblocked', 'source-dropped': 'old copy removed',
};

export function addMigrateCommand(instances: Command, client: (o: AdminOptions) => AdminClient): void {
  const enc = encodeURIComponent;
  withAdminOptions(instances.command('migrate').description("move an instance's documents and/or blobs to other engines, online, verified by counts and checksums"))
    .addArgument(new Argument('<domain>', 'the instance domain, e.g. alice.example.org').argParser(parseDomain))
    .option('--to <engine>', 'the documents engine: sqlite or postgres', engine)
    .option('--blobs-to <engine>', 'the blobs engine: local, swift or s3', engine)
    .option('--drop-source', 'remove the old copy once the instance is switched (otherwise later, with --cleanup)')
    .option('--cleanup', 'remove the old copy that a finished migration left')
    .option('--json', 'print the progress as JSON, one object per line')
    .addHelpText('after', `
The instance keeps serving during the copy, then is blocked (503 with Retry-After) for the final catch-up and the
verification, switched, and unblocked. A failure leaves it on its engines; run the command again to start over.

Examples:
  $ hearth instances migrate alice.example.org --to postgres
  $ hearth instances migrate alice.example.org --to postgres --blobs-to s3 --json
  $ hearth instances migrate alice.example.org --cleanup
`)
    .action(async (domain: string, o: Opts) => {
      if (o.cleanup) {
        if (o.to || o.blobsTo) throw new CliError('--cleanup removes an old copy: give it without --to or --blobs-to', 2);
        const { data } = await client(o).request<{ data: { dropped: { docs: string; blobs: string } } }>('POST', `/instances/${enc(domain)}/migrate/cleanup`);
        if (o.json) return out(`${JSON.stringify(data.data)}\n`);
        return out(`The old copy of ${domain} (documents ${data.data.dropped.docs}, blobs ${data.data.dropped.blobs}) is removed.\n`);
      }
      if (!o.to && !o.blobsTo) throw new CliError('say where to move the instance: --to <engine> and/or --blobs-to <engine> (or --cleanup)', 2);
      const q = new URLSearchParams();
      if (o.to) q.set('to', o.to);
      if (o.blobsTo) q.set('blobs_to', o.blobsTo);
      if (o.dropSource) q.set('drop_source', 'true');
      let error: string | null = null;
      let done: Summary | null = null;
      let lastStep = '';
      let lastPrint = 0;
      await client(o).stream(`/instances/${enc(domain)}/migrate?${q}`, (raw) => {
        if (o.json) out(`${raw}\n`);
        const line = JSON.parse(raw) as Line;
        if (line.type === 'error') error = line.error;
        else if (line.type === 'done') done = line.data;
        else if (line.type === 'progress' && !o.json) {
          const counts = `${line.docs} documents, ${line.blobs} blobs (${formatBytes(line.bytes)})`;
          if (line.step === lastStep && line.elapsed_ms - lastPrint < 2000) return;
          lastPrint = line.elapsed_ms;
          out(`${(line.elapsed_ms / 1000).toFixed(1)}s  ${STEPS[line.step] ?? line.step}${line.doctype ? ` ${line.doctype}` : ''}: ${counts}\n`);
          lastStep = line.step;
        }
      }, 'POST');
      if (error !== null) throw new CliError(`the migration of ${domain} failed, it stays on its engines: ${error as string}`, 1);
      if (!done) throw new CliError('the server ended the migration without a result', 1);
      const s = done as Summary;
      if (!o.json) {
        out(`${domain} moved to documents ${s.to.docs}, blobs ${s.to.blobs}: ${s.docs} documents and ${s.blobs} blobs (${formatBytes(s.bytes)}) `
          + `in ${(s.elapsed_ms / 1000).toFixed(1)} s (${s.docs_per_s} docs/s, ${s.mb_per_s} MB/s), blocked ${(s.blocked_ms / 1000).toFixed(1)} s.\n`);
      }
    });
}
