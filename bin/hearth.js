#!/usr/bin/env node
// The `hearth` executable: runs the compiled CLI (npm run build produces dist/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, 'dist', 'main.js');
if (!existsSync(entry)) {
  console.error('hearth is not built yet: run `npm run build` (or `npm start`) in ' + root);
  process.exit(1);
}
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
