/* global process */
/**
 * `npm run build`'s last step (postbuild): the compiled CLI (dist/main.js and every module it imports, the pure-JS packages
 * included) bundled by esbuild into one file, dist/bundle/hearth.cjs, which bin/hearth.js runs. Loading ~700 small
 * files (resolving, reading and compiling each) was about a third of the CPU time of a start.
 * The bundle is a CommonJS script (an outfile ending in .cjs; ESM for any other name): bin/hearth.js compiles it with V8's
 * code cache (src/server/bundle-loader.ts), which Node 20 offers for scripts (vm.Script's cachedData) and not for ES modules.
 * Left out, loaded from node_modules when used: native addons, and packages that read files next to their code or
 * are loaded on first use only (Swagger UI, pretty logs, YAML, mail).
 * `node scripts/bundle.mjs [entry outfile]` (default dist/main.js dist/bundle/hearth.cjs, skipped when the bundle is newer
 * than the last compilation, dist/.tsbuildinfo, as bin/hearth.js checks); the bench bundles its own build.
 */
import { build } from 'esbuild';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXTERNAL = [
  'better-sqlite3', '@node-rs/argon2', 'sharp', 'koffi', // native
  '@fastify/swagger', '@fastify/swagger-ui', 'pino-pretty', 'yaml', 'nodemailer', // files of their own, or first use only
  // the scale-out engines' clients, required on first use (src/common/lazy-libs.ts): only with their settings
  'pg', 'ioredis', '@aws-sdk/client-s3', '@aws-sdk/lib-storage',
];

/**
 * esbuild's options for `entry` → `outfile`. In ESM, `require` for the CommonJS packages resolves from the bundle's
 * directory; a package left out is loaded at start if any module imports it statically, even one loaded on first use:
 * those of first use only are imported dynamically (src/common/lazy-libs.ts; test/repo/bundle.test.ts checks it on the
 * ESM form, the stricter one). In CommonJS (outfile *.cjs): one function expression, CommonJS's module wrapper, that
 * src/server/bundle-loader.ts compiles and calls with the wrapper's usual arguments; `import.meta.url` is the bundle's own URL, and `import()` of a package left out becomes a
 * `require` on first use (a script compiled by vm.Script cannot `import()` without an experimental flag; every package
 * left out has a CommonJS entry).
 */
export const bundleOptions = (entry, outfile) => ({
  entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', external: EXTERNAL, logLevel: 'error',
  // names kept (stack traces stay readable); the source, held in memory while the process runs, a third smaller;
  // the packages' licence comments in hearth.{cjs,js}.LEGAL.txt beside it
  minifyWhitespace: true, minifySyntax: true, legalComments: 'linked',
  ...(outfile.endsWith('.cjs') ? {
    format: 'cjs', supported: { 'dynamic-import': false }, define: { 'import.meta.url': '__hearthUrl' },
    // in CommonJS's module wrapper already: the loader compiles the file's text as it is (no second 3.7 MB string);
    // strict, as the ES modules it was made of (esbuild's own "use strict" after the banner is no directive)
    banner: { js: "(function (exports, require, module, __filename, __dirname) {'use strict';const __hearthUrl = require('node:url').pathToFileURL(__filename).href;" },
    footer: { js: '})' },
  } : {
    format: 'esm',
    banner: { js: "import { createRequire as __hearthRequire } from 'node:module'; const require = __hearthRequire(import.meta.url);" },
  }),
});

/** Bundles `entry` into `outfile`. */
export async function bundle(entry, outfile) {
  await build(bundleOptions(entry, outfile));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [entry, outfile] = process.argv.slice(2);
  if (entry && outfile) await bundle(entry, outfile);
  else {
    const dist = join(dirname(dirname(fileURLToPath(import.meta.url))), 'dist');
    const [bundled, compiled] = [join(dist, 'bundle', 'hearth.cjs'), join(dist, '.tsbuildinfo')];
    const fresh = existsSync(bundled) && existsSync(compiled) && statSync(bundled).mtimeMs >= statSync(compiled).mtimeMs;
    if (!fresh) await bundle(join(dist, 'main.js'), bundled);
  }
}
