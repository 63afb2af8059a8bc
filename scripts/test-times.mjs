/* global console */
/**
 * Keeps the per-file times of the last `npm test` (vitest-file-times.json, written by test/helpers/file-times-reporter.ts)
 * in test/file-times.json, which test/helpers/sequencer.ts orders the test files by: `node scripts/test-times.mjs`.
 * Files of the table that were not in that run keep their time; files that no longer exist are left out.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const table = join(root, 'test', 'file-times.json');
const old = existsSync(table) ? JSON.parse(readFileSync(table, 'utf8')) : {};
const { files } = JSON.parse(readFileSync(join(root, 'vitest-file-times.json'), 'utf8'));
const times = { ...old };
for (const f of files) times[`${f.project}:${f.file}`] = Math.round(f.ms / 100) * 100;
const kept = Object.fromEntries(Object.entries(times).filter(([k]) => existsSync(join(root, k.slice(k.indexOf(':') + 1)))).sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(table, JSON.stringify(kept, null, 1) + '\n');
console.log(`${Object.keys(kept).length} files in test/file-times.json (${files.length} from the last run)`);
