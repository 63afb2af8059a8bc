/** The built-in apps' state on SQLite: the conformance suite of every engine (test/helpers/builtin-state-suite.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { describeBuiltinState } from '../../../test/helpers/builtin-state-suite.js';
import { BuiltinState } from './state.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-builtin-state-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeBuiltinState('SQLite', {
  storage: async () => join(dir, `state-${Math.random().toString(36).slice(2)}.sqlite`),
  open: (file) => new BuiltinState(file),
});
