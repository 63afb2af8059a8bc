/** The move states on SQLite: the conformance suite of every engine (test/helpers/move-state-suite.ts). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessInvalidation } from '../common/invalidation.js';
import { describeMoveState } from '../../test/helpers/move-state-suite.js';
import { SqliteMoveState } from './state.js';
import { CachedMoveStates } from './cached.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-move-state-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeMoveState('SQLite', {
  storage: async () => join(dir, `state-${Math.random().toString(36).slice(2)}.sqlite`),
  open: (file) => new SqliteMoveState(file),
});

describe('the per-process copy of the move states', () => {
  it('is dropped in every process when any of them makes a transition', async () => {
    const file = join(dir, 'cached.sqlite');
    const invalidation = new InProcessInvalidation();
    const a = new CachedMoveStates(new SqliteMoveState(file), invalidation, 60_000);
    const b = new CachedMoveStates(new SqliteMoveState(file), invalidation, 60_000);
    expect(await b.get('i1')).toBeNull();
    expect(await a.transition('i1', null, { status: 'importing', peer: null, since: '2026-12-07T00:00:00.000Z', detail: {} })).toBe(true);
    expect((await b.get('i1'))?.status).toBe('importing');
    await a.forget('i1');
    expect(await b.get('i1')).toBeNull();
    await Promise.all([a.close(), b.close()]);
  });
});
