/**
 * A snapshot's manifest, `hearth-backup.json`, written last (a snapshot folder without it is not a backup): the hearth
 * version, the time, the configuration's engines, and every file with its size and SHA-256, which `hearth restore`
 * checks before it writes anything.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EntryKind } from './walk.js';

export const MANIFEST = 'hearth-backup.json';
export const FORMAT = 'hearth-backup/1';

export interface ManifestFile {
  path: string;
  kind: EntryKind;
  size: number;
  sha256: string;
  /** The source's mtime (blobs and files) when it was taken: an unchanged one is linked to the previous snapshot's copy. */
  mtime_ms?: number;
}

export interface Manifest {
  format: typeof FORMAT;
  hearth_version: string;
  started_at: string;
  finished_at: string;
  data_dir: string;
  engines: { docs: string; coordination: string; blobs: string };
  files: ManifestFile[];
}

/** A refusal of `hearth backup` or `hearth restore`, said to the operator as it is. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

/** The SHA-256 (hex) and size of a file, read as a stream. */
export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}

const SAFE_PATH = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[^\0\\]+$/;

/** Reads and checks the shape of `<snapshot>/hearth-backup.json`; a missing, truncated or foreign one is refused. */
export async function readManifest(snapshot: string): Promise<Manifest> {
  let raw: string;
  try {
    raw = await readFile(join(snapshot, MANIFEST), 'utf8');
  } catch {
    throw new BackupError(`${snapshot} holds no ${MANIFEST}: it is not a complete hearth backup (an interrupted one leaves only a .partial-* folder)`);
  }
  let m: Manifest;
  try {
    m = JSON.parse(raw) as Manifest;
  } catch {
    throw new BackupError(`${join(snapshot, MANIFEST)} is not valid JSON (truncated or damaged): this backup cannot be trusted`);
  }
  if (m?.format !== FORMAT || !Array.isArray(m.files)) throw new BackupError(`${join(snapshot, MANIFEST)} is not a ${FORMAT} manifest`);
  for (const f of m.files) {
    if (typeof f?.path !== 'string' || !SAFE_PATH.test(f.path) || f.path.startsWith('/') || typeof f.size !== 'number' || !/^[0-9a-f]{64}$/.test(String(f.sha256))) {
      throw new BackupError(`${join(snapshot, MANIFEST)} lists an invalid entry (${JSON.stringify(f).slice(0, 120)})`);
    }
  }
  return m;
}
