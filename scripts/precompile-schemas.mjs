/* global process, console, performance */
/**
 * `npm run build`'s step after the bundle: the code of every route schema, compiled ahead of time into dist/schemas
 * (src/server/schema-precompile.ts says how; src/server/schema-code.ts how the server loads it). The server compiles on
 * the event loop only the schemas this folder lacks.
 *   node scripts/precompile-schemas.mjs [compiled-module outDir]
 * (default dist/server/schema-precompile.js dist/schemas, skipped when dist/schemas is newer than the last compilation,
 * dist/.tsbuildinfo; the bench passes its own build).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = join(dirname(dirname(fileURLToPath(import.meta.url))), 'dist');
const args = process.argv.slice(2);
const [module = join(dist, 'server', 'schema-precompile.js'), outDir = join(dist, 'schemas')] = args;
// skipped, as the bundle is, when the folder is newer than the last compilation (`npm start` rebuilds nothing unchanged)
const compiled = join(dist, '.tsbuildinfo');
if (args.length === 0 && existsSync(outDir) && existsSync(compiled) && statSync(outDir).mtimeMs >= statSync(compiled).mtimeMs) process.exit(0);
const t0 = performance.now();
const { precompileSchemas } = await import(pathToFileURL(resolve(module)).href);
const { files, bytes } = await precompileSchemas(resolve(outDir));
console.log(`route schemas: ${files} modules, ${Math.round(bytes / 1024)} KiB in ${outDir} (${Math.round(performance.now() - t0)} ms)`);
process.exit(0); // the composed server's timers (its own close() stops them; a stray one must not hold the build)
