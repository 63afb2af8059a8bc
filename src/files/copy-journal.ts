/**
 * The durable journal of the directory copies this process is making (copy.ts): one small JSON file per copy under
 * way in `<dataDir>/copies`, written (and fsynced) before the copy's first directory is made, completed with that
 * directory's id once it exists, removed once the copy is whole or undone. A process killed in the middle leaves its
 * entries; at its next start `undoCutCopies` removes for good the "(incomplete copy)" folders they name, which no one
 * could finish (each process has its own data directory: only its own copies are in its journal).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { NotFound } from '../common/errors.js';
import { fsyncPath } from '../common/fsync.js';
import type { Instance } from '../instances/types.js';
import type { FileSystem } from './fs.js';
import type { FileTree } from './tree.js';

/** A copy under way: where its working folder is made, under which name, and its id once made. */
export interface CopyMark { instanceId: string; domain: string; parentId: string; workingName: string; topId?: string }

/** One copy's entry: `made` records its folder's id, `end` forgets it (the copy is whole, or undone). */
export interface CopyEntry { made(topId: string): Promise<void>; end(): Promise<void> }

export class CopyJournal {
  constructor(readonly dir: string) {}

  /** Records a copy about to start; durable when this resolves. */
  async begin(mark: CopyMark): Promise<CopyEntry> {
    const file = join(this.dir, `${randomUUID()}.json`);
    await this.write(file, mark);
    return {
      made: (topId) => this.write(file, { ...mark, topId }),
      end: () => rm(file, { force: true }),
    };
  }

  /** The entries left (a half-written one, never renamed into place, is dropped). */
  async list(): Promise<Array<{ file: string; mark: CopyMark | null }>> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return []; // no copy was ever made by this process
    }
    const out: Array<{ file: string; mark: CopyMark | null }> = [];
    for (const name of names) {
      const file = join(this.dir, name);
      if (!name.endsWith('.json')) {
        await rm(file, { force: true });
        continue;
      }
      try {
        out.push({ file, mark: JSON.parse(await readFile(file, 'utf8')) as CopyMark });
      } catch {
        out.push({ file, mark: null });
      }
    }
    return out;
  }

  /** Written whole then renamed into place, both fsynced: an entry is either the old one or the new one. */
  private async write(file: string, mark: CopyMark): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(mark));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    await fsyncPath(this.dir);
  }
}

export interface UndoDeps {
  journal: CopyJournal;
  fs: FileSystem;
  tree: FileTree;
  /** The instance now at `domain` (null when it is gone). */
  instanceOf(domain: string): Promise<Instance | null>;
  logger: Logger;
}

/** The working folder of a cut copy, if it is still there under its working name (a copy renamed was whole). */
async function leftover(deps: UndoDeps, instance: Instance, mark: CopyMark): Promise<string | null> {
  try {
    const doc = mark.topId !== undefined ? await deps.fs.stat(instance, mark.topId) : await deps.fs.child(instance, mark.parentId, mark.workingName);
    return doc && doc.name === mark.workingName && doc.dir_id === mark.parentId ? doc._id : null;
  } catch (err) {
    if (err instanceof NotFound) return null;
    throw err;
  }
}

/** At start: removes for good the working folders of the copies a stopped process left cut short. How many it removed. */
export async function undoCutCopies(deps: UndoDeps): Promise<number> {
  let undone = 0;
  for (const { file, mark } of await deps.journal.list()) {
    const instance = mark ? await deps.instanceOf(mark.domain) : null;
    if (mark && instance?.id === mark.instanceId) {
      const id = await leftover(deps, instance, mark);
      if (id !== null) {
        deps.logger.warn({ domain: instance.domain, folder: mark.workingName }, 'removing a folder copy that a stop cut short');
        await deps.tree.destroy(instance, id, undefined, { anywhere: true });
        undone++;
      }
    }
    await rm(file, { force: true });
  }
  return undone;
}
