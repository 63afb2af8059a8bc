/**
 * The conformance suite of a folder-copy journal store (src/files/copy-journal.ts CopyJournalStore), through the
 * CopyJournal that leases its entries: SQLite runs it (copy-journal.test.ts), PostgreSQL runs it unchanged
 * (copy-journal-pg.test.ts). `storage()` makes a new empty place for entries (a file, a database); `open(storage)` a
 * store on it — two stores on one storage are two processes. The clock is the test's: leases end when it says so.
 */
import { describe, expect, it } from 'vitest';
import { CopyJournal, type CopyJournalStore, type CopyMark } from '../../src/files/copy-journal.js';

export interface CopyJournalUnderTest {
  storage(): Promise<string>;
  open(storage: string): CopyJournalStore;
}

const LEASE = 30_000;
const markOf = (n: number): CopyMark => ({ instanceId: 'i1', domain: 'alice.example', parentId: 'p1', workingName: `f${n} (incomplete copy)` });

export function describeCopyJournal(name: string, engine: CopyJournalUnderTest): void {
  describe(`folder-copy journal conformance: ${name}`, () => {
    const clock = { t: 1_000_000 };
    const now = () => clock.t;
    const processes = async (n: number): Promise<CopyJournal[]> => {
      const storage = await engine.storage();
      return Array.from({ length: n }, (_, i) => new CopyJournal(engine.open(storage), { now, leaseMs: LEASE, owner: `process-${i}` }));
    };

    it('keeps an entry of a live owner (its lease renewed) from the others, and gives it, folder id included, once the lease ended', async () => {
      const [a, b] = (await processes(2)) as [CopyJournal, CopyJournal];
      const entry = await a.begin(markOf(1));
      await entry.made('top-1');
      clock.t += LEASE / 2;
      expect(await b.claimExpired()).toEqual([]);
      await a.renew();
      clock.t += LEASE * 0.9; // past the first lease, within the renewed one
      expect(await b.claimExpired()).toEqual([]);
      clock.t += LEASE; // a stopped renewing (it died)
      const taken = await b.claimExpired();
      expect(taken.map((r) => r.mark)).toEqual([{ ...markOf(1), topId: 'top-1' }]);
      expect(await b.claimExpired()).toEqual([]); // b holds it now
      await b.forget(taken[0]!.id);
      clock.t += 10 * LEASE;
      expect(await b.claimExpired()).toEqual([]);
      expect(await a.claimExpired()).toEqual([]);
      await Promise.all([a.close(), b.close()]);
    });

    it('forgets an entry once its copy ended, and tells an owner whose lease was taken over', async () => {
      const [a, b] = (await processes(2)) as [CopyJournal, CopyJournal];
      const ended = await a.begin(markOf(2));
      await ended.end();
      const late = await a.begin(markOf(3));
      clock.t += LEASE + 1; // a did not renew in time (a long pause, the database away)
      const taken = await b.claimExpired();
      expect(taken.map((r) => r.mark.workingName)).toEqual([markOf(3).workingName]);
      expect(late.lost.aborted).toBe(false);
      await a.renew(); // finds the entry no longer its own
      expect(late.lost.aborted).toBe(true);
      clock.t += LEASE / 2;
      await b.renew(); // the undoing one keeps it
      clock.t += LEASE * 0.9;
      expect(await a.claimExpired()).toEqual([]);
      await Promise.all([a.close(), b.close()]);
    });

    it('gives each ended entry to exactly one of several processes claiming at once, and again once its claimer stopped', async () => {
      const [dead, ...live] = await processes(4);
      for (let i = 0; i < 30; i++) await dead!.begin(markOf(100 + i));
      clock.t += LEASE + 1;
      const claims = await Promise.all(live.map(async (j) => {
        const mine: string[] = [];
        for (let batch = await j.claimExpired(7); batch.length > 0; batch = await j.claimExpired(7)) {
          mine.push(...batch.map((r) => r.mark.workingName));
          for (const r of batch) await j.forget(r.id); // undone
        }
        return mine;
      }));
      const all = claims.flat();
      expect(all).toHaveLength(30);
      expect(new Set(all).size).toBe(30);
      // a claimer that stops (dies while undoing) leaves its entries to the others once its lease ended
      const [first, second] = live as [CopyJournal, CopyJournal];
      const held = await dead!.begin(markOf(200));
      clock.t += LEASE + 1;
      const once = await first.claimExpired();
      expect(once.map((r) => r.mark.workingName)).toEqual([markOf(200).workingName]);
      first.release(once[0]!.id);
      expect(await second.claimExpired()).toEqual([]);
      clock.t += LEASE + 1;
      const again = await second.claimExpired();
      expect(again.map((r) => r.id)).toEqual(once.map((r) => r.id));
      await second.forget(again[0]!.id);
      await held.end();
      clock.t += 10 * LEASE;
      for (const j of [dead!, ...live]) expect(await j.claimExpired()).toEqual([]);
      await Promise.all([dead!, ...live].map((j) => j.close()));
    });
  });
}
