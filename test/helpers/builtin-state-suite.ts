/**
 * The conformance suite of the built-in apps' state (src/apps/builtin/state.ts BuiltinStateStore): SQLite and
 * PostgreSQL run it unchanged. `make` gives a fresh, empty store; a second `open` of its storage is another process.
 */
import { describe, expect, it } from 'vitest';
import type { BuiltinStateStore } from '../../src/apps/builtin/state.js';

export interface BuiltinStateUnderTest {
  storage(): Promise<string>;
  open(storage: string): BuiltinStateStore;
}

export function describeBuiltinState(name: string, engine: BuiltinStateUnderTest): void {
  describe(`built-in apps state conformance: ${name}`, () => {
    it('keeps a row per instance, the seen slugs once and sorted, replaced by set, removed by forget, seen by another connection', async () => {
      const storage = await engine.storage();
      const a = engine.open(storage);
      expect(await a.get('i1')).toBeNull();
      await a.set('i1', { fingerprint: '', seen: ['store', 'home', 'home'] });
      await a.set('i2', { fingerprint: 'f2', seen: [] });
      expect(await a.get('i1')).toEqual({ fingerprint: '', seen: ['home', 'store'] });
      await a.set('i1', { fingerprint: 'f1', seen: ['home', 'store', 'drive'] });
      const b = engine.open(storage);
      expect(await b.get('i1')).toEqual({ fingerprint: 'f1', seen: ['drive', 'home', 'store'] });
      expect(await b.many(['i1', 'i2', 'i3'])).toEqual(new Map([['i1', { fingerprint: 'f1', seen: ['drive', 'home', 'store'] }], ['i2', { fingerprint: 'f2', seen: [] }]]));
      expect(await b.many([])).toEqual(new Map());
      await b.forget('i1');
      expect(await a.get('i1')).toBeNull();
      expect(await a.get('i2')).not.toBeNull();
      await Promise.all([a.close(), b.close()]);
    });
  });
}
