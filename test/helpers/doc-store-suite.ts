/** DocStore behaviour shared by the engines' own tests (sqlite/put-all.test.ts, postgres/store.test.ts): one suite, every engine. */
import { describe, expect, it } from 'vitest';
import type { DocEvent, EventBus } from '../../src/common/bus.js';
import type { DocStore } from '../../src/data/store.js';

/** `setup` gives a store of domain `putall.example` and the bus it publishes on. */
export function putAllSuite(setup: () => { store: DocStore; bus: EventBus }): void {
  describe('putAll', () => {
    it('writes every document, or none when one of them is stale, and publishes events for what was written only', async () => {
      const { store, bus } = setup();
      const events: DocEvent[] = [];
      const off = bus.subscribe('putall.example', 'io.cozy.things', (e) => events.push(e));
      const a = await store.put('io.cozy.things', { _id: 'a', v: 1 });
      const b = await store.put('io.cozy.things', { _id: 'b', v: 1 });
      const ok = await store.putAll('io.cozy.things', [{ _id: 'a', _rev: a.rev, v: 2 }, { _id: 'b', _rev: b.rev, v: 2 }, { _id: 'c', v: 2 }]);
      expect(ok.map((r) => r.id)).toEqual(['a', 'b', 'c']);
      expect(events.map((e) => `${e.verb} ${e.id}`)).toEqual(['CREATED a', 'CREATED b', 'UPDATED a', 'UPDATED b', 'CREATED c']);

      // b's rev is now stale: nothing of the batch is written
      await expect(store.putAll('io.cozy.things', [{ _id: 'a', _rev: ok[0]!.rev, v: 3 }, { _id: 'b', _rev: b.rev, v: 3 }, { _id: 'd', v: 3 }])).rejects.toMatchObject({ status: 409 });
      expect((await store.get('io.cozy.things', 'a')).v).toBe(2);
      expect((await store.get('io.cozy.things', 'b')).v).toBe(2);
      await expect(store.get('io.cozy.things', 'd')).rejects.toMatchObject({ status: 404 });
      expect(events).toHaveLength(5);
      off();
    });

    it('putInOrder writes documents of several doctypes, each visible once the promise resolves, in their order', async () => {
      const { store, bus } = setup();
      const seen: string[] = [];
      const offs = ['io.cozy.first', 'io.cozy.second'].map((d) => bus.subscribe('putall.example', d, (e) => seen.push(`${e.doctype} ${e.id}`)));
      const out = await store.putInOrder([{ doctype: 'io.cozy.first', doc: { _id: 'p', v: 1 } }, { doctype: 'io.cozy.second', doc: { _id: 'q', v: 2 } }]);
      expect(out.map((r) => r.id)).toEqual(['p', 'q']);
      expect((await store.get('io.cozy.first', 'p')).v).toBe(1);
      expect((await store.get('io.cozy.second', 'q'))._rev).toBe(out[1]!.rev);
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual(['io.cozy.first p', 'io.cozy.second q']);
      // a stale first write stops the rest
      await expect(store.putInOrder([{ doctype: 'io.cozy.first', doc: { _id: 'p', v: 3 } }, { doctype: 'io.cozy.second', doc: { _id: 'r', v: 3 } }])).rejects.toMatchObject({ status: 409 });
      await expect(store.get('io.cozy.second', 'r')).rejects.toMatchObject({ status: 404 });
      // one transaction: a stale last write undoes the first, and nothing of it is published
      seen.length = 0;
      await expect(store.putInOrder([{ doctype: 'io.cozy.first', doc: { _id: 's', v: 4 } }, { doctype: 'io.cozy.second', doc: { _id: 'q', _rev: `1-${'0'.repeat(32)}`, v: 4 } }])).rejects.toMatchObject({ status: 409 });
      await expect(store.get('io.cozy.first', 's')).rejects.toMatchObject({ status: 404 });
      await new Promise((r) => setTimeout(r, 20));
      expect(seen).toEqual([]);
      offs.forEach((off) => off());
    });

    it('writes one document twice in one batch: both revisions chain, the last one wins', async () => {
      const { store } = setup();
      const first = await store.putAll('io.cozy.twice', [{ _id: 't', v: 1 }]);
      const r1 = first[0]!.rev;
      const bulk = await store.bulkDocs('io.cozy.twice', [{ _id: 't', _rev: r1, v: 2 }, { _id: 't', _rev: r1, v: 3 }, { _id: 'u', v: 1 }], true);
      expect(bulk.map((r) => r.error ?? 'ok')).toEqual(['ok', 'conflict', 'ok']);
      const r2 = bulk[0]!.rev as string;
      const again = await store.putAll('io.cozy.twice', [{ _id: 't', _rev: r2, v: 4 }, { _id: 't', _rev: `3-${'0'.repeat(32)}`, v: 5 }]).catch((e: unknown) => e);
      expect(again).toMatchObject({ status: 409 });
      const doc = await store.get('io.cozy.twice', 't', { revs: true });
      expect(doc).toMatchObject({ v: 2, _rev: r2 });
      expect((doc._revisions as { ids: string[] }).ids).toHaveLength(2);
      const changes = await store.changes('io.cozy.twice', { since: '0' });
      expect(changes.results.map((c) => c.id)).toEqual(['t', 'u']);
    });
  });

  describe('snapshot', () => {
    it('reads every doctype as it was when it was opened, whatever is written meanwhile', async () => {
      const { store } = setup();
      const a = await store.put('io.cozy.snap-a', { _id: 'a', v: 1 });
      const b = await store.put('io.cozy.snap-b', { _id: 'b', v: 1 });
      const snap = await store.snapshot();
      try {
        await store.put('io.cozy.snap-a', { _id: 'a', _rev: a.rev, v: 2 });
        await store.put('io.cozy.snap-a', { _id: 'a2', v: 1 });
        await store.put('io.cozy.snap-b', { _id: 'b', _rev: b.rev, _deleted: true });
        await store.put('io.cozy.snap-c', { _id: 'c', v: 1 });
        expect(await snap.listDoctypes()).not.toContain('io.cozy.snap-c');
        expect(await snap.listDoctypes()).toEqual(expect.arrayContaining(['io.cozy.snap-a', 'io.cozy.snap-b']));
        const rows = (await snap.allDocs('io.cozy.snap-a', { include_docs: true })).rows;
        expect(rows.map((r) => [r.id, r.doc?.v])).toEqual([['a', 1]]);
        expect(await snap.get('io.cozy.snap-b', 'b')).toMatchObject({ _rev: b.rev, v: 1 });
        expect((await snap.allDocs('io.cozy.snap-c', {})).rows).toEqual([]);
      } finally {
        await snap.close();
      }
      expect((await store.get('io.cozy.snap-a', 'a')).v).toBe(2);
      await expect(store.get('io.cozy.snap-b', 'b')).rejects.toMatchObject({ status: 404 });
    });
  });
}
