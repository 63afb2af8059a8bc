/**
 * The conformance suite of the `io.cozy.exports` store (src/move/export/store.ts ExportStore): SQLite and PostgreSQL run
 * it unchanged. A second `open` of the same storage is another process.
 */
import { describe, expect, it } from 'vitest';
import type { ExportStore } from '../../src/move/export/store.js';
import type { ExportDoc } from '../../src/move/types.js';

export interface ExportStoreUnderTest {
  storage(): Promise<string>;
  open(storage: string): ExportStore;
}

const H = 3_600_000;
const T0 = Date.parse('2026-12-07T01:00:00.000Z');
const exportDoc = (id: string, at: number, over: Partial<ExportDoc> = {}): ExportDoc => ({
  _id: id, _rev: '1-a', domain: 'alice.test', parts_cursors: [], state: 'exporting',
  created_at: new Date(at).toISOString(), expires_at: new Date(at + 7 * 24 * H).toISOString(), total_size: -1, ...over,
});

export function describeExportStore(name: string, engine: ExportStoreUnderTest): void {
  describe(`export store conformance: ${name}`, () => {
    it('one export at a time per instance: a second is refused while the first runs, allowed once it ended or after 24 h, and replaces the older ones', async () => {
      const storage = await engine.storage();
      const a = engine.open(storage);
      const b = engine.open(storage);
      expect(await a.begin('i1', exportDoc('e1', T0), 'job1', T0)).toEqual({ removed: [] });
      expect((await b.get('e1'))).toEqual({ instanceId: 'i1', jobId: 'job1', doc: exportDoc('e1', T0) });
      expect(await b.begin('i1', exportDoc('e2', T0 + H), null, T0 + H)).toBeNull();
      // another instance is not blocked
      expect(await b.begin('i2', exportDoc('f1', T0, { domain: 'bob.test' }), null, T0)).toEqual({ removed: [] });
      const done = await b.finish('e1', { state: 'done', total_size: 42, parts_cursors: ['io.cozy.files/x'] });
      expect(done).toMatchObject({ _id: 'e1', state: 'done', total_size: 42, parts_cursors: ['io.cozy.files/x'], domain: 'alice.test' });
      expect(done?._rev).toMatch(/^2-/);
      // compare-and-swap: an ended export does not end again
      expect(await a.finish('e1', { state: 'error', error: 'late' })).toBeNull();
      expect((await a.get('e1'))?.doc.state).toBe('done');
      const second = await a.begin('i1', exportDoc('e2', T0 + 2 * H), null, T0 + 2 * H);
      expect(second?.removed.map((d) => d._id)).toEqual(['e1']);
      expect(await a.get('e1')).toBeNull();
      // still exporting but older than 24 h: no longer blocks
      expect(await b.begin('i1', exportDoc('e3', T0 + 27 * H), null, T0 + 27 * H)).toEqual({ removed: [exportDoc('e2', T0 + 2 * H)] });
      expect((await a.list('i1')).map((d) => d._id)).toEqual(['e3']);
      expect((await a.running()).map((r) => r.doc._id).sort()).toEqual(['e3', 'f1']);
      await Promise.all([a.close(), b.close()]);
    });

    it('two processes racing to start an export of one instance: exactly one wins', async () => {
      const storage = await engine.storage();
      const stores = Array.from({ length: 6 }, () => engine.open(storage));
      const results = await Promise.all(stores.map((s, i) => s.begin('i1', exportDoc(`r${i}`, T0), null, T0)));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect(await stores[0]!.list('i1')).toHaveLength(1);
      await Promise.all(stores.map((s) => s.close()));
    });

    it('removes expired exports, a page at a time, and forgets an instance', async () => {
      const storage = await engine.storage();
      const a = engine.open(storage);
      await a.begin('i1', exportDoc('old', T0, { expires_at: new Date(T0 + H).toISOString() }), null, T0);
      await a.finish('old', { state: 'done' });
      await a.begin('i2', exportDoc('o2', T0, { expires_at: new Date(T0 + 2 * H).toISOString() }), null, T0);
      await a.begin('i3', exportDoc('fresh', T0), null, T0);
      expect(await a.removeExpired(T0, 10)).toEqual([]);
      expect((await a.removeExpired(T0 + 3 * H, 1)).map((r) => r.doc._id)).toEqual(['old']);
      expect((await a.removeExpired(T0 + 3 * H, 10)).map((r) => r.doc._id)).toEqual(['o2']);
      expect(await a.get('fresh')).not.toBeNull();
      await a.forget('i3');
      expect(await a.get('fresh')).toBeNull();
      await a.close();
    });
  });
}
