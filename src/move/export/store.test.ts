/** The `io.cozy.exports` store on SQLite: the conformance suite of every engine (test/helpers/export-store-suite.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { describeExportStore } from '../../../test/helpers/export-store-suite.js';
import { SqliteExportStore } from './store.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-export-store-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeExportStore('SQLite', {
  storage: async () => join(dir, `exports-${Math.random().toString(36).slice(2)}.sqlite`),
  open: (file) => new SqliteExportStore(file),
});
