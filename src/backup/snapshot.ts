/**
 * `hearth backup <dir>`: a snapshot `<dir>/<timestamp>/` of a data directory, taken while the server runs (or not).
 *
 * Written into `<dir>/.partial-<timestamp>/` and renamed once complete, its manifest last: an interrupted run leaves only
 * a .partial folder, which the next run removes. Each SQLite database is copied by SQLite's online backup API in one
 * step (one read transaction: a consistent state of that database, which writers to it do not restart); blobs are
 * hard-linked to the previous snapshot's copy when unchanged (same path, size and mtime: rsync --link-dest), else
 * hard-linked from dataDir when on the same file system (they are never rewritten in place) unless `copy`, else copied;
 * a database whose backup is byte for byte the previous snapshot's is linked to it too.
 *
 * Order, so that every blob a backed-up document names is in the snapshot: the blobs, then the databases (the instances'
 * first, registry.sqlite last), then a second pass over the blobs for those written meanwhile. A blob removed between
 * the two passes stays in the snapshot (fsck's index_missing reports it; its clean option removes it).
 */
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { BackupError, FORMAT, MANIFEST, hashFile, readManifest, type Manifest, type ManifestFile } from './manifest.js';
import { copyHashed, eachLimit, ensureParent, fsyncPath, hardLink, syncTree, throttled } from './copy.js';
import { walk, type Entry } from './walk.js';
import { refuseDuringRestore, takeTargetLock } from './lock.js';

export interface BackupOptions {
  dataDir: string;
  target: string;
  hearthVersion: string;
  engines: Manifest['engines'];
  /** Copy the blobs even when dataDir is on the same file system (the snapshot then shares no inode with dataDir). */
  copy?: boolean;
  /** Keep only the newest `keep` snapshots (this one included). */
  keep?: number;
  onProgress?: (p: BackupProgress) => void;
}

export interface BackupProgress {
  phase: 'blobs' | 'databases' | 'catch-up';
  files: number;
  bytes: number;
  /** Written anew (copies and database backups). */
  copied_files: number;
  copied_bytes: number;
  /** Hard links to the previous snapshot's copy. */
  linked_files: number;
  /** Hard links to dataDir's own files (same file system, without --copy). */
  data_linked_files: number;
  elapsed_ms: number;
}

export interface BackupSummary extends Omit<BackupProgress, 'phase'> {
  snapshot: string;
  previous: string | null;
  databases: number;
  removed_partials: string[];
  pruned: string[];
  mb_per_s: number;
}

export const SNAPSHOT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z$/;
const PARALLEL = 4;

/** The snapshots in `dir`, oldest first (complete or not: a complete one holds its manifest). */
export async function snapshotsIn(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => SNAPSHOT_RE.test(n)).sort();
}

/** The newest complete snapshot in `dir` and its manifest, or null. */
export async function latestSnapshot(dir: string): Promise<{ path: string; manifest: Manifest } | null> {
  for (const name of (await snapshotsIn(dir)).reverse()) {
    const path = join(dir, name);
    const manifest = await readManifest(path).catch(() => null);
    if (manifest) return { path, manifest };
  }
  return null;
}

/** Databases in the order they are backed up: the instances' first, the server's own after, registry.sqlite last. */
const dbOrder = (e: Entry): number => (e.path.startsWith('instances/') ? 0 : e.path === 'registry.sqlite' ? 2 : 1);

export async function takeBackup(o: BackupOptions): Promise<BackupSummary> {
  const started = new Date();
  const dataDir = resolve(o.dataDir);
  const target = resolve(o.target);
  if (target === dataDir || target.startsWith(`${dataDir}/`) || dataDir.startsWith(`${target}/`)) {
    throw new BackupError(`the backup folder ${target} and the data directory ${dataDir} must not contain one another`);
  }
  await stat(join(dataDir, 'registry.sqlite')).catch(() => {
    throw new BackupError(`${dataDir} holds no registry.sqlite: it is not a hearth data directory (give it with --data-dir or HEARTH_DATA_DIR)`);
  });
  refuseDuringRestore(dataDir);
  const folder = (await stat(dataDir)).ino; // a restore that swaps the folder meanwhile is found at the end
  await mkdir(target, { recursive: true, mode: 0o700 });
  const releaseLock = await takeTargetLock(target);
  try {
    const removed = [];
    for (const name of await readdir(target)) {
      if (!name.startsWith('.partial-')) continue;
      await rm(join(target, name), { recursive: true, force: true });
      removed.push(name);
    }
    const prev = await latestSnapshot(target);
    const prevFiles = new Map((prev?.manifest.files ?? []).map((f) => [f.path, f]));
    const name = started.toISOString().replace(/:/g, '-');
    const partial = join(target, `.partial-${name}`);
    await mkdir(partial, { mode: 0o700 });
    const sameFs = (await stat(dataDir)).dev === (await stat(target)).dev;
    const made = new Set<string>([partial]);
    const files = new Map<string, ManifestFile>();
    const p: BackupProgress = { phase: 'blobs', files: 0, bytes: 0, copied_files: 0, copied_bytes: 0, linked_files: 0, data_linked_files: 0, elapsed_ms: 0 };
    const report = throttled(p, o.onProgress);
    const record = (f: ManifestFile, how: 'copied' | 'linked' | 'data') => {
      files.set(f.path, f);
      p.files++;
      p.bytes += f.size;
      if (how === 'copied') {
        p.copied_files++;
        p.copied_bytes += f.size;
      } else if (how === 'linked') p.linked_files++;
      else p.data_linked_files++;
      report();
    };
    report(true);
    const fromPrev = (path: string) => (prev ? join(prev.path, path) : '');

    const takeFile = async (e: Entry): Promise<void> => {
      const src = join(dataDir, e.path);
      const dst = join(partial, e.path);
      try {
        const st = await stat(src);
        await ensureParent(dst, partial, made);
        const old = prevFiles.get(e.path);
        if (e.kind === 'blob' && old && old.size === st.size && old.mtime_ms === st.mtimeMs) {
          const ok = await hardLink(fromPrev(e.path), dst).then(() => true, () => false);
          if (ok) return record(old, 'linked');
        }
        if (e.kind === 'blob' && sameFs && !o.copy) {
          await hardLink(src, dst);
          const linked = await stat(dst);
          return record({ path: e.path, kind: e.kind, ...(await hashFile(dst)), mtime_ms: linked.mtimeMs }, 'data');
        }
        const c = await copyHashed(src, dst);
        record({ path: e.path, kind: e.kind, size: c.size, sha256: c.sha256, mtime_ms: c.mtimeMs }, 'copied');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await rm(dst, { force: true }); // removed from dataDir meanwhile (renamed over, dropped with its instance)
      }
    };

    const takeDb = async (e: Entry): Promise<void> => {
      const dst = join(partial, e.path);
      await ensureParent(dst, partial, made);
      let db: Database.Database;
      try {
        db = new Database(join(dataDir, e.path), { fileMustExist: true, timeout: 30_000 });
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_CANTOPEN') return; // removed meanwhile
        throw err;
      }
      try {
        // the whole database in one step: one read transaction, so a write from the server cannot restart it
        await db.backup(dst, { progress: () => 0x7fffffff });
      } finally {
        db.close();
      }
      const h = await hashFile(dst);
      const old = prevFiles.get(e.path);
      if (old && old.sha256 === h.sha256 && old.size === h.size) {
        // the same bytes as the previous snapshot's: share its copy (kept as written if that one is gone)
        const ok = await hardLink(fromPrev(e.path), `${dst}.prev`).then(() => true, () => false);
        if (ok) {
          await rename(`${dst}.prev`, dst);
          return record(old, 'linked');
        }
      }
      record({ path: e.path, kind: 'sqlite', ...h }, 'copied');
    };

    const first = await walk(dataDir);
    await eachLimit(first.filter((e) => e.kind !== 'sqlite'), PARALLEL, takeFile);
    p.phase = 'databases';
    report(true);
    const dbs = first.filter((e) => e.kind === 'sqlite').sort((a, b) => dbOrder(a) - dbOrder(b));
    for (const e of dbs) await takeDb(e);
    p.phase = 'catch-up';
    report(true);
    const again = (await walk(dataDir)).filter((e) => !files.has(e.path));
    await eachLimit(again.filter((e) => e.kind !== 'sqlite'), PARALLEL, takeFile);
    for (const e of again.filter((x) => x.kind === 'sqlite')) await takeDb(e);
    if (!files.has('registry.sqlite')) throw new BackupError(`registry.sqlite could not be read in ${dataDir}`);
    if ((await stat(dataDir)).ino !== folder) {
      await rm(partial, { recursive: true, force: true });
      throw new BackupError(`${dataDir} was replaced while it was backed up (a hearth restore ended meanwhile): the copy would mix the old and the new content, so it was dropped; run hearth backup again`);
    }

    const manifest: Manifest = {
      format: FORMAT, hearth_version: o.hearthVersion, started_at: started.toISOString(), finished_at: new Date().toISOString(),
      data_dir: dataDir, engines: o.engines, files: [...files.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
    };
    await writeFile(join(partial, MANIFEST), JSON.stringify(manifest, null, 1) + '\n', { mode: 0o600 });
    // durable before the rename that makes it a snapshot
    await syncTree(partial, [...manifest.files.map((f) => join(partial, f.path)), join(partial, MANIFEST)], made);
    const snapshot = join(target, name);
    await rename(partial, snapshot);
    await fsyncPath(target);
    const pruned = await prune(target, o.keep);
    report(true);
    const seconds = Math.max(p.elapsed_ms, 1) / 1000;
    const { phase: _phase, ...counts } = p;
    return {
      ...counts, snapshot, previous: prev?.path ?? null, databases: manifest.files.filter((f) => f.kind === 'sqlite').length,
      removed_partials: removed, pruned, mb_per_s: Math.round((p.bytes / 1e6 / seconds) * 10) / 10,
    };
  } finally {
    await releaseLock();
  }
}

/** Removes the oldest snapshots beyond `keep`. */
async function prune(dir: string, keep: number | undefined): Promise<string[]> {
  if (!keep) return [];
  const all = await snapshotsIn(dir);
  const old = all.slice(0, Math.max(0, all.length - keep));
  for (const n of old) await rm(join(dir, n), { recursive: true, force: true });
  return old;
}
