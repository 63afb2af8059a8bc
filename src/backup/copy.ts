/** The file operations of a snapshot: a copy that hashes what it writes, a hard link, fsyncs, a bounded pool. */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { link, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { fsyncPath } from '../common/fsync.js';
import { hashTap } from '../common/hash-tap.js';

export { fsyncPath };

const execFileP = promisify(execFile);

/** Copies `src` to the new file `dst` (refused if it exists; not fsynced: see syncTree); the SHA-256, size and mtime of what was copied. */
export async function copyHashed(src: string, dst: string): Promise<{ sha256: string; size: number; mtimeMs: number }> {
  const input = await open(src, 'r');
  const tap = hashTap('sha256');
  let mtimeMs: number;
  try {
    ({ mtimeMs } = await input.stat());
    await pipeline(input.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false }), tap.stream, createWriteStream(dst, { flags: 'wx', mode: 0o600 }));
  } finally {
    await input.close();
  }
  const { hash, size } = tap.result();
  return { sha256: hash, size, mtimeMs };
}

/** A progress reporter: `report()` calls `onProgress` with a copy of `p` at most every `everyMs`, `report(true)` at once. */
export function throttled<P extends { elapsed_ms: number }>(p: P, onProgress: ((p: P) => void) | undefined, everyMs = 500): (force?: boolean) => void {
  const t0 = performance.now();
  let last = 0;
  return (force = false) => {
    p.elapsed_ms = Math.round(performance.now() - t0);
    if (!force && p.elapsed_ms - last < everyMs) return;
    last = p.elapsed_ms;
    onProgress?.({ ...p });
  };
}

/**
 * Makes what was written under `root` durable: one syncfs of its file system (`sync -f`, coreutils), far cheaper than an
 * fsync per file on a disk where each costs milliseconds; where that command is missing, an fsync of each file and folder.
 */
export async function syncTree(root: string, files: string[], dirs: Iterable<string>): Promise<void> {
  try {
    await execFileP('sync', ['-f', root]);
  } catch {
    await eachLimit([...files, ...[...dirs].sort((a, b) => b.length - a.length)], 16, fsyncPath);
  }
}

/** Creates the folders of `file` inside the snapshot, remembering them for the final fsync. */
export async function ensureParent(file: string, root: string, made: Set<string>): Promise<void> {
  const dir = dirname(file);
  if (made.has(dir)) return;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (let d = dir; !made.has(d) && d.startsWith(root); d = dirname(d)) made.add(d);
}

export const hardLink = (from: string, to: string): Promise<void> => link(from, to);

/** Runs `fn` on each item, at most `limit` at a time; on a failure, starts no more, lets the running ones end, then throws it. */
export async function eachLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const run = async (): Promise<void> => {
    while (!failed && next < items.length) {
      try {
        await fn(items[next++] as T);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, run));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}
