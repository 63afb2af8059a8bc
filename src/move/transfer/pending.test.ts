/** A move's pending steps on SQLite: the conformance suite of every engine (test/helpers/move-pending-suite.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { describeMovePending } from '../../../test/helpers/move-pending-suite.js';
import { SqlitePending } from './pending.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-move-pending-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeMovePending('SQLite', {
  storage: async () => join(dir, `pending-${Math.random().toString(36).slice(2)}.sqlite`),
  open: (file) => new SqlitePending(file),
});
