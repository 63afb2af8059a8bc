/**
 * The conformance suite of a move's pending steps (src/move/transfer/pending.ts PendingStore): SQLite and PostgreSQL run
 * it unchanged. A second `open` of the same storage is another process.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { PendingStore } from '../../src/move/transfer/pending.js';

export interface PendingUnderTest {
  storage(): Promise<string>;
  open(storage: string): PendingStore;
}

export function describeMovePending(name: string, engine: PendingUnderTest): void {
  describe(`move pending steps conformance: ${name}`, () => {
    it('is seen by another process, taken once, expires, and is forgotten with its instance', async () => {
      const storage = await engine.storage();
      const a = engine.open(storage);
      const b = engine.open(storage);
      await a.put('request', 's1', 'i1', { target_url: 'https://t.example/' }, 60_000);
      expect(await b.peek('request', 's1')).toEqual({ instanceId: 'i1', value: { target_url: 'https://t.example/' } });
      // another kind under the same key is another entry
      expect(await b.peek('wizard', 's1')).toBeNull();
      const takes = await Promise.all([a.take('request', 's1'), b.take('request', 's1')]);
      expect(takes.filter((t) => t !== null)).toEqual([{ instanceId: 'i1', value: { target_url: 'https://t.example/' } }]);
      expect(await a.peek('request', 's1')).toBeNull();
      await a.put('wizard', 'w', 'i1', { n: 1 }, 1);
      await sleep(20);
      expect(await b.take('wizard', 'w')).toBeNull();
      await a.put('moving_to', 'i2', 'i2', { url: 'https://t.example/' }, 60_000);
      await a.put('moving_to', 'i3', 'i3', { url: 'https://u.example/' }, 60_000);
      await b.forget('i2');
      expect(await a.peek('moving_to', 'i2')).toBeNull();
      expect(await a.peek('moving_to', 'i3')).not.toBeNull();
      await Promise.all([a.close(), b.close()]);
    });
  });
}
