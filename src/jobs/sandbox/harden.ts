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
 *
 * It also resolves `localhost` and `*.localhost` to loopback (RFC 6761), as browsers and curl do, where glibc
 * on Debian 12 answers ENOTFOUND: the COZY_URL of a dev instance (`http://hearth.localhost:8080`) then works
 * for every client of the code (node:http, fetch, node-fetch, request), and the Host header stays the
 * instance's. This gives the code no address it could not already reach (127.0.0.1 is reachable anyway).
 *
 * And the process ends when the stack that started it is gone (killed with -9, or crashed): its parent is then
 * another process (init or a subreaper). Without it a konnector left running would go on with its token, past its
 * time limit (which the stack enforces), beside the run that the next start gives the job again. Checked twice a
 * second by a timer that keeps no process alive (Linux has PR_SET_PDEATHSIG, which Node does not reach).
 */
const PRELOAD = `
import os from 'node:os';
import dns from 'node:dns';
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
const parent = process.ppid;
const exit = process.exit.bind(process);
setInterval(() => { if (process.ppid !== parent) exit(137); }, 500).unref();
const isLoopbackName = (host) => typeof host === 'string' && /^(.+\\.)?localhost\\.?$/i.test(host);
const loopback = (options) => {
  const family = options.family === 6 || options.family === 'IPv6' ? 6 : options.family === 4 || options.family === 'IPv4' ? 4 : 0;
  const all = [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }].filter((a) => family === 0 || a.family === family);
  return options.all ? all : all[0];
};
const lookup = dns.lookup;
dns.lookup = function (host, options, callback) {
  if (!isLoopbackName(host)) return lookup.apply(this, arguments);
  const cb = typeof options === 'function' ? options : callback;
  const opts = typeof options === 'number' ? { family: options } : options && typeof options === 'object' ? options : {};
  const found = loopback(opts);
  process.nextTick(() => (opts.all ? cb(null, found) : cb(null, found.address, found.family)));
  return {};
};
const lookupPromise = dns.promises.lookup;
dns.promises.lookup = function (host, options) {
  if (!isLoopbackName(host)) return lookupPromise.apply(this, arguments);
  return Promise.resolve(loopback(typeof options === 'number' ? { family: options } : options ?? {}));
};
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
