/** DocStore.putAll (several documents in one transaction, all or nothing) and count, on the SQLite engine. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus } from '../../common/bus.js';
import { putAllSuite } from '../../../test/helpers/doc-store-suite.js';
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

putAllSuite(() => ({ store, bus }));

describe('putInOrder on SQLite', () => {
  it('is one transaction with one fsync: a stale last write undoes the first', async () => {
    const wal = (store as unknown as { wal: { syncs: number } }).wal;
    const a = await store.put('io.cozy.perm', { _id: 'x', v: 1 });
    const syncs = wal.syncs;
    await store.putInOrder([{ doctype: 'io.cozy.perm', doc: { _id: 'x', _rev: a.rev, v: 2 } }, { doctype: 'io.cozy.app', doc: { _id: 'y', v: 2 } }]);
    expect(wal.syncs - syncs).toBe(1);
    await expect(store.putInOrder([{ doctype: 'io.cozy.perm', doc: { _id: 'z', v: 3 } }, { doctype: 'io.cozy.app', doc: { _id: 'y', _rev: `1-${'0'.repeat(32)}`, v: 3 } }])).rejects.toMatchObject({ status: 409 });
    await expect(store.get('io.cozy.perm', 'z')).rejects.toMatchObject({ status: 404 });
    expect((await store.get('io.cozy.perm', 'x')).v).toBe(2);
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

describe('closing a SQLite store', () => {
  it('waits for the writes under way and their fsync, and makes no fsync of its own when nothing is queued (the store pool closes databases so)', async () => {
    const other = new SqliteDocStore('close.example', join(dir, 'close.sqlite'), bus, { attachmentMaxBytes: 1e6, groupCommitMs: 0 });
    const wal = (other as unknown as { wal: { syncs: number } }).wal;
    await other.put('io.cozy.notes', { _id: 'n', v: 1 });
    const written = other.put('io.cozy.notes', { _id: 'm', v: 1 }); // queued, not yet committed, when close is called
    const syncs = wal.syncs;
    await other.close();
    expect(wal.syncs - syncs).toBe(1); // the queued write's, none more
    await expect(written).resolves.toMatchObject({ id: 'm' });
    const idle = new SqliteDocStore('close.example', join(dir, 'close.sqlite'), bus, { attachmentMaxBytes: 1e6, groupCommitMs: 0 });
    const idleWal = (idle as unknown as { wal: { syncs: number } }).wal;
    expect((await idle.get('io.cozy.notes', 'm')).v).toBe(1);
    await idle.close();
    expect(idleWal.syncs).toBe(0);
  });
});
