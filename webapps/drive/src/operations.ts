/**
 * The operations on a selection, one request per file, all tried: what failed is said once, with how many and why
 * (the first failure in words), what worked stays done.
 */
import { startDownload, type DriveApi } from './api';
import type { DriveFile } from './types';

export interface Outcome { ok: string[]; failed: { id: string; error: unknown }[] }

export async function eachOf(ids: string[], run: (id: string) => Promise<void>): Promise<Outcome> {
  const out: Outcome = { ok: [], failed: [] };
  for (const id of ids) {
    try { await run(id); out.ok.push(id); } catch (error) { out.failed.push({ id, error }); }
  }
  return out;
}

/** The name of the zip of a selection: the one folder's name, else the current folder's, else "Hearth". */
export function archiveName(files: DriveFile[], here?: DriveFile): string {
  const only = files.length === 1 ? files[0] : undefined;
  if (only) return only.name.replace(/\.[^.]+$/, '') || 'archive';
  return here?.name && here.path !== '/' ? here.name : 'Hearth';
}

export async function download(api: DriveApi, files: DriveFile[], here?: DriveFile): Promise<void> {
  const only = files[0];
  if (files.length === 1 && only?.type === 'file') startDownload(await api.downloadLink(only._id), only.name);
  else startDownload(await api.archiveLink(files.map((f) => f._id), archiveName(files, here)));
}
