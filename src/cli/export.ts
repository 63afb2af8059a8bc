/**
 * `hearth instances export <domain> [--out FILE] [--json]`: makes an export of the instance through the admin API
 * (move/export/admin-routes.ts: no mail), waits for it, and downloads every part in one zip (the layout of README
 * "Leaving: the export format"). For people, the bytes written as they come (on stderr); with --json, one JSON object
 * per line on stdout. The file is written under a temporary name and renamed at the end: never a half archive.
 */
import { Argument, type Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { withAdminOptions, type AdminClient, type AdminOptions } from './client.js';
import { CliError, err, formatBytes, out, parseDomain } from './io.js';

type Opts = AdminOptions & { out?: string; json?: boolean };
interface ExportDoc { _id: string; state: 'exporting' | 'done' | 'error'; created_at: string; total_size?: number; error?: string }

/** `<domain>-<YYYY-MM-DD>.zip`, the port's colon made safe for every file system. */
export const defaultExportFile = (domain: string, now = new Date()): string => `${domain.replace(/[^A-Za-z0-9.-]/g, '_')}-${now.toISOString().slice(0, 10)}.zip`;

export function addExportCommand(instances: Command, client: (o: AdminOptions) => AdminClient): void {
  const enc = encodeURIComponent;
  withAdminOptions(instances.command('export').description('export every document and file of an instance into one zip (the format of "Leaving" in the README)'))
    .addArgument(new Argument('<domain>', 'the instance domain, e.g. alice.example.org').argParser(parseDomain))
    .option('--out <file>', 'where to write the zip (default: <domain>-<date>.zip)')
    .option('--json', 'print the progress as JSON, one object per line')
    .addHelpText('after', `
The archive holds My Cozy/Data/<doctype>/<id>.json for every document and My Cozy/Files/<path> for every file, as the
export the owner downloads from Settings. The owner gets no mail for it.

Examples:
  $ hearth instances export alice.example.org
  $ hearth instances export alice.example.org --out /backups/alice.zip --json
`)
    .action(async (domain: string, o: Opts) => {
      const c = client(o);
      const say = (line: Record<string, unknown>, text: string) => (o.json ? out(`${JSON.stringify(line)}\n`) : err(text));
      const asked = Date.now();
      const { data: queued } = await c.request<{ data: { job_id: string } }>('POST', `/instances/${enc(domain)}/export`, {});
      say({ type: 'queued', job_id: queued.data.job_id }, `Export of ${domain} asked; waiting for it…\n`);
      let doc: ExportDoc | undefined;
      for (;;) {
        const { data } = await c.request<{ data: ExportDoc[] }>('GET', `/instances/${enc(domain)}/exports`);
        doc = data.data.find((d) => Date.parse(d.created_at) >= asked - 60_000);
        if (doc && doc.state !== 'exporting') break;
        await new Promise((r) => setTimeout(r, 300));
      }
      if (doc.state === 'error') throw new CliError(`the export of ${domain} failed: ${doc.error ?? 'unknown error'}`, 1);
      const file = o.out ?? defaultExportFile(domain);
      const partial = `${file}.part`;
      say({ type: 'ready', export_id: doc._id, total_size: doc.total_size ?? null }, `Export ready (${formatBytes(doc.total_size ?? null)} of files); downloading to ${file}\n`);
      const res = await c.download(`/instances/${enc(domain)}/exports/${enc(doc._id)}/data`);
      let written = 0;
      let lastSaid = 0;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          written += chunk.length;
          if (Date.now() - lastSaid >= 1000) {
            lastSaid = Date.now();
            say({ type: 'progress', bytes: written }, `  ${formatBytes(written)} written\n`);
          }
          cb(null, chunk);
        },
      });
      try {
        await pipeline(Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]), meter, createWriteStream(partial, { mode: 0o600 }));
        await rename(partial, file);
      } catch (e) {
        await rm(partial, { force: true });
        throw new CliError(`the download of the export failed: ${(e as Error).message}`, 1);
      }
      say({ type: 'done', file, bytes: written, export_id: doc._id }, `${file}: ${formatBytes(written)} written.\n`);
    });
}
