/**
 * Builds the web apps of test/fixtures/apps/ as real Cozy apps ship: the script bundled by esbuild for the browser
 * (cozy-client, cozy-realtime, cozy-interapp from npm), copied with its manifest, index and assets into a folder,
 * then packed as a .tar.gz by GNU tar. Options change the version or the manifest, to build updates.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const FIXTURES = fileURLToPath(new URL('../fixtures/apps/', import.meta.url));

/** What each fixture ships besides its manifest: the bundle's name (content-hashed as real builds name them) and copied files. */
const LAYOUT: Record<string, { bundle: string; copy: string[]; css?: string }> = {
  'e2e-notes': { bundle: 'app.3f2a9c1d0e.js', css: 'app.3f2a9c1d0e.css', copy: ['index.html', 'icon.svg'] },
  'e2e-picker': { bundle: 'picker.7c1e55a0b2.js', copy: ['index.html', 'icon.svg', 'intents'] },
};

export interface BuiltApp {
  slug: string;
  /** The unpacked app (what a file:// source or apps.devDirs points at). */
  dir: string;
  tarball: string;
  sha256: string;
  bytes: number;
  manifest: Record<string, unknown>;
}

export async function buildFixtureApp(
  name: keyof typeof LAYOUT | string,
  outDir: string,
  opts: { version?: string; manifest?: Record<string, unknown> } = {},
): Promise<BuiltApp> {
  const layout = LAYOUT[name];
  if (!layout) throw new Error(`no fixture app ${name}`);
  const src = join(FIXTURES, name);
  const manifest = { ...(JSON.parse(readFileSync(join(src, 'manifest.webapp'), 'utf8')) as Record<string, unknown>), ...opts.manifest };
  if (opts.version) manifest.version = opts.version;
  const dir = join(outDir, `${name}-${String(manifest.version)}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [join(src, 'main.js')],
    outfile: join(dir, layout.bundle),
    bundle: true,
    minify: true,
    platform: 'browser',
    target: 'chrome110',
    format: 'iife',
    define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
    // what webpack's node polyfills gave the libraries that still read `process` (cozy apps are built with webpack)
    banner: { js: 'var process = { env: { NODE_ENV: "production" }, browser: true, nextTick: function (f) { Promise.resolve().then(f); } };' },
    logLevel: 'error',
  });
  for (const file of layout.copy) cpSync(join(src, file), join(dir, file), { recursive: true });
  if (layout.css) cpSync(join(src, 'app.css'), join(dir, layout.css));
  writeFileSync(join(dir, 'manifest.webapp'), JSON.stringify(manifest, null, 2));
  const tarball = `${dir}.tar.gz`;
  execFileSync('tar', ['-czf', tarball, '-C', dir, '.']);
  const bytes = readFileSync(tarball);
  return { slug: String(manifest.slug), dir, tarball, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, manifest };
}
