/**
 * The conformance suite of the move states (src/move/state.ts MoveStateStore): SQLite and PostgreSQL run it unchanged.
 * A second `open` of the same storage is another process.
 */
import { describe, expect, it } from 'vitest';
import type { MoveState, MoveStateStore } from '../../src/move/state.js';

export interface MoveStateUnderTest {
  storage(): Promise<string>;
  open(storage: string): MoveStateStore;
}

const importing: MoveState = { status: 'importing', peer: 'https://old.example/', since: '2026-12-07T01:00:00.000Z', detail: { url: 'https://x/#/exports/m', step: 2 } };

export function describeMoveState(name: string, engine: MoveStateUnderTest): void {
  describe(`move state conformance: ${name}`, () => {
    it('moves only from the expected status, seen by another connection, listed, and back to none', async () => {
      const storage = await engine.storage();
      const a = engine.open(storage);
      const b = engine.open(storage);
      expect(await a.get('i1')).toBeNull();
      expect(await a.transition('i1', 'importing', null)).toBe(false);
      expect(await a.transition('i1', null, importing)).toBe(true);
      expect(await b.get('i1')).toEqual(importing);
      // a second start from "none" loses: the first one holds the instance
      expect(await b.transition('i1', null, { ...importing, peer: null })).toBe(false);
      const moved: MoveState = { status: 'moved', peer: 'https://new.example/', since: '2026-12-07T02:00:00.000Z', detail: {} };
      expect(await b.transition('i1', 'importing', moved)).toBe(true);
      await a.transition('i2', null, importing);
      expect(await a.list()).toEqual([{ instanceId: 'i1', state: moved }, { instanceId: 'i2', state: importing }]);
      expect(await a.transition('i2', 'importing', null)).toBe(true);
      expect(await b.get('i2')).toBeNull();
      await a.forget('i1');
      expect(await b.list()).toEqual([]);
      await Promise.all([a.close(), b.close()]);
    });

    it('lets exactly one of many concurrent starts win', async () => {
      const storage = await engine.storage();
      const stores = [engine.open(storage), engine.open(storage), engine.open(storage)];
      const wins = await Promise.all(stores.flatMap((s) => [0, 1, 2].map((n) => s.transition('race', null, { ...importing, detail: { n } }))));
      expect(wins.filter(Boolean)).toHaveLength(1);
      await Promise.all(stores.map((s) => s.close()));
    });
  });
}
