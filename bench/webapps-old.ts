/**
 * The built-in apps as an older commit built them, installed beside this tree's as `old<slug>` (webapps-setup.ts installBuilds), for the benches that
 * compare the two in one run (webapps-ab.ts, webapps-realtime.ts). The commit's sources are taken with `git archive`
 * into a temporary folder and built with its own scripts/build-webapps.mjs.
 * That script joins esbuild's output paths (relative to the working directory) to its own root: `tmp` must be as deep
 * as the working directory's parent (`/tmp/x` for `/work/wt/x`, as mkdtemp under tmpdir() gives), or the page's
 * script tags are left as they were (`<script src="main.js" defer>`: the page fails to start).
 */
import { execFileSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './lib.js';

/** Builds `slugs` as `ref` had them under `tmp`; the folder of their builds. */
export async function buildOld(ref: string, slugs: string[], tmp: string, options?: { minify: boolean }): Promise<string> {
  const src = join(tmp, 'src');
  execFileSync('sh', ['-c', `mkdir -p "${src}" && git -C "${ROOT}" archive "${ref}" | tar -x -C "${src}"`]);
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  const { buildApp } = (await import(pathToFileURL(join(src, 'scripts', 'build-webapps.mjs')).href)) as { buildApp(slug: string, out: string, o?: { minify: boolean }): Promise<unknown> };
  for (const slug of slugs) await buildApp(slug, join(tmp, 'old'), options);
  return join(tmp, 'old');
}
