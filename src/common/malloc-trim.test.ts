import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { trimMalloc } from './malloc-trim.js';

describe('giving the C heap back to the system', () => {
  it('returns the pages freed between blocks still in use (what closed databases leave), which free() keeps', () => {
    // SQLite's pages come from malloc: every other database closed leaves its pages between live ones
    const dbs = Array.from({ length: 160 }, () => {
      const db = new Database(':memory:');
      db.exec('CREATE TABLE t (x BLOB)');
      const insert = db.prepare('INSERT INTO t VALUES (?)');
      for (let i = 0; i < 60; i++) insert.run(Buffer.alloc(2000, i));
      return db;
    });
    dbs.forEach((db, i) => i % 2 && db.close());
    const before = process.memoryUsage.rss();
    expect(trimMalloc()).toBe(true);
    const released = (before - process.memoryUsage.rss()) / 1048576;
    for (const db of dbs) if (db.open) db.close();
    expect(released).toBeGreaterThan(4); // 80 databases of ~120 KB of pages each, about 10 MB
  });
});
