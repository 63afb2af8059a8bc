/** The file system of the instances, as the routes see it: the core operations and the subtree ones. */
import { FileSystem, type FileSystemDeps } from './fs.js';
import { FileTree } from './tree.js';

export class Vfs {
  readonly fs: FileSystem;
  readonly tree: FileTree;

  constructor(deps: FileSystemDeps) {
    this.fs = new FileSystem(deps);
    this.tree = new FileTree(this.fs);
  }
}
