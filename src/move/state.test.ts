/** The move states on SQLite: the conformance suite of every engine (test/helpers/move-state-suite.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { describeMoveState } from '../../test/helpers/move-state-suite.js';
import { SqliteMoveState } from './state.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-move-state-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeMoveState('SQLite', {
  storage: async () => join(dir, `state-${Math.random().toString(36).slice(2)}.sqlite`),
  open: (file) => new SqliteMoveState(file),
});
