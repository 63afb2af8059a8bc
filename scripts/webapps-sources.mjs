/* global URL */
/**
 * What the build of the built-in apps (scripts/build-webapps.mjs) reads: its output is a function of these files'
 * contents. Their sha256 names the tests' cached build (test/helpers/webapps-build.ts) and lets `npm run build` skip
 * the apps' build when nothing changed (scripts/build-webapps-changed.mjs).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const WEBAPPS_INPUTS = ['webapps', 'scripts/build-webapps.mjs', 'scripts/webapps-shims', 'package-lock.json', 'src/apps/registry', 'src/apps/code/tarball.ts'];

function filesUnder(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().filter((n) => n !== 'node_modules').flatMap((n) => filesUnder(join(path, n)));
}

/** The sha256 (16 hex) of the build's inputs: their paths and contents. */
export function webappsSourcesHash() {
  const h = createHash('sha256');
  for (const file of WEBAPPS_INPUTS.flatMap((p) => filesUnder(join(ROOT, p)))) h.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  return h.digest('hex').slice(0, 16);
}
