/**
 * A test's child process in plain JavaScript: its TypeScript entry bundled by esbuild once per test process (the ESM
 * options of scripts/bundle.mjs, the native and first-use packages loaded from node_modules), so that each start is
 * Node loading one file instead of tsx compiling the server's ~450 modules (seconds of CPU per start on a busy machine).
 * The bundle is written two levels under the repository (test-results/children-XXXX/), where the modules' paths
 * relative to their own (`../../package.json`, `../../dist/registry`) and node_modules resolve as they do from src/;
 * removed when this process exits.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { build } from 'esbuild';
// @ts-expect-error: the bundle script is plain JavaScript (it runs before any compilation)
import { bundleOptions } from '../../scripts/bundle.mjs';

const built = new Map<string, Promise<string>>();
let dir: string | null = null;

/** The path of `entry` (a .ts file from the repository's root) bundled as an ES module; built on the first call. */
export function childScript(entry: string): Promise<string> {
  let out = built.get(entry);
  if (!out) {
    if (!dir) {
      mkdirSync('test-results', { recursive: true });
      const made = (dir = resolve(mkdtempSync(join('test-results', 'children-'))));
      process.once('exit', () => rmSync(made, { recursive: true, force: true }));
    }
    const outfile = join(dir, basename(entry).replace(/\.ts$/, '.mjs'));
    out = build({ ...(bundleOptions(entry, outfile) as object), minifyWhitespace: false, legalComments: 'none' }).then(() => outfile);
    out.catch(() => built.delete(entry));
    built.set(entry, out);
  }
  return out;
}
