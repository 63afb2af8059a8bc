/**
 * A test's child process in plain JavaScript: its TypeScript entry bundled by esbuild once per test process (the ESM
 * options of scripts/bundle.mjs, the native and first-use packages loaded from node_modules), so that each start is
 * Node loading one file instead of tsx compiling the server's ~450 modules (seconds of CPU per start on a busy machine).
 * The bundle is written two levels under the repository (test-results/children/<name>.mjs), where the modules' paths
 * relative to their own (`../../package.json`, `../../dist/registry`) and node_modules resolve as they do from src/.
 * One file per entry, replaced at each build by a rename (test workers building the same entry at once write the same
 * text; a process starting meanwhile reads one whole file): nothing to clean up when a worker is killed.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { buildSync } from 'esbuild';
// @ts-expect-error: the bundle script is plain JavaScript (it runs before any compilation)
import { bundleOptions } from '../../scripts/bundle.mjs';

const built = new Map<string, string>();

/**
 * The path of `entry` (a .ts file from the repository's root) bundled as an ES module; built on the first call in this
 * process (synchronously, a second or two: callers that spawn synchronously can use it too).
 */
export function childScript(entry: string): string {
  let out = built.get(entry);
  if (!out) {
    const dir = resolve('test-results', 'children');
    mkdirSync(dir, { recursive: true });
    out = resolve(dir, basename(entry).replace(/\.ts$/, '.mjs'));
    const result = buildSync({ ...(bundleOptions(entry, out) as object), minifyWhitespace: false, legalComments: 'none', write: false });
    const text = result.outputFiles.find((f) => f.path === out);
    if (!text) throw new Error(`esbuild wrote no ${out}`);
    const part = `${out}.${process.pid}.part`;
    writeFileSync(part, text.contents);
    renameSync(part, out);
    built.set(entry, out);
  }
  return out;
}
