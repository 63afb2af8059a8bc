/**
 * `hearth instances import <domain> FILE|URL [--json]`: replaces an instance's data with an export, through the admin
 * API (move/import/admin-routes.ts): a zip file (the path is made absolute here: the server reads it, so it must be on
 * the server's machine; no export server is needed) or an export link. For people, one line per step and a summary of
 * what was imported and left out; with --json, the server's NDJSON lines as they come. Exit code 1 when it failed.
 */
import { resolve } from 'node:path';
import { Argument, type Command } from 'commander';
import { withAdminOptions, type AdminClient, type AdminOptions } from './client.js';
import { CliError, out, parseDomain } from './io.js';

type Opts = AdminOptions & { json?: boolean };
type Report = { docs: number; dirs: number; files: number; versions: number; triggers: number; apps: { installed: string[]; kept: string[]; failed: Array<{ slug: string; error: string }> }; skipped: Array<{ entry: string; reason: string }>; skipped_count: number };
type Line = { type: 'progress'; step: string; part?: number; parts?: number; entries?: number } | { type: 'done'; data: Report } | { type: 'error'; error: string; data?: Report } | { type: 'working' };

const STEPS: Record<string, string> = { download: 'downloading part', reset: 'removing the data of the instance', read: 'importing', finish: 'reinstalling the apps, creating the triggers' };

function summary(r: Report): string {
  const lines = [`${r.docs} documents, ${r.dirs} folders, ${r.files} files, ${r.versions} versions, ${r.triggers} triggers imported.`];
  if (r.apps.installed.length) lines.push(`Apps installed again: ${r.apps.installed.join(', ')}.`);
  for (const a of r.apps.failed) lines.push(`App not installed again: ${a.slug}: ${a.error}`);
  if (r.skipped_count) {
    lines.push(`${r.skipped_count} entries left out${r.skipped_count > r.skipped.length ? ` (the first ${r.skipped.length} below)` : ''}:`);
    for (const s of r.skipped) lines.push(`  ${s.entry}: ${s.reason}`);
  }
  return `${lines.join('\n')}\n`;
}

export function addImportCommand(instances: Command, client: (o: AdminOptions) => AdminClient): void {
  withAdminOptions(instances.command('import').description("replace an instance's data with an export (a zip file or an export link)"))
    .addArgument(new Argument('<domain>', 'the instance domain, e.g. alice.example.org').argParser(parseDomain))
    .addArgument(new Argument('<source>', 'a zip file of an export (on the server\'s machine), or an export link https://…'))
    .option('--json', 'print the progress as JSON, one object per line')
    .addHelpText('after', `
ALL the data of the instance is replaced: its documents, files and triggers are removed first. The instance is blocked
(503) meanwhile. Apps and konnectors named in the export are installed again from the registry.

Examples:
  $ hearth instances import alice.example.org "./My Cozy.zip"
  $ hearth instances import alice.example.org 'https://settings.alice.mycozy.cloud/#/exports/AbC…' --json
`)
    .action(async (domain: string, source: string, o: Opts) => {
      const src = /^https?:\/\//i.test(source) ? source : resolve(source);
      let error: string | null = null;
      let report: Report | null = null;
      await client(o).stream(`/instances/${encodeURIComponent(domain)}/import?source=${encodeURIComponent(src)}`, (raw) => {
        if (o.json) out(`${raw}\n`);
        const line = JSON.parse(raw) as Line;
        if (line.type === 'error') {
          error = line.error;
          report = line.data ?? null;
        } else if (line.type === 'done') report = line.data;
        else if (line.type === 'progress' && !o.json && (line.step !== 'read' || line.entries === undefined)) {
          out(`${STEPS[line.step] ?? line.step}${line.part === undefined ? '' : ` ${line.part + 1}${line.parts ? `/${line.parts}` : ''}`}\n`);
        }
      }, 'POST');
      if (!o.json && report) out(summary(report));
      if (error !== null) throw new CliError(`the import into ${domain} failed: ${error as string}`, 1);
      if (!report) throw new CliError('the server ended the import without a result', 1);
      if (!o.json) out(`${domain} is unblocked.\n`);
    });
}
