/** The file system of the instances, as the routes see it: the core operations and the subtree ones. */
import { FileSystem, type FileSystemDeps } from './fs.js';
import { FileTree } from './tree.js';
import type { CopyJournal } from './copy-journal.js';

export class Vfs {
  readonly fs: FileSystem;
  readonly tree: FileTree;

  /** `copies`: the journal of the directory copies under way (copy-journal.ts), undone at the next start if cut short. */
  constructor(deps: FileSystemDeps, readonly copies: CopyJournal | null = null) {
    this.fs = new FileSystem(deps);
    this.tree = new FileTree(this.fs);
  }
}
