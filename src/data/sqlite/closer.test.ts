import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { OffThreadCloser } from './closer.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-closer-'));
const closer = new OffThreadCloser();
afterAll(async () => {
  await closer.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

function walDb(name: string): { db: Database.Database; file: string } {
  const file = join(dir, name);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1), (2), (3)');
  return { db, file };
}

describe('closing a WAL database off the event loop', () => {
  it('the event loop only releases its handles; the checkpoint (WAL into the file, then removed) happens on the worker', async () => {
    const { db, file } = walDb('a.sqlite');
    expect(existsSync(`${file}-wal`)).toBe(true);
    const close = db.close.bind(db);
    let walAfterOwnClose: boolean | null = null;
    db.close = () => {
      const r = close();
      walAfterOwnClose = existsSync(`${file}-wal`); // a last connection would have checkpointed and removed it here
      return r;
    };
    await closer.close(db, file);
    expect(db.open).toBe(false);
    expect(walAfterOwnClose).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
    const again = new Database(file, { readonly: true });
    expect(again.prepare('SELECT count(*) FROM t').pluck().get()).toBe(3);
    again.close();
  });

  it('closes on the event loop when the worker cannot open the file', async () => {
    const { db, file } = walDb('b.sqlite');
    rmSync(file); // gone from under it (the worker's open needs the file to exist)
    await closer.close(db, file);
    expect(db.open).toBe(false);
  });
});

describe('stopping the thread', () => {
  it('finishes what it was asked before it stops (a terminated thread that meets a SQLite error aborts the whole process)', async () => {
    const own = new OffThreadCloser();
    const { db, file } = walDb('stop.sqlite');
    db.exec('INSERT INTO t VALUES (4)');
    const checkpointed = own.checkpoint(file);
    await own.shutdown();
    await expect(checkpointed).resolves.toBeUndefined();
    db.close();
  });
});

describe('an idle thread', () => {
  it('stops once it had nothing to do for idleMs (its isolate is ~15 MB of RSS), and the next call starts another', async () => {
    const own = new OffThreadCloser({ idleMs: 150 });
    const first = walDb('idle-1.sqlite');
    await own.close(first.db, first.file);
    expect(own.running).toBe(true);
    for (let t = 0; t < 100 && own.running; t++) await sleep(50);
    expect(own.running).toBe(false);
    // at once, while the stopped thread may still be ending: its end does not fail the new thread's calls
    const second = walDb('idle-2.sqlite');
    await own.close(second.db, second.file);
    expect(existsSync(`${second.file}-wal`)).toBe(false); // checkpointed and removed by the new thread
    expect(own.running).toBe(true);
    await own.shutdown();
    expect(own.running).toBe(false);
  });

  it('does not stop while a call is under way', async () => {
    const own = new OffThreadCloser({ idleMs: 50 });
    const dbs = Array.from({ length: 20 }, (_, i) => walDb(`busy-${i}.sqlite`));
    await Promise.all(dbs.map(({ db, file }) => own.close(db, file)));
    for (const { file } of dbs) expect(existsSync(`${file}-wal`)).toBe(false);
    await own.shutdown();
  });
});
