/** What an import did and what it left out, kept in the move state while it runs and given to the mail, the job and the CLI. */
export interface ImportReport {
  docs: number;
  dirs: number;
  files: number;
  versions: number;
  triggers: number;
  /** Apps and konnectors reinstalled from the registry, and those that could not be. */
  apps: { installed: string[]; kept: string[]; failed: Array<{ slug: string; error: string }> };
  /** Entries refused or left out, each with why (the first MAX_LISTED; `skipped_count` counts them all). */
  skipped: Array<{ entry: string; reason: string }>;
  skipped_count: number;
}

export const MAX_LISTED = 200;

export function emptyReport(): ImportReport {
  return { docs: 0, dirs: 0, files: 0, versions: 0, triggers: 0, apps: { installed: [], kept: [], failed: [] }, skipped: [], skipped_count: 0 };
}

export function skip(report: ImportReport, entry: string, reason: string): void {
  report.skipped_count++;
  if (report.skipped.length < MAX_LISTED) report.skipped.push({ entry: entry.slice(0, 300), reason: reason.slice(0, 300) });
}
