/* global process, console, URL */
/**
 * `npm run build`'s last step: the built-in apps built into dist/registry (scripts/build-webapps.mjs, 10-20 s of CPU
 * with brotli at its best) unless the sources they were last built from are the same (dist/webapps-sources, the hash
 * of scripts/webapps-sources.mjs), as the compilation, the bundle and the schemas are skipped when up to date.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webappsSourcesHash } from './webapps-sources.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const mark = join(ROOT, 'dist', 'webapps-sources');
const hash = webappsSourcesHash();
if (existsSync(mark) && readFileSync(mark, 'utf8') === hash && existsSync(join(ROOT, 'dist', 'registry'))) {
  console.log('built-in apps: up to date');
  process.exit(0);
}
const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-webapps.mjs')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(mark, hash);
