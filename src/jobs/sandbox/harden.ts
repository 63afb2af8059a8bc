/**
 * What the sandbox adds to Node's permission model, checked before and loaded into every sandboxed process
 * (see run.ts for why each is needed).
 */
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';

/**
 * Loaded with `--import=data:…` before the konnector's code (a data: URL needs no file read): removes the
 * process methods that reach other processes of the same user. Without it, `process.kill(process.ppid)` stops
 * the stack and `process._debugProcess(ppid)` opens the stack's inspector on 127.0.0.1:9229 (full escape).
 * They become non-writable, non-configurable functions that throw ERR_ACCESS_DENIED; the originals are held by
 * no reachable reference (process.binding is refused by the permission model).
 */
const PRELOAD = `
import os from 'node:os';
import { syncBuiltinESMExports } from 'node:module';
const refuse = (name) => function refused() {
  const err = new Error(name + ' is refused in the Hearth sandbox');
  err.code = 'ERR_ACCESS_DENIED';
  throw err;
};
for (const name of ['kill', '_kill', '_debugProcess', '_debugEnd', '_linkedBinding', '_startProfilerIdleNotifier', '_stopProfilerIdleNotifier']) {
  Object.defineProperty(process, name, { value: refuse('process.' + name), writable: false, configurable: false, enumerable: false });
}
os.setPriority = refuse('os.setPriority');
syncBuiltinESMExports();
`;

export const PRELOAD_URL = `data:text/javascript,${encodeURIComponent(PRELOAD)}`;

const MAX_ENTRIES = 50_000;

/** True when `path` is `dir` or inside it (both absolute, already real paths). */
export function isInside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The permission model checks the path a call names, not where it leads: a symlink already in an allowed
 * directory is followed (the sandbox cannot create one: fs.symlink needs full read and write rights).
 * The work directory is fresh and empty, so only the code directory can hold one: refuse to run it if a
 * symlink there resolves outside it (or dangles).
 */
export function assertNoEscapingLinks(realCodeDir: string): void {
  const stack = [realCodeDir];
  let seen = 0;
  while (stack.length) {
    const dir = stack.pop() as string;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (++seen > MAX_ENTRIES) throw new Error(`the code directory ${realCodeDir} has more than ${MAX_ENTRIES} entries: bundle the code`);
      const path = join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(path);
        } catch {
          throw new Error(`the code directory holds a dangling symlink: ${path}`);
        }
        if (!isInside(realCodeDir, target)) throw new Error(`the code directory holds a symlink that leads outside it: ${path} -> ${target}`);
      } else if (entry.isDirectory() && !lstatSync(path).isSymbolicLink()) {
        stack.push(path);
      }
    }
  }
}
