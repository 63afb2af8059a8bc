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
import { setTimeout as sleep } from 'node:timers/promises';
import { BackupError, MANIFEST, readManifest, type Manifest } from './manifest.js';
import { copyHashed, eachLimit, ensureParent, fsyncPath, syncTree, throttled } from './copy.js';
import { DataDirInUse, LOCK_FILE, OWNER_FILE, describeHolder, holderOf, lockDataDir } from '../common/data-dir-lock.js';
import { openElsewhere } from './lock.js';
import { snapshotsIn } from './snapshot.js';
import { walk } from './walk.js';

export interface RestoreOptions {
  source: string;
  dataDir: string;
  force?: boolean;
  onProgress?: (p: RestoreProgress) => void;
  /** Called between the old content's move aside and the restored one's rename into place (tests start a server there). */
  inSwap?: () => Promise<void>;
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
    return await restoreInto(snapshot, manifest, dataDir, present, o.onProgress, o.inSwap);
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

/** How long the swap waits for a process that took the data directory between its two renames to leave it. */
export const SWAP_WAIT_MS = 3_000;

/**
 * `work` renamed to `dataDir`, which was moved aside (`aside`) or removed just before. A process that started on
 * `dataDir` in between (a server's start makes the folder and takes its hearth.lock) is waited for, up to SWAP_WAIT_MS:
 * once nothing holds the folder and it holds nothing but the lock's files, it is removed and the rename tried again.
 * Given up, both contents are kept where they are and the error says where and what to do.
 */
async function swapIn(work: string, dataDir: string, aside: string | null): Promise<void> {
  const until = Date.now() + SWAP_WAIT_MS;
  for (;;) {
    try {
      return await rename(work, dataDir);
    } catch (e) {
      if (!['ENOTEMPTY', 'EEXIST'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    }
    const holder = holderOf(dataDir);
    const left = await readdir(dataDir).catch(() => [] as string[]);
    if (!holder && left.every((n) => n === LOCK_FILE || n === OWNER_FILE)) {
      await rm(dataDir, { recursive: true, force: true }); // an empty folder a start made and left
      continue;
    }
    if (Date.now() >= until) {
      const who = holder ? describeHolder(holder) : `a process that wrote ${left.slice(0, 3).join(', ')} in it`;
      throw new BackupError(`${dataDir} was taken by ${who} while the restore was swapping it in (waited ${SWAP_WAIT_MS / 1000} s): the restored content is whole in ${work}${aside ? `, the old one in ${aside}` : ''}; stop that process, move ${dataDir} away, then rename ${work} to ${dataDir}`);
    }
    await sleep(100);
  }
}

async function restoreInto(snapshot: string, manifest: Manifest, dataDir: string, present: string[] | null, onProgress: RestoreOptions['onProgress'], inSwap: RestoreOptions['inSwap']): Promise<RestoreSummary> {
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
  else if (present) await rmdir(dataDir).catch(() => undefined); // written into meanwhile: swapIn says by whom
  await inSwap?.();
  await swapIn(work, dataDir, present && present.length > 0 ? aside : null);
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
