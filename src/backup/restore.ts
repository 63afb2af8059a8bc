/**
 * `hearth restore <backup> [--data-dir DIR] [--force]`: brings a snapshot back as a data directory.
 *
 * Every file is copied into a folder next to the target (`<dataDir>.restoring-<timestamp>`) and checked against the
 * manifest's size and SHA-256 as it is copied; only once all match is that folder renamed into place, so a damaged
 * or truncated backup is refused without touching the target. The target must be empty (or absent), or `force` given;
 * never one a running server holds (its hearth.lock, or its databases open), and the restore holds it meanwhile.
 */
import { access, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { BackupError, MANIFEST, readManifest, type Manifest } from './manifest.js';
import { copyHashed, eachLimit, ensureParent, fsyncPath, syncTree, throttled } from './copy.js';
import { DataDirInUse, lockDataDir } from '../common/data-dir-lock.js';
import { openElsewhere } from './lock.js';
import { snapshotsIn } from './snapshot.js';
import { walk } from './walk.js';

export interface RestoreOptions {
  source: string;
  dataDir: string;
  force?: boolean;
  onProgress?: (p: RestoreProgress) => void;
}

export interface RestoreProgress { files: number; files_total: number; bytes: number; bytes_total: number; elapsed_ms: number }

export interface RestoreSummary extends RestoreProgress {
  snapshot: string;
  data_dir: string;
  databases: number;
  hearth_version: string;
  taken_at: string;
  replaced: boolean;
  mb_per_s: number;
}

const exists = (p: string) => access(p).then(() => true, () => false);

/** `source` itself when it holds a manifest, else its newest snapshot that does. */
export async function resolveSnapshot(source: string): Promise<string> {
  if (await exists(join(source, MANIFEST))) return source;
  for (const name of (await snapshotsIn(source)).reverse()) if (await exists(join(source, name, MANIFEST))) return join(source, name);
  throw new BackupError(`${source} holds no hearth backup: give a snapshot folder (with its ${MANIFEST}) or the folder \`hearth backup\` wrote into`);
}

export async function restoreBackup(o: RestoreOptions): Promise<RestoreSummary> {
  const snapshot = await resolveSnapshot(resolve(o.source));
  const manifest: Manifest = await readManifest(snapshot);
  const dataDir = resolve(o.dataDir);
  const present = await readdir(dataDir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw e;
  });
  let release = () => {};
  if (present && present.length > 0) {
    if (!o.force) throw new BackupError(`${dataDir} is not empty: restore into an empty folder, or add --force to replace what it holds`);
    // held until the new content is in place: no server starts on the folder meanwhile (common/data-dir-lock.ts)
    release = holdForRestore(dataDir);
    const held = openElsewhere((await walk(dataDir)).filter((e) => e.kind === 'sqlite').map((e) => join(dataDir, e.path)));
    if (held) {
      release();
      throw new BackupError(`a running process (a hearth server?) has ${held} open: stop it before restoring over ${dataDir}`);
    }
  }
  try {
    return await restoreInto(snapshot, manifest, dataDir, present, o.onProgress);
  } finally {
    release();
  }
}

/** `lockDataDir` for a restore, refused while a server (or another restore) holds the folder. */
function holdForRestore(dataDir: string): () => void {
  try {
    return lockDataDir(dataDir, 'hearth restore');
  } catch (e) {
    if (!(e instanceof DataDirInUse)) throw e;
    throw new BackupError(`${e.message}: stop it before restoring over ${dataDir}${e.holder ? ` (kill ${e.holder.pid}, then wait for it to end)` : ''}`);
  }
}

async function restoreInto(snapshot: string, manifest: Manifest, dataDir: string, present: string[] | null, onProgress: RestoreOptions['onProgress']): Promise<RestoreSummary> {
  const p: RestoreProgress = {
    files: 0, files_total: manifest.files.length, bytes: 0, bytes_total: manifest.files.reduce((n, f) => n + f.size, 0), elapsed_ms: 0,
  };
  const report = throttled(p, onProgress);
  await mkdir(dirname(dataDir), { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, '-');
  const work = join(dirname(dataDir), `.${basename(dataDir)}.restoring-${stamp}`);
  await mkdir(work, { mode: 0o700 });
  const made = new Set<string>([work]);
  try {
    await eachLimit(manifest.files, 4, async (f) => {
      const dst = join(work, f.path);
      await ensureParent(dst, work, made);
      const got = await copyHashed(join(snapshot, f.path), dst).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') throw new BackupError(`the backup ${snapshot} is damaged: ${f.path} is missing; nothing was restored`);
        throw e;
      });
      if (got.size !== f.size) throw new BackupError(`the backup ${snapshot} is damaged: ${f.path} has ${got.size} bytes where its manifest says ${f.size} (truncated?); nothing was restored`);
      if (got.sha256 !== f.sha256) throw new BackupError(`the backup ${snapshot} is damaged: the SHA-256 of ${f.path} is not its manifest's; nothing was restored`);
      p.files++;
      p.bytes += got.size;
      report();
    });
    await syncTree(work, manifest.files.map((f) => join(work, f.path)), made);
  } catch (e) {
    await rm(work, { recursive: true, force: true });
    throw e;
  }
  // into place: the old content (with --force) moved aside first, removed once the new one is there
  const aside = join(dirname(dataDir), `.${basename(dataDir)}.replaced-${stamp}`);
  if (present && present.length > 0) await rename(dataDir, aside);
  else if (present) await rmdir(dataDir);
  await rename(work, dataDir);
  await fsyncPath(dirname(dataDir));
  if (present && present.length > 0) await rm(aside, { recursive: true, force: true });
  report(true);
  await stat(join(dataDir, 'registry.sqlite'));
  return {
    ...p, snapshot, data_dir: dataDir, databases: manifest.files.filter((f) => f.kind === 'sqlite').length,
    hearth_version: manifest.hearth_version, taken_at: manifest.started_at, replaced: Boolean(present && present.length > 0),
    mb_per_s: Math.round((p.bytes / 1e6 / (Math.max(p.elapsed_ms, 1) / 1000)) * 10) / 10,
  };
}
