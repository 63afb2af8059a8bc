/**
 * Runs the bundled CLI (dist/bundle/hearth.cjs, scripts/bundle.mjs) with V8's code cache: bin/hearth.js and
 * bench/hearth-main.ts load it through here, before anything else of Hearth.
 *
 * Without a cache, V8 parses the 3.7 MB bundle at every start, then compiles each function the start runs (a few
 * thousand) the first time it runs: about a third of the CPU time to the first 200. `hearth serve` compiles the bundle
 * as a script with the code V8 serialized (`vm.Script`'s `cachedData`, Node 20 has no compile cache for ES modules) at
 * the end of an earlier start, once it listened: the bytecode of every function that start compiled, which V8 then
 * deserializes instead of compiling.
 *
 * The cache is a file beside the bundle (hearth.cjs.cache), written by the first `hearth serve` after a build (or after a
 * start that found it unusable), before V8's flags are given back (young-gen.ts: the flags are part of V8's own check).
 * Its first line holds the bundle's size, modification time and inode: a rebuilt bundle never runs with the code of
 * another; its second, Node's own modules that start loaded (openBundle loads them before the V8 flags are set). V8 rejects it as well for another V8 version, other flags or another source length; a rejected or stale
 * cache is written again. A directory the process cannot write leaves the start as it was, without a cache.
 */
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** What happened to the code cache: not used (`off`), none yet, used, refused by V8, or left from another bundle. */
export type CodeCacheState = 'off' | 'none' | 'accepted' | 'rejected' | 'stale';

const SAVE = Symbol.for('hearth.bundle-loader.save');
const MAGIC = 'hearth-code-cache v2 ';
type Saver = () => boolean;
const hooks = globalThis as typeof globalThis & { [SAVE]?: Saver };
const nodeRequire = createRequire(import.meta.url);

/** The bundle's identity in the cache's first line (a rebuild writes a new file: new inode, time, usually size). */
function stampOf(file: string): string {
  const st = statSync(file);
  return `${st.size} ${st.mtimeMs} ${st.ino}`;
}

interface Cache { data: Buffer; builtins: string[] }

/** The cache (V8's data, Node's modules the start loaded) if its first line names this bundle, else why it is not used. */
function readCache(cacheFile: string, stamp: string): Cache | 'none' | 'stale' {
  let raw: Buffer;
  try {
    raw = readFileSync(cacheFile);
  } catch {
    return 'none';
  }
  const nl = raw.indexOf(10);
  const nl2 = nl > 0 ? raw.indexOf(10, nl + 1) : -1;
  if (nl2 < 0 || raw.toString('latin1', 0, nl) !== MAGIC + stamp) return 'stale';
  let builtins: unknown;
  try {
    builtins = JSON.parse(raw.toString('latin1', nl + 1, nl2));
  } catch {
    return 'stale'; // a damaged file (a disk error, an edit): written again by this start
  }
  if (!Array.isArray(builtins) || !builtins.every((b) => typeof b === 'string')) return 'stale';
  return { builtins, data: raw.subarray(nl2 + 1) };
}

/**
 * Whether the code cache beside `file` belongs to it (`fresh`), is missing, or was left by another build or damaged
 * (`stale`); V8's own check (its version and flags) happens only when a start compiles with it. For the build's warm-up
 * start (scripts/warm-code-cache.mjs).
 */
export function codeCacheState(file: string): 'fresh' | 'none' | 'stale' {
  const found = readCache(`${file}.cache`, stampOf(file));
  return typeof found === 'string' ? found : 'fresh';
}

/**
 * Whether a start may load Node's module `id` ahead of the bundle: one of its public modules, not one of the `_`-named
 * parts its public ones load (`_tls_wrap`, `_http_server`…). The load list puts a part before the module that loaded it
 * (`_tls_wrap`, then `tls`), and a part loaded first meets its require cycle from the wrong end: `tls` then exports no
 * `Server`, and `https` throws as it loads; a cache written by a start whose V8 flags differed (an operator's
 * NODE_OPTIONS) held such a list, and every later start failed.
 */
function preloadable(id: string): boolean {
  return isBuiltin(id) && !id.startsWith('_');
}

/** Node's own public modules this process has loaded (`http`, `zlib`…), in the order it loaded them. */
function loadedBuiltins(): string[] {
  const list = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  return list.filter((m) => m.startsWith('NativeModule ') && !m.startsWith('NativeModule internal/')).map((m) => m.slice(13)).filter(preloadable);
}

/** The bundle, read (and its cache), ready to run: its V8 flags are set between `openBundle` and `run`. */
export interface Bundle {
  readonly cache: CodeCacheState;
  /** Compiles and runs it (once) as Node runs a CommonJS module (its own `require`, `module`, `__filename`); its exports. */
  run(): Record<string, unknown>;
}

/**
 * Reads the CommonJS bundle `file` (a module wrapper: scripts/bundle.mjs), and with `codeCache` the cache beside it; then loads the Node modules the start that
 * wrote the cache loaded. Node compiles its own modules from code it ships, which V8 refuses once a V8 flag changed
 * (`--no-turbofan`, `--semi-space-growth-factor`): loaded before bin/hearth.js sets them, they cost a third of the
 * CPU time (about 25 ms for the ~40 modules of a start).
 */
export function openBundle(file: string, opts: { codeCache: boolean }): Bundle {
  // the bundle's text is CommonJS's module wrapper, `(function (exports, require, module, __filename, __dirname) {…})`
  // (scripts/bundle.mjs); it and the cache are let go once compiled (V8 keeps the source it needs, 3.7 MB, once)
  let source: string | null = readFileSync(file, 'utf8');
  const cacheFile = `${file}.cache`;
  const stamp = opts.codeCache ? stampOf(file) : '';
  let found: Cache | 'none' | 'stale' | null = opts.codeCache ? readCache(cacheFile, stamp) : 'none';
  if (typeof found !== 'string') for (const id of found.builtins) if (preloadable(id)) nodeRequire(id);
  let cache: CodeCacheState = opts.codeCache ? (typeof found === 'string' ? found : 'accepted') : 'off';
  return {
    get cache() {
      return cache;
    },
    run() {
      if (source === null || found === null) throw new Error(`${file} already runs`);
      const cachedData = typeof found === 'string' ? undefined : found.data;
      const script = new Script(source, { filename: file, cachedData });
      [source, found] = [null, null];
      if (cachedData && script.cachedDataRejected) cache = 'rejected';
      if (cache === 'none' || cache === 'stale' || cache === 'rejected') hooks[SAVE] = () => writeCache(cacheFile, stamp, script);
      const module = { exports: {} as Record<string, unknown> };
      const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
      wrapper(module.exports, createRequire(file), module, file, dirname(file));
      return module.exports;
    },
  };
}

function writeCache(cacheFile: string, stamp: string, script: Script): boolean {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    const head = `${MAGIC}${stamp}\n${JSON.stringify(loadedBuiltins())}\n`;
    writeFileSync(tmp, Buffer.concat([Buffer.from(head, 'latin1'), script.createCachedData()]));
    renameSync(tmp, cacheFile); // whole or absent, for a start that reads it meanwhile
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false; // a read-only installation: starts without the cache
  }
}

/**
 * Writes the code cache of the bundle this process runs, if it was loaded without a usable one (else does nothing):
 * `hearth serve` calls it once it listens, before V8's flags change back. True if a cache was written.
 */
export function saveCodeCache(): boolean {
  const save = hooks[SAVE];
  delete hooks[SAVE]; // once
  return save ? save() : false;
}
