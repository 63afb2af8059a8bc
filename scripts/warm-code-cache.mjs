/* global process, console, setTimeout, clearTimeout, URL */
/**
 * `npm run build`'s very last step: one `hearth serve` on a throw-away data directory, stopped as soon as it listens, so
 * that V8's code cache of the bundle (src/server/bundle-loader.ts) exists before the first real start. Without it, the
 * first start after a build compiles the whole start path and writes the cache itself (~480 ms to the first 200 instead of
 * ~300), and an installation whose files are read-only at run time (a package built then installed, a container image)
 * never gets one. Skipped when the cache already matches the bundle. It fails nothing: a start that cannot run here only
 * leaves the first real start to write the cache, as before.
 * `node scripts/warm-code-cache.mjs [root]`: the installation at `root` (default this repository: its bin/hearth.js and
 * dist/bundle/hearth.cjs).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
const bundle = join(ROOT, 'dist', 'bundle', 'hearth.cjs');
const { codeCacheState } = await import(join(ROOT, 'dist', 'server', 'bundle-loader.js'));

/** A port nobody listens on now, on loopback. */
const freePort = () => new Promise((resolve, reject) => {
  const s = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

if (codeCacheState(bundle) === 'fresh') {
  console.log('code cache: up to date');
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'hearth-warm-'));
// none of the caller's configuration: no HEARTH_* variable, no ./hearth.yaml (the working directory is the temp one)
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HEARTH_')));
const args = [join(ROOT, 'bin', 'hearth.js'), 'serve', '--data-dir', join(dir, 'data'), '--port', String(await freePort()),
  '--admin-port', String(await freePort()), '--log-level', 'error'];
const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
let err = '';
child.stderr.on('data', (d) => { err += d; });
child.stdout.on('data', (d) => { if (String(d).includes('hearth is listening')) child.kill('SIGTERM'); });
const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
const code = await new Promise((resolve) => child.on('close', (c) => resolve(c)));
clearTimeout(timer);
rmSync(dir, { recursive: true, force: true });
const state = codeCacheState(bundle);
if (state === 'fresh') console.log('code cache: written');
else console.warn(`code cache: not written (${state}; the warm-up start exited with ${code}${err ? `: ${err.trim().split('\n').pop()}` : ''}); the first start will write it`);
