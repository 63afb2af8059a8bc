/**
 * `npm run build`'s warm-up start (scripts/warm-code-cache.mjs): an installation is built with V8's code cache of its
 * bundle, so that its first start does not compile the whole start path, and a read-only installation has one at all.
 * Run on a copy of an installation (bin/hearth.js, the loader, the bundle of src/main.ts, node_modules linked) so that the
 * repository's own dist/ is left alone while other tests run it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the bundle script is plain JavaScript (it runs after the compilation)
import { bundleOptions } from '../../scripts/bundle.mjs';
import { codeCacheState } from '../../src/server/bundle-loader.js';
import { freePort } from '../helpers/ports.js';

const ROOT = join(import.meta.dirname, '..', '..');
const root = mkdtempSync(join(tmpdir(), 'hearth-warm-test-'));
const bundle = join(root, 'dist', 'bundle', 'hearth.cjs');
const warm = () => execFileSync(process.execPath, [join(ROOT, 'scripts', 'warm-code-cache.mjs'), root], { encoding: 'utf8' }).trim();

beforeAll(async () => {
  for (const d of ['bin', 'dist/server', 'dist/bundle']) mkdirSync(join(root, d), { recursive: true });
  for (const f of ['bin/hearth.js', 'package.json']) copyFileSync(join(ROOT, f), join(root, f));
  writeFileSync(join(root, 'dist', 'main.js'), ''); // bin/hearth.js runs the bundle: this only says the build ran
  // the loader, as the compilation makes it (esbuild from its source: this test does not depend on dist/)
  await build({ entryPoints: [join(ROOT, 'src', 'server', 'bundle-loader.ts')], outfile: join(root, 'dist', 'server', 'bundle-loader.js'), platform: 'node', format: 'esm', logLevel: 'error' });
  const options = (bundleOptions as (entry: string, outfile: string) => object)(join(ROOT, 'src', 'main.ts'), bundle);
  await build(options);
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** One `hearth serve` of the copy, on a fresh data directory, until it listens; then stopped. */
async function start(env: Record<string, string> = {}): Promise<void> {
  const data = mkdtempSync(join(tmpdir(), 'hearth-warm-data-'));
  try {
    const args = [join(root, 'bin', 'hearth.js'), 'serve', '--data-dir', join(data, 'd'), '--port', String(await freePort()), '--admin-port', String(await freePort()), '--log-level', 'error'];
    const child = spawn(process.execPath, args, { cwd: data, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => { out += d; if (out.includes('hearth is listening')) resolve(); });
      child.stderr.on('data', (d) => { out += d; });
      child.on('exit', (code) => reject(new Error(`the start exited (${code}): ${out}`)));
    });
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('close', resolve));
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
}

describe("the build's warm-up start", () => {
  it("leaves a code cache that the next start uses as it is, and does nothing when it is already there", async () => {
    expect(codeCacheState(bundle)).toBe('none');
    expect(warm()).toBe('code cache: written');
    expect(codeCacheState(bundle)).toBe('fresh');
    const written = statSync(`${bundle}.cache`).mtimeMs;
    expect(warm()).toBe('code cache: up to date');
    // a real start: V8 accepts the cache (one it refused, or one of another build, would be written again once it listens)
    await start();
    expect(statSync(`${bundle}.cache`).mtimeMs).toBe(written);
    expect(codeCacheState(bundle)).toBe('fresh');
  }, 60_000);

  it('starts again after a start with other V8 flags wrote the cache anew (an operator\'s NODE_OPTIONS)', async () => {
    const written = statSync(`${bundle}.cache`).mtimeMs;
    // V8 refuses the cache under other flags: that start writes its own once it listens, with the Node modules it loaded
    await start({ NODE_OPTIONS: '--max-semi-space-size=4' });
    await waitFor(() => statSync(`${bundle}.cache`).mtimeMs !== written);
    await start();
    await start({ NODE_OPTIONS: '--max-semi-space-size=1' });
  }, 60_000);

  it('says a damaged or foreign cache is stale, so that the build writes it again', () => {
    writeFileSync(`${bundle}.cache`, 'hearth-code-cache v2 0 0 0\n[]\n');
    expect(codeCacheState(bundle)).toBe('stale');
    expect(warm()).toBe('code cache: written');
    expect(codeCacheState(bundle)).toBe('fresh');
  }, 60_000);
});
