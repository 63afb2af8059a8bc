/**
 * The journal of folder copies in the embedded mode (copy-journal.ts): one SQLite file of the data directory,
 * `copies.sqlite`, WAL with synchronous = FULL (an entry written is there after a crash of the machine too). A claim is
 * one UPDATE … RETURNING: SQLite runs one writer at a time, so an entry goes to one claimer only.
 *
 * `alone`: the data directory is this process's alone (the embedded mode), so an entry found at open was left by a
 * process that stopped: its lease is ended at once, and the first sweep undoes it without waiting for it to run out.
 * The entries of the journal this replaces (one JSON file per copy in `copies/`) are taken over the same way.
 */
import Database from 'better-sqlite3';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CopyJournalStore, CopyMark, CopyRecord } from './copy-journal.js';

interface Row { id: string; mark: string }

export class SqliteCopyJournalStore implements CopyJournalStore {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(file: string, opts: { alone?: boolean; legacyDir?: string } = {}) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS copies (id TEXT PRIMARY KEY, mark TEXT NOT NULL, owner TEXT NOT NULL, lease_until INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS copies_lease ON copies (lease_until);`);
    this.stmts = {
      insert: this.db.prepare<[string, string, string, number]>('INSERT INTO copies (id, mark, owner, lease_until) VALUES (?, ?, ?, ?)'),
      made: this.db.prepare<[string, string]>("UPDATE copies SET mark = json_set(mark, '$.topId', ?) WHERE id = ?"),
      remove: this.db.prepare<[string]>('DELETE FROM copies WHERE id = ?'),
      renew: this.db.prepare<[number, string, string], { id: string }>('UPDATE copies SET lease_until = ? WHERE id IN (SELECT value FROM json_each(?)) AND owner = ? RETURNING id'),
      claim: this.db.prepare<[string, number, number, number], Row>(`UPDATE copies SET owner = ?, lease_until = ?
        WHERE id IN (SELECT id FROM copies WHERE lease_until < ? ORDER BY lease_until LIMIT ?) RETURNING id, mark`),
    };
    if (opts.legacyDir) this.takeLegacy(opts.legacyDir);
    if (opts.alone) this.db.prepare('UPDATE copies SET lease_until = 0').run();
  }

  async insert(id: string, mark: CopyMark, owner: string, leaseUntil: number): Promise<void> {
    this.stmts.insert.run(id, JSON.stringify(mark), owner, leaseUntil);
  }

  async made(id: string, topId: string): Promise<void> {
    this.stmts.made.run(topId, id);
  }

  async remove(id: string): Promise<void> {
    this.stmts.remove.run(id);
  }

  async renew(ids: string[], owner: string, leaseUntil: number): Promise<string[]> {
    return this.stmts.renew.all(leaseUntil, JSON.stringify(ids), owner).map((r) => r.id);
  }

  async claimExpired(owner: string, now: number, leaseUntil: number, limit: number): Promise<CopyRecord[]> {
    return this.stmts.claim.all(owner, leaseUntil, now, limit).map((r) => ({ id: r.id, mark: JSON.parse(r.mark) as CopyMark }));
  }

  async close(): Promise<void> {
    this.db.close();
  }

  /** The entries of the former journal (`copies/<uuid>.json`), as ended leases; the folder goes once they are in. */
  private takeLegacy(dir: string): void {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      try {
        this.stmts.insert.run(name.slice(0, -'.json'.length), JSON.stringify(JSON.parse(readFileSync(join(dir, name), 'utf8')) as CopyMark), 'legacy', 0);
      } catch {
        // a half-written entry (never renamed into place) or one already taken: nothing to undo from it
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
