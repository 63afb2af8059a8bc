/** WalSync on real files: waits for an fdatasync started after the call, shares it between callers. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { OffThreadCloser } from './closer.js';
import { checkpointOffThread, closeDurableWal, durableWal, walBacklog, WalSync } from './wal-sync.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-wal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('WalSync', () => {
  it('resolves at once when there is no WAL file yet, without a sync', async () => {
    const w = new WalSync(join(dir, 'none-wal'));
    await w.sync();
    expect(w.syncs).toBe(0);
    w.close();
  });

  it('fsyncs the database file once, before the first WAL sync it acknowledges (a new database switched to WAL without one)', async () => {
    const db = join(dir, 'fresh.sqlite');
    writeFileSync(db, 'header');
    writeFileSync(join(dir, 'fresh.sqlite-wal'), 'frames');
    const w = new WalSync(join(dir, 'fresh.sqlite-wal'), db);
    await Promise.all([w.sync(), w.sync()]);
    expect([w.dbSyncs, w.syncs]).toEqual([1, 1]);
    await w.sync();
    expect([w.dbSyncs, w.syncs]).toEqual([1, 2]);
    w.close();
    // opened again (the store pool closed it meanwhile): the file this process fsynced is not fsynced again
    const again = new WalSync(join(dir, 'fresh.sqlite-wal'), db);
    await again.sync();
    expect([again.dbSyncs, again.syncs]).toEqual([0, 1]);
    again.close();
    // a file made again at that path (on the inode just freed, most likely) is another one: fsynced
    rmSync(db);
    writeFileSync(db, 'another header');
    const remade = new WalSync(join(dir, 'fresh.sqlite-wal'), db);
    await remade.sync();
    expect([remade.dbSyncs, remade.syncs]).toEqual([1, 1]);
    remade.close();
  });

  it('coalesces callers that come while a sync runs into the next one, and each caller waits for a sync started after it', async () => {
    const file = join(dir, 'a-wal');
    writeFileSync(file, 'frames');
    const w = new WalSync(file);
    const order: string[] = [];
    const first = w.sync().then(() => order.push('first'));
    // these come while the first fdatasync runs: they share the second one
    const later = Array.from({ length: 20 }, (_, i) => w.sync().then(() => order.push(`later${i}`)));
    await Promise.all([first, ...later]);
    expect(order[0]).toBe('first');
    expect(order).toHaveLength(21);
    expect(w.syncs).toBe(2);
    await w.sync();
    expect(w.syncs).toBe(3);
    w.close();
  });

  it('after a failed fdatasync, refuses every later sync at once (503), since the disk may have dropped what it could not write', async () => {
    const file = join(dir, 'b-wal');
    writeFileSync(file, 'frames');
    const w = new WalSync(file);
    await w.sync();
    const priv = w as unknown as { fd: number | null };
    const fd = priv.fd;
    priv.fd = 1_000_000; // not an open descriptor: the fdatasync fails (EBADF)
    await expect(w.sync()).rejects.toMatchObject({ status: 503, reason: expect.stringMatching(/EBADF/) });
    priv.fd = fd;
    const syncs = w.syncs;
    await expect(w.sync()).rejects.toMatchObject({ status: 503, reason: expect.stringMatching(/EBADF.*restarted/) });
    expect(w.syncs).toBe(syncs);
    expect(w.failure).not.toBeNull();
    w.close();
  });

  it('rejects the waiters when the WAL cannot be opened for another reason', async () => {
    const w = new WalSync(join(dir, 'a-wal', 'not-a-dir'));
    await expect(w.sync()).rejects.toThrow(/ENOTDIR/);
    w.close();
  });
});

/** A WAL database with a table `t (v INTEGER [constraint])`, and the WriteQueue class to test on it. */
async function queueDb(name: string, constraint = '') {
  const Database = (await import('better-sqlite3')).default;
  const { WriteQueue } = await import('./db.js');
  const db = new Database(join(dir, `${name}.sqlite`));
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE t (v INTEGER ${constraint})`);
  return { db, WriteQueue };
}

describe('WriteQueue with a durability step', () => {
  it('runs no batch once it is refused: nothing more is committed, and each write gets the refusal', async () => {
    const { db, WriteQueue } = await queueDb('refused', '');
    let refusal: Error | null = null;
    const q = new WriteQueue(db, () => undefined, 0, () => undefined, 512, async () => undefined, () => refusal);
    await q.run(() => db.prepare('INSERT INTO t VALUES (1)').run());
    refusal = new Error('no more writes');
    await expect(Promise.all([2, 3].map((v) => q.run(() => db.prepare('INSERT INTO t VALUES (?)').run(v))))).rejects.toThrow('no more writes');
    expect(db.prepare('SELECT v FROM t').pluck().all()).toEqual([1]);
    db.close();
  });

  it('acknowledges and publishes a batch only once its sync resolved, and rejects the batch (publishing nothing) when the sync fails', async () => {
    const { db, WriteQueue } = await queueDb('q', '');
    const published: string[] = [];
    let release: () => void = () => undefined;
    let fail = false;
    const durable = () => (fail ? Promise.reject(new Error('EIO: fsync failed')) : new Promise<void>((r) => (release = r)));
    const q = new WriteQueue(db, (events) => published.push(...events.map((e) => e.id)), 0, () => undefined, 512, durable);
    let acked = false;
    const first = q.run((events) => {
      db.prepare('INSERT INTO t VALUES (1)').run();
      events.push({ domain: 'd', doctype: 'x', id: 'one', verb: 'CREATED', doc: {} });
    }).then(() => (acked = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(acked).toBe(false); // committed, but its sync has not returned
    expect(published).toEqual([]);
    release();
    await first;
    expect(published).toEqual(['one']);

    fail = true;
    await expect(q.run((events) => {
      db.prepare('INSERT INTO t VALUES (2)').run();
      events.push({ domain: 'd', doctype: 'x', id: 'two', verb: 'CREATED', doc: {} });
    })).rejects.toThrow('EIO');
    expect(published).toEqual(['one']);
    db.close();
  });

  it('calls a write\'s onCommit once its COMMIT returned, before the sync, and never for a write that failed', async () => {
    const { db, WriteQueue } = await queueDb('oncommit', 'UNIQUE');
    let release: () => void = () => undefined;
    const q = new WriteQueue(db, () => undefined, 0, () => undefined, 512, () => new Promise<void>((r) => (release = r)));
    const seen: string[] = [];
    let acked = false;
    const ok = q.run(() => db.prepare('INSERT INTO t VALUES (1)').run(), () => {
      // committed: another reader of the database sees the row, the write is not yet acknowledged
      seen.push(`committed, acked=${acked}, rows=${String(db.prepare('SELECT count(*) FROM t').pluck().get())}, inTransaction=${db.inTransaction}`);
    }).then(() => (acked = true));
    const bad = q.run(() => db.prepare('INSERT INTO t VALUES (1)').run(), () => seen.push('the failed write was called')).catch((e: Error) => e.message);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual(['committed, acked=false, rows=1, inTransaction=false']);
    release();
    await ok;
    expect(await bad).toMatch(/UNIQUE/);
    expect(seen).toHaveLength(1);
    db.close();
  });

  it('commits a write that has an onCommit within the same turn of the event loop, and a plain one after the pending I/O callbacks', async () => {
    const { db, WriteQueue } = await queueDb('urgent', '');
    const q = new WriteQueue(db, () => undefined, 0, () => undefined, 512, async () => undefined);
    const order: string[] = [];
    setImmediate(() => order.push('immediate'));
    const plain = q.run(() => order.push('plain write'));
    const urgent = q.run(() => order.push('write with onCommit'), () => order.push('committed'));
    await Promise.all([plain, urgent]);
    // the plain write was queued first, so it joins the same transaction: both before the setImmediate
    expect(order).toEqual(['plain write', 'write with onCommit', 'committed']);
    await new Promise((r) => setImmediate(r));
    setImmediate(() => order.push('immediate 2'));
    await q.run(() => order.push('plain write alone'));
    expect(order.slice(3)).toEqual(['immediate', 'immediate 2', 'plain write alone']);
    db.close();
  });
});

describe('checkpointOffThread', () => {
  const openWal = async (name: string) => {
    const Database = (await import('better-sqlite3')).default;
    const file = join(dir, `${name}.sqlite`);
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (x BLOB)');
    return { db, file };
  };

  it('keeps the checkpoints out of the event loop\'s commits, and runs them on the other thread after a sync', async () => {
    const { db, file } = await openWal('off-thread');
    const thread = new OffThreadCloser();
    checkpointOffThread(db, thread, 0);
    const before = statSync(file).size;
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    // one commit each of about one 4 KiB page: past the 1,000 WAL pages at which SQLite checkpoints inside a COMMIT
    for (let i = 0; i < 1500; i++) insert.run(randomBytes(3000));
    expect(statSync(file).size).toBe(before); // no commit copied the WAL into the database file
    await durableWal(db).sync();
    await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(1500 * 3000), { timeout: 15_000, interval: 50 });
    await closeDurableWal(db);
    await thread.shutdown();
  });

  it('starts no checkpoint (nor its thread) for a WAL of a few frames, and one once the WAL holds enough of them', async () => {
    const { db, file } = await openWal('few-frames');
    const checkpointed: string[] = [];
    checkpointOffThread(db, { checkpoint: async (f) => void checkpointed.push(f) }, 0, 100);
    const insert = db.prepare('INSERT INTO t VALUES (?)');
    for (let i = 0; i < 5; i++) {
      insert.run(randomBytes(10)); // a start's or an idle server's writes
      await durableWal(db).sync();
    }
    expect(walBacklog(file)).toBeGreaterThanOrEqual(5);
    expect(checkpointed).toEqual([]);
    for (let i = 0; i < 120; i++) insert.run(randomBytes(3000)); // about a page each
    expect(walBacklog(file)).toBeGreaterThanOrEqual(100);
    await durableWal(db).sync();
    expect(checkpointed).toEqual([file]);
    await closeDurableWal(db);
  });

  it('reads the frames a checkpoint has yet to copy from the WAL index, as SQLite counts them', async () => {
    const { db, file } = await openWal('backlog');
    db.pragma('wal_autocheckpoint = 0');
    for (let i = 0; i < 40; i++) db.prepare('INSERT INTO t VALUES (?)').run(randomBytes(3000));
    const backlog = walBacklog(file);
    const { log, checkpointed } = (db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>)[0]!;
    expect(backlog).toBe(log);
    expect(walBacklog(file)).toBe(log - checkpointed);
    expect(walBacklog(join(dir, 'no-such.sqlite'))).toBeNull();
    db.close();
  });

  it('gives the checkpoints back to SQLite when the thread fails, so that the WAL stays bounded', async () => {
    const { db } = await openWal('thread-fails');
    let calls = 0;
    checkpointOffThread(db, { checkpoint: async () => { calls++; throw new Error('no thread'); } }, 0, 0);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    db.prepare('INSERT INTO t VALUES (?)').run(randomBytes(10));
    await durableWal(db).sync();
    await vi.waitFor(() => expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000));
    db.prepare('INSERT INTO t VALUES (?)').run(randomBytes(10));
    await durableWal(db).sync();
    expect(calls).toBe(1);
    await closeDurableWal(db);
  });
});
