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
