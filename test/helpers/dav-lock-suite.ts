/**
 * The conformance suite of a WebDAV lock engine (src/files/dav/locks.ts DavLockEngine): SQLite runs it (locks.test.ts),
 * PostgreSQL runs it unchanged (locks-pg.test.ts). `storage()` makes a new empty place for locks (a file, a database);
 * `open(storage, now)` an engine on it with the clock `now` — a second `open` of one storage is a reopen, or a second process.
 */
import { describe, expect, it } from 'vitest';
import type { DavLockEngine, NewLock } from '../../src/files/dav/locks.js';

export interface LockEngineUnderTest {
  storage(): Promise<string>;
  open(storage: string, now: () => number): DavLockEngine & { close(): void };
}

export const lockOf = (root: string, over: Partial<NewLock> = {}): NewLock => ({ root, depth: 'infinity', scope: 'exclusive', owner: '', timeout: 60, principal: 'cli:alice', ...over });

export function describeLockEngine(name: string, engine: LockEngineUnderTest): void {
  describe(`WebDAV lock engine conformance: ${name}`, () => {
    let clock = 1_000_000;
    const now = () => clock;

    it('finds the locks covering a path and below it, without prefix confusion', async () => {
      const e = engine.open(await engine.storage(), now);
      const deep = await e.acquire('ns', lockOf('/a/b'));
      const flat = await e.acquire('ns', lockOf('/a-b', { depth: '0' }));
      const uni = await e.acquire('ns', lockOf('/été/ü ñ', { depth: '0' }));
      if (!('lock' in deep) || !('lock' in flat) || !('lock' in uni)) throw new Error('not taken');
      expect((await e.covering('ns', '/a/b/c/d')).map((l) => l.root)).toEqual(['/a/b']);
      expect(await e.covering('ns', '/a/bc')).toEqual([]);
      expect(await e.covering('ns', '/a-b/x')).toEqual([]); // depth 0
      expect((await e.covering('ns', '/été/ü ñ')).map((l) => l.principal)).toEqual(['cli:alice']);
      expect((await e.below('ns', '/a')).map((l) => l.root)).toEqual(['/a/b']);
      expect((await e.below('ns', '/')).map((l) => l.root).sort()).toEqual(['/a-b', '/a/b', '/été/ü ñ']);
      expect(await e.below('ns', '/a/b')).toEqual([]);
      expect(await e.covering('other-ns', '/a/b')).toEqual([]);
      await e.dropTree('ns', '/a');
      expect(await e.covering('ns', '/a/b')).toEqual([]);
      expect(await e.covering('ns', '/a-b')).toHaveLength(1);
      await e.dropNamespace('ns');
      expect(await e.below('ns', '/')).toEqual([]);
      e.close();
    });

    it('refuses conflicting locks (exclusive against anything overlapping), allows shared ones together', async () => {
      const e = engine.open(await engine.storage(), now);
      expect('lock' in (await e.acquire('ns', lockOf('/d')))).toBe(true);
      expect('conflict' in (await e.acquire('ns', lockOf('/d/x', { scope: 'shared', principal: 'cli:bob' })))).toBe(true);
      expect('conflict' in (await e.acquire('ns', lockOf('/', { scope: 'shared' })))).toBe(true);
      expect('lock' in (await e.acquire('ns', lockOf('/', { depth: '0' })))).toBe(true); // a depth-0 lock on the root holds nothing below
      expect('lock' in (await e.acquire('ns', lockOf('/s', { scope: 'shared' })))).toBe(true);
      expect('lock' in (await e.acquire('ns', lockOf('/s', { scope: 'shared', principal: 'cli:bob' })))).toBe(true);
      expect('conflict' in (await e.acquire('ns', lockOf('/s/y')))).toBe(true);
      e.close();
    });

    it('expires, refreshes and releases; locks and their expiry survive a reopen', async () => {
      const storage = await engine.storage();
      const e = engine.open(storage, now);
      const got = await e.acquire('ns', lockOf('/p', { timeout: 30, owner: '<D:href>me</D:href>' }));
      if (!('lock' in got)) throw new Error('not taken');
      const short = await e.acquire('ns', lockOf('/q', { timeout: 5 }));
      if (!('lock' in short)) throw new Error('not taken');
      e.close();
      clock += 10_000;
      const again = engine.open(storage, now);
      expect(await again.covering('ns', '/p')).toEqual([{ ...got.lock, expiresAt: 1_000_000 + 30_000 }]);
      expect(await again.covering('ns', '/q')).toEqual([]); // expired while closed
      expect(await again.refresh('ns', short.lock.token, 60)).toBeNull();
      const renewed = await again.refresh('ns', got.lock.token, 100);
      expect(renewed).toMatchObject({ token: got.lock.token, timeout: 100, expiresAt: clock + 100_000, principal: 'cli:alice' });
      clock += 99_000;
      expect(await again.covering('ns', '/p')).toHaveLength(1);
      clock += 2_000;
      expect(await again.covering('ns', '/p')).toEqual([]);
      expect(await again.release('ns', got.lock.token)).toBe(false);
      const next = await again.acquire('ns', lockOf('/p'));
      if (!('lock' in next)) throw new Error('an expired lock still conflicts');
      expect(await again.release('ns', next.lock.token)).toBe(true);
      expect(await again.release('ns', next.lock.token)).toBe(false);
      again.close();
    });
  });
}
