import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessBus } from '../../common/bus.js';
import { SqliteDocStoreFactory } from './factory.js';

const MARGIN = 100;
const ID = 'ab'.repeat(16);
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the SQLite engine\'s stamps of the writes (write-stamp.ts)', () => {
  it('change with a committed write, not with a database opened for reading and closed, as a sweep\'s visit does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-stamp-'));
    dirs.push(dir);
    const factory = () => new SqliteDocStoreFactory(dir, new InProcessBus(), { attachmentMaxBytes: 1 << 20, groupCommitMs: 0, stampMarginMs: MARGIN });
    const stampOf = async (f: SqliteDocStoreFactory) => (await f.writeStamps(new Map([[ID, ['io.cozy.notes']]]))).get(ID)!;
    const a = factory();
    expect(await stampOf(a)).toBe('none');
    await a.open('stamp.test', ID).put('io.cozy.notes', { _id: 'one' });
    expect(await stampOf(a)).toMatch(/^fresh-/); // within the margin: never the same twice
    expect(await stampOf(a)).not.toBe(await stampOf(a));
    await a.close(); // checkpointed into the file
    await sleep(MARGIN + 20);
    const written = await stampOf(a);
    expect(written).toMatch(/^t/);
    // opened (an empty WAL made) for a read, then closed: the same stamp
    const b = factory();
    await b.open('stamp.test', ID).currentSeq('io.cozy.notes');
    await sleep(MARGIN + 20);
    expect(await stampOf(b)).toBe(written);
    await b.close();
    expect(await stampOf(b)).toBe(written);
    // a write, committed to the WAL of an open database: another stamp
    const c = factory();
    await c.open('stamp.test', ID).put('io.cozy.notes', { _id: 'two' });
    await sleep(MARGIN + 20);
    const again = await stampOf(c);
    expect(again).toMatch(/^t/);
    expect(again).not.toBe(written);
    await c.close();
  });
});
