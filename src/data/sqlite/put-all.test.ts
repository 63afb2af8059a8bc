/** DocStore.putAll (several documents in one transaction, all or nothing) and count, on the SQLite engine. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus, type DocEvent } from '../../common/bus.js';
import { SqliteDocStore } from './store.js';

let dir: string;
let store: SqliteDocStore;
const bus = new InProcessBus();
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hearth-putall-'));
  store = new SqliteDocStore('putall.example', join(dir, 'docs.sqlite'), bus, { attachmentMaxBytes: 1e6, groupCommitMs: 0 });
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('putAll', () => {
  it('writes every document, or none when one of them is stale, and publishes events for what was written only', async () => {
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
});

describe('count', () => {
  it('counts the live documents a selector matches, through an index or not', async () => {
    await store.bulkDocs('io.cozy.counted', Array.from({ length: 30 }, (_, i) => ({ _id: `c${i}`, dir: i % 3 === 0 ? 'a' : 'b', n: i })), true);
    expect(await store.count('io.cozy.counted', { dir: 'a' })).toBe(10);
    await store.createIndex('io.cozy.counted', { fields: [{ field: 'dir', dir: 'asc' }] });
    expect(await store.count('io.cozy.counted', { dir: 'a' })).toBe(10);
    expect(await store.count('io.cozy.counted', { dir: 'b', n: { $gte: 20 } })).toBe(7);
    const c0 = await store.get('io.cozy.counted', 'c0');
    await store.put('io.cozy.counted', { _id: 'c0', _rev: c0._rev as string, _deleted: true });
    expect(await store.count('io.cozy.counted', { dir: 'a' })).toBe(9);
    expect(await store.count('io.cozy.never', { dir: 'a' })).toBe(0);
  });
});
