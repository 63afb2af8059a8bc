/** Test helpers: a real SQLite document table following the store's contract. */
import Database from 'better-sqlite3';
import { registerSqlFunctions } from './sql.js';

export type TestDb = Database.Database;

export function openTestDb(table = 'd1_docs'): TestDb {
  const db = new Database(':memory:');
  registerSqlFunctions(db);
  db.exec(`CREATE TABLE ${table} (id TEXT PRIMARY KEY, rev TEXT NOT NULL, deleted INTEGER NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL, tree TEXT NOT NULL)`);
  return db;
}

let seq = 0;
export function insertDocs(db: TestDb, docs: Array<Record<string, unknown>>, table = 'd1_docs', opts: { deleted?: boolean } = {}): void {
  const st = db.prepare(`INSERT INTO ${table} (id, rev, deleted, seq, body, tree) VALUES (?, ?, ?, ?, ?, ?)`);
  db.transaction(() => {
    for (const d of docs) {
      const { _id, _rev, ...body } = d;
      const rev = typeof _rev === 'string' ? _rev : '1-abc';
      const [pos, hash] = rev.split('-');
      const tree = [{ pos: Number(pos), ids: [hash, { status: 'available' }, []] }];
      st.run(String(_id), rev, opts.deleted ? 1 : 0, ++seq, JSON.stringify(body), JSON.stringify(tree));
    }
  })();
}
