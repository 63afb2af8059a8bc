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

    it("keeps an export's copy of the documents, a page at a time in (doctype, id) order, and drops it with the export or when it fails", async () => {
      const storage = await engine.storage();
      const a = engine.open(storage);
      await a.begin('i1', exportDoc('e1', T0), null, T0);
      const doc = (kind: 0 | 1 | 2 | 3, doctype: string, id: string) => ({ kind, doctype, id, body: JSON.stringify({ _id: id }) });
      // ids in bytes' order: upper case before lower case
      await a.saveDocs('e1', [doc(0, 'io.cozy.b', 'x'), doc(0, 'io.cozy.a', 'b'), doc(0, 'io.cozy.a', 'A'), doc(2, 'io.cozy.files', 'f1'), doc(2, 'io.cozy.files', 'f2'), doc(2, 'io.cozy.files', 'f3')]);
      const start = { doctype: '', id: '' };
      expect((await a.docs('e1', 0, start, true, null, 2)).map((d) => `${d.doctype}/${d.id}`)).toEqual(['io.cozy.a/A', 'io.cozy.a/b']);
      expect((await a.docs('e1', 0, { doctype: 'io.cozy.a', id: 'b' }, false, null, 2)).map((d) => d.id)).toEqual(['x']);
      expect(await a.docs('e1', 2, { doctype: 'io.cozy.files', id: 'f2' }, true, 'f3', 10)).toEqual([doc(2, 'io.cozy.files', 'f2')]);
      await a.finish('e1', { state: 'error', error: 'x' });
      expect(await a.docs('e1', 0, start, true, null, 10)).toEqual([]);
      await a.begin('i1', exportDoc('e2', T0 + H), null, T0 + H);
      await a.saveDocs('e2', [doc(1, 'io.cozy.files', 'd')]);
      await a.finish('e2', { state: 'done' });
      expect(await a.docs('e2', 1, start, true, null, 10)).toHaveLength(1);
      // a new export replaces it: its copy goes in the same step
      expect(await a.begin('i1', exportDoc('e3', T0 + 2 * H), null, T0 + 2 * H)).not.toBeNull();
      expect(await a.docs('e2', 1, start, true, null, 10)).toEqual([]);
      await a.close();
    });

    it('pins a blob while an export holds the instance (not failed, not expired), and releases it once none does', async () => {
      const storage = await engine.storage();
      const a = engine.open(storage);
      const b = engine.open(storage);
      expect(await a.pin('i1', 'k0', T0)).toBe(false);
      await a.begin('i1', exportDoc('e1', T0), null, T0);
      expect(await b.pin('i1', 'k1', T0 + H)).toBe(true);
      expect(await b.pin('i1', 'k1', T0 + H)).toBe(true);
      expect(await b.pin('i2', 'k9', T0 + H)).toBe(false);
      await a.finish('e1', { state: 'done' });
      expect(await a.pin('i1', 'k2', T0 + H)).toBe(true);
      expect(await a.releasable(T0 + H, 10)).toEqual([]);
      // what fsck asks: the blobs held now, with their export and its end
      const until = T0 + 7 * 24 * H;
      expect(await b.held('i1', T0 + H)).toEqual([{ key: 'k1', exportId: 'e1', expiresAt: until }, { key: 'k2', exportId: 'e1', expiresAt: until }]);
      expect(await b.held('i2', T0 + H)).toEqual([]);
      // expired: released
      const expiry = T0 + 7 * 24 * H;
      expect(await a.pin('i1', 'k3', expiry)).toBe(false);
      expect(await a.held('i1', expiry)).toEqual([]);
      const pins = await b.releasable(expiry, 10);
      expect(pins.map((p) => p.key).sort()).toEqual(['k1', 'k2']);
      expect(pins[0]).toMatchObject({ exportId: 'e1', instanceId: 'i1' });
      await b.unpin(pins);
      expect(await a.releasable(expiry, 10)).toEqual([]);
      // failed (a crash found by the sweep): released at once
      await a.begin('i1', exportDoc('e2', T0 + 2 * H), null, T0 + 2 * H);
      expect(await a.pin('i1', 'k4', T0 + 2 * H)).toBe(true);
      await a.finish('e2', { state: 'error', error: 'interrupted' });
      expect((await a.releasable(T0 + 2 * H, 10)).map((p) => p.key)).toEqual(['k4']);
      // an instance destroyed: its pins go with it (its blobs are dropped whole)
      await a.forget('i1');
      expect(await a.releasable(T0 + 2 * H, 10)).toEqual([]);
      await Promise.all([a.close(), b.close()]);
    });
  });
}
