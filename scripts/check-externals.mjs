#!/usr/bin/env node
/* global console, process */
// The stack assets taken from npm packages (src/apps/assets/externals.json): each package must be installed at its
// pinned version and each file must have its recorded sha256. Run by `npm run build` (prebuild); exits 1 on a mismatch.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const { files } = JSON.parse(readFileSync(join(root, 'src/apps/assets/externals.json'), 'utf8'));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const errors = [];
for (const f of files) {
  if (pkg.dependencies?.[f.package] !== f.version) errors.push(`package.json must pin ${f.package} to exactly ${f.version}`);
  let dir;
  try {
    dir = dirname(require.resolve(`${f.package}/package.json`));
  } catch {
    errors.push(`${f.package} is not installed: run npm install`);
    continue;
  }
  const installed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
  if (installed !== f.version) errors.push(`${f.package} ${installed} is installed, ${f.version} is pinned`);
  const sum = createHash('sha256').update(readFileSync(join(dir, f.path))).digest('hex');
  if (sum !== f.sha256) errors.push(`${f.package}/${f.path}: sha256 ${sum}, expected ${f.sha256}`);
}
if (errors.length) {
  console.error(`stack assets (src/apps/assets/externals.json):\n  ${errors.join('\n  ')}`);
  process.exit(1);
}
