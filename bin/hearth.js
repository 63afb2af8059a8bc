#!/usr/bin/env node
// The `hearth` executable: runs the compiled CLI (npm run build produces dist/), bundled in one file
// (dist/bundle/hearth.cjs, scripts/bundle.mjs) unless a compilation after the bundle made it stale.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, 'dist', 'main.js');
const bundled = join(root, 'dist', 'bundle', 'hearth.cjs');
const compiled = join(root, 'dist', '.tsbuildinfo');
if (!existsSync(entry)) {
  console.error('hearth is not built yet: run `npm run build` (or `npm start`) in ' + root);
  process.exit(1);
}
const fresh = existsSync(bundled) && (!existsSync(compiled) || statSync(bundled).mtimeMs >= statSync(compiled).mtimeMs);
// the bundle, with V8's code cache for `serve` (src/server/bundle-loader.ts: about a third of a start's CPU time); read
// before the flags below, with the Node modules the start needs
const bundle = fresh ? (await import(join(root, 'dist', 'server', 'bundle-loader.js'))).openBundle(bundled, { codeCache: process.argv[2] === 'serve' }) : null;

// the young generation keeps its initial size through the start (src/server/young-gen.ts: ~8 MB less idle RSS);
// `serve` starts without TurboFan, given back once it listens (src/server/young-gen.ts: ~10 MB less idle RSS)
setFlagsFromString('--semi-space-growth-factor=1');
if (process.argv[2] === 'serve') setFlagsFromString('--no-turbofan');

const { main } = bundle ? bundle.run() : await import(entry);
process.exitCode = await main(process.argv.slice(2));
