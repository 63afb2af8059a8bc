/**
 * Builds a konnector as real ones ship: its source (CommonJS on cozy-konnector-libs) bundled by esbuild into one
 * `index.js`, the manifest inlined as `__WEBPACK_PROVIDED_MANIFEST__` (what cozy-konnector-build's webpack does),
 * next to its `manifest.konnector`, in `<outDir>/<slug>/`: a konnectors directory the stack can run it from.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

export async function bundleKonnector(srcDir: string, outDir: string): Promise<{ slug: string; dir: string; bytes: number }> {
  const manifestText = readFileSync(join(srcDir, 'manifest.konnector'), 'utf8');
  const manifest = JSON.parse(manifestText) as { slug: string };
  const dir = join(outDir, manifest.slug);
  mkdirSync(dir, { recursive: true });
  await build({
    entryPoints: [join(srcDir, 'src', 'index.js')],
    outfile: join(dir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    define: { __WEBPACK_PROVIDED_MANIFEST__: manifestText.trim() },
    logLevel: 'error',
  });
  writeFileSync(join(dir, 'manifest.konnector'), manifestText);
  // the bundle is CommonJS; Node looks for the nearest package.json, which must be inside the sandbox's code dir
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: manifest.slug, private: true }));
  return { slug: manifest.slug, dir, bytes: statSync(join(dir, 'index.js')).size };
}
