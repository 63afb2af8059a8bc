import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { fixMallocThresholds, trimMalloc } from './malloc-trim.js';

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

describe("glibc's thresholds kept at their initial values", () => {
  it('gives back at once what a busy spell freed at the top of the heap, which glibc otherwise keeps once it raised them', () => {
    type Spell = { before: number; peak: number; after: number };
    const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'test/fixtures/malloc-thresholds-main.ts'], { encoding: 'utf8' })) as
      { kept: Spell; fixed: boolean; given: Spell };
    // before: a 16 MB block freed raised the trim threshold to 32 MB, and the 20 MB freed stay resident at the heap's top
    expect(out.kept.peak - out.kept.before).toBeGreaterThan(15);
    expect(out.kept.after - out.kept.before).toBeGreaterThan(15);
    expect(out.fixed).toBe(true);
    // after: the same spell leaves nothing behind
    expect(out.given.after).toBeLessThan(out.given.before + 3);
  });

  it("leaves the operator's own settings alone", () => {
    expect(fixMallocThresholds({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=65536' })).toBe(false);
    expect(fixMallocThresholds({ MALLOC_MMAP_THRESHOLD_: '65536' })).toBe(false);
  });
});
