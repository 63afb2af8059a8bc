/**
 * What the shared data suites (the postgres-docs project) cannot show of the PostgreSQL document engine: a schema per
 * instance, two processes' writes racing on one document, COMMIT before the acknowledgement under kill -9, and a
 * server stopped then started under the same factory.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessBus, type DocEvent } from '../../common/bus.js';
import { Conflict } from '../../common/errors.js';
import { createPgPool, type PgPool } from '../../engines/postgres.js';
import { unavailableDependency } from '../../engines/unavailable.js';
import { startPostgres, type PgServer } from '../../../test/helpers/servers/postgres.js';
import { putAllSuite } from '../../../test/helpers/doc-store-suite.js';
import { PgDocStoreFactory } from './factory.js';

const idOf = (n: number) => n.toString(16).padStart(32, '0');
const options = { attachmentMaxBytes: 1 << 20 };

let server: PgServer;
const pools: PgPool[] = [];
const newPool = (name: string) => {
  const pool = createPgPool({ url: server.url, max: 4, name });
  pools.push(pool);
  return pool;
};

beforeAll(async () => {
  server = await startPostgres({ database: 'docs' });
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await server?.stop();
});

/** A pool whose clients note the first word of each query they send (one query, one round trip: node-postgres does not pipeline). */
function countingPool(): { pool: pg.Pool; sent: string[] } {
  const sent: string[] = [];
  class CountingClient extends pg.Client {
    override query(...args: unknown[]): never {
      const q = args[0] as string | { text: string };
      sent.push((typeof q === 'string' ? q : q.text).trim().split(/\s+/)[0]!.toUpperCase());
      return (super.query as (...a: unknown[]) => never)(...args);
    }
  }
  const pool = new pg.Pool({ connectionString: server.url, max: 4, Client: CountingClient });
  pool.on('error', () => undefined);
  pools.push(pool);
  return { pool, sent };
}

describe('the PostgreSQL document engine', () => {
  const bus = new InProcessBus();
  let suiteStore: ReturnType<PgDocStoreFactory['open']> | null = null;
  putAllSuite(() => {
    suiteStore ??= new PgDocStoreFactory(newPool('suite'), bus, options).open('putall.example', idOf(6));
    return { store: suiteStore, bus };
  });

  it('keeps each instance in a schema of its own, and destroy drops it', async () => {
    const pool = newPool('schemas');
    const factory = new PgDocStoreFactory(pool, new InProcessBus(), options);
    const a = factory.open('a.test', idOf(1));
    const b = factory.open('b.test', idOf(2));
    await a.put('io.cozy.notes', { _id: 'a1', owner: 'a' });
    await b.put('io.cozy.notes', { _id: 'b1', owner: 'b' });
    await b.put('io.cozy.files', { _id: 'b2', owner: 'b' });
    const tables = await pool.query<{ schema: string; table: string }>(
      `SELECT table_schema AS schema, table_name AS table FROM information_schema.tables WHERE table_name LIKE 'd%\\_docs' AND table_schema = ANY($1) ORDER BY 1, 2`,
      [[`i_${idOf(1)}`, `i_${idOf(2)}`]],
    );
    expect(tables.rows).toEqual([
      { schema: `i_${idOf(1)}`, table: 'd1_docs' },
      { schema: `i_${idOf(2)}`, table: 'd1_docs' },
      { schema: `i_${idOf(2)}`, table: 'd2_docs' },
    ]);
    for (const { schema, table } of tables.rows) {
      const owners = await pool.query<{ owner: string }>(`SELECT DISTINCT body->>'owner' AS owner FROM "${schema}"."${table}"`);
      expect(owners.rows).toEqual([{ owner: schema.endsWith(idOf(1)) ? 'a' : 'b' }]);
    }
    await expect(a.get('io.cozy.notes', 'b1')).rejects.toMatchObject({ status: 404 });
    await factory.destroy(idOf(2));
    const left = await pool.query<{ name: string }>(`SELECT nspname AS name FROM pg_namespace WHERE nspname = ANY($1) ORDER BY 1`, [[`i_${idOf(1)}`, `i_${idOf(2)}`]]);
    expect(left.rows).toEqual([{ name: `i_${idOf(1)}` }]);
    await expect(factory.open('b.test', idOf(2)).get('io.cozy.notes', 'b1')).rejects.toMatchObject({ status: 404 });
    expect((await a.get('io.cozy.notes', 'a1')).owner).toBe('a');
  });

  it('lets exactly one of two processes win each update of one document; the other gets 409', async () => {
    const events: DocEvent[] = [];
    const bus = new InProcessBus();
    bus.subscribe('race.test', null, (e) => events.push(e));
    // two factories on two pools: two processes as far as PostgreSQL can tell (two sets of connections)
    const one = new PgDocStoreFactory(newPool('race-1'), bus, options).open('race.test', idOf(3));
    const two = new PgDocStoreFactory(newPool('race-2'), bus, options).open('race.test', idOf(3));
    let { rev } = await one.put('io.cozy.race', { _id: 'doc', n: 0 });
    for (let round = 1; round <= 40; round++) {
      const outcomes = await Promise.allSettled([
        one.put('io.cozy.race', { _id: 'doc', _rev: rev, n: round, by: 'one' }),
        two.put('io.cozy.race', { _id: 'doc', _rev: rev, n: round, by: 'two' }),
      ]);
      const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const lost = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toBeInstanceOf(Conflict);
      expect(lost[0]).toMatchObject({ status: 409, error: 'conflict' });
      rev = (won[0] as { rev: string }).rev;
      expect(await two.get('io.cozy.race', 'doc')).toMatchObject({ _rev: rev, n: round });
    }
    expect(rev.startsWith('41-')).toBe(true);
    // creations race too (no row to lock yet): one wins, the other finds it and gets 409; a replicated one merges
    for (let round = 0; round < 20; round++) {
      const outcomes = await Promise.allSettled([one.put('io.cozy.created', { _id: `c${round}`, by: 'one' }), two.put('io.cozy.created', { _id: `c${round}`, by: 'two' })]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []))[0]).toBeInstanceOf(Conflict);
      const [a, b] = await Promise.all([
        one.bulkDocs('io.cozy.replicated', [{ _id: `r${round}`, _rev: `1-${'a'.repeat(32)}`, by: 'one' }], false),
        two.bulkDocs('io.cozy.replicated', [{ _id: `r${round}`, _rev: `1-${'b'.repeat(32)}`, by: 'two' }], false),
      ]);
      expect([a, b]).toEqual([[], []]);
      expect(await one.get('io.cozy.replicated', `r${round}`, { conflicts: true })).toMatchObject({ _rev: `1-${'b'.repeat(32)}`, _conflicts: [`1-${'a'.repeat(32)}`] });
    }
    // each acknowledged write was published once, in order, with the previous winner as `old`
    expect(events.filter((e) => e.doctype === 'io.cozy.race').map((e) => e.doc.n)).toEqual(Array.from({ length: 41 }, (_, i) => i));
    expect(events[5]?.old).toMatchObject({ n: 4 });
    const changes = await one.changes('io.cozy.race', { since: '0' });
    expect(changes.results).toHaveLength(1);
    expect(changes.last_seq.startsWith('41-')).toBe(true);
  });

  it('writes a plain creation in one statement and an update in two, outside any transaction; the rest in a transaction', async () => {
    const { pool, sent } = countingPool();
    const events: DocEvent[] = [];
    const bus = new InProcessBus();
    bus.subscribe('trips.test', null, (e) => events.push(e));
    const store = new PgDocStoreFactory(pool, bus, options).open('trips.test', idOf(7));
    await store.put('io.cozy.trips', { _id: 'first' }); // creates the doctype's tables (and caches them)
    const trips = async <T>(fn: () => Promise<T>): Promise<{ value: T; sent: string[] }> => {
      sent.length = 0;
      const value = await fn();
      return { value, sent: [...sent] };
    };
    const created = await trips(() => store.put('io.cozy.trips', { _id: 'a', n: 1 }));
    expect(created.sent).toEqual(['WITH']);
    const generated = await trips(() => store.put('io.cozy.trips', { n: 2 }));
    expect(generated.sent).toEqual(['WITH']);
    const updated = await trips(() => store.put('io.cozy.trips', { _id: 'a', _rev: created.value.rev, n: 3 }));
    expect(updated.sent).toEqual(['SELECT', 'WITH']);
    expect(await store.get('io.cozy.trips', 'a')).toEqual({ _id: 'a', _rev: updated.value.rev, n: 3 });
    expect(await store.get('io.cozy.trips', generated.value.id)).toMatchObject({ n: 2, _rev: generated.value.rev });
    // a stale rev: 409 from the row read, nothing written
    await expect(store.put('io.cozy.trips', { _id: 'a', _rev: created.value.rev, n: 4 })).rejects.toBeInstanceOf(Conflict);
    // a creation of an existing document: its statement writes nothing, the transaction finds the row and answers 409
    const existing = await trips(() => store.put('io.cozy.trips', { _id: 'a', n: 5 }).catch((e: unknown) => e));
    expect(existing.value).toBeInstanceOf(Conflict);
    expect(existing.sent).toEqual(['WITH', 'BEGIN', 'SELECT', 'COMMIT']); // a refusal among puts: the others' commit (none here)
    // deleted, then created again (its tombstone extended): the same path, and it succeeds
    const deleted = await store.put('io.cozy.trips', { _id: 'a', _rev: updated.value.rev, _deleted: true });
    const again = await trips(() => store.put('io.cozy.trips', { _id: 'a', n: 6 }));
    expect(again.sent).toEqual(['WITH', 'BEGIN', 'SELECT', 'WITH', 'COMMIT']);
    expect(again.value.rev.startsWith('4-')).toBe(true);
    expect(await store.get('io.cozy.trips', 'a', { revs: true })).toMatchObject({ n: 6, _revisions: { start: 4 } });
    // attachments and design docs: in a transaction
    const withAtt = await trips(() => store.put('io.cozy.trips', { _id: 'att', _attachments: { 'a.txt': { content_type: 'text/plain', data: 'aGk=' } } }));
    expect(withAtt.sent[0]).toBe('BEGIN');
    const design = await trips(() => store.put('io.cozy.trips', { _id: '_design/d', views: {} }));
    expect(design.sent[0]).toBe('BEGIN');
    // every acknowledged write was published once, with what it wrote
    expect(events.map((e) => [e.id, e.verb, e.doc._rev])).toEqual([
      ['first', 'CREATED', expect.any(String)], ['a', 'CREATED', created.value.rev], [generated.value.id, 'CREATED', generated.value.rev],
      ['a', 'UPDATED', updated.value.rev], ['a', 'DELETED', deleted.rev], ['a', 'CREATED', again.value.rev], ['att', 'CREATED', withAtt.value.rev],
      ['_design/d', 'CREATED', design.value.rev],
    ]);
    // the seqs follow the writes
    const changes = await store.changes('io.cozy.trips', { since: '0' });
    expect(changes.results.map((r) => r.id)).toEqual(['first', generated.value.id, 'a', 'att', '_design/d']);
  });

  it('writes putInOrder\'s documents of several doctypes in one transaction: one COMMIT, so one WAL flush', async () => {
    const { pool, sent } = countingPool();
    const store = new PgDocStoreFactory(pool, new InProcessBus(), options).open('order.test', idOf(11));
    const perm = await store.put('io.cozy.perms', { _id: 'p', v: 1 });
    await store.put('io.cozy.apps', { _id: 'a', v: 1 }); // the doctypes' tables made, as an install finds them
    await store.put('io.cozy.triggers', { _id: 'u', v: 1 });
    sent.length = 0;
    const out = await store.putInOrder([{ doctype: 'io.cozy.perms', doc: { _id: 'p', _rev: perm.rev, v: 2 } }, { doctype: 'io.cozy.triggers', doc: { _id: 't', v: 2 } }, { doctype: 'io.cozy.apps', doc: { _id: 'b', v: 2 } }]);
    expect(out.map((r) => r.id)).toEqual(['p', 't', 'b']);
    expect(sent.filter((q) => q === 'COMMIT')).toHaveLength(1);
    expect((await store.get('io.cozy.perms', 'p')).v).toBe(2);
  });

  it('groups the puts of a doctype that come while one is under way into one statement, each with its own answer', async () => {
    const { pool, sent: statements } = countingPool();
    const events: DocEvent[] = [];
    const bus = new InProcessBus();
    bus.subscribe('group.test', null, (e) => events.push(e));
    const store = new PgDocStoreFactory(pool, bus, options).open('group.test', idOf(8));
    const first = await store.put('io.cozy.group', { _id: 'kept', v: 0 });
    statements.length = 0;
    const hooked: string[] = [];
    // 20 puts at once go together: the row of the one update read, then one statement outside any transaction
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) =>
      i === 7
        ? store.put('io.cozy.group', { _id: 'kept', _rev: `1-${'0'.repeat(32)}`, v: 'stale' }, () => hooked.push('stale'))
        : store.put('io.cozy.group', { _id: `g${i}`, v: i }, () => hooked.push(`g${i}`))));
    expect(statements).toEqual(['SELECT', 'WITH']);
    expect(outcomes.map((o) => o.status)).toEqual(Array.from({ length: 20 }, (_, i) => (i === 7 ? 'rejected' : 'fulfilled')));
    expect((outcomes[7] as PromiseRejectedResult).reason).toBeInstanceOf(Conflict);
    expect(hooked.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `g${i}`).filter((g) => g !== 'g7').sort());
    for (const [i, o] of outcomes.entries()) {
      if (o.status === 'fulfilled') expect(await store.get('io.cozy.group', `g${i}`)).toEqual({ _id: `g${i}`, _rev: o.value.rev, v: i });
    }
    expect(await store.get('io.cozy.group', 'kept')).toEqual({ _id: 'kept', _rev: first.rev, v: 0 });
    expect(events.filter((e) => e.id !== 'kept').map((e) => e.id).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `g${i}`).filter((g) => g !== 'g7').sort());
    const changes = await store.changes('io.cozy.group', { since: '0' });
    expect(changes.results).toHaveLength(20);
    // and the next put, with nothing under way, goes alone
    statements.length = 0;
    await store.put('io.cozy.group', { _id: 'after' });
    expect(statements).toEqual(['WITH']);
  });

  it('writes a batch whose statement lost its race in a transaction, each put with its own answer', async () => {
    const { pool, sent: statements } = countingPool();
    const events: DocEvent[] = [];
    const bus = new InProcessBus();
    bus.subscribe('lost.test', null, (e) => events.push(e));
    const store = new PgDocStoreFactory(pool, bus, options).open('lost.test', idOf(9));
    await store.put('io.cozy.lost', { _id: 'there', v: 0 });
    statements.length = 0;
    // the batch creates a document that is already there: its statement writes nothing, a transaction answers 409 for it
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => store.put('io.cozy.lost', i === 3 ? { _id: 'there', v: 'again' } : { _id: `b${i}`, v: i })));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[3] as PromiseRejectedResult).reason).toBeInstanceOf(Conflict);
    expect(statements).toEqual(['WITH', 'BEGIN', 'SELECT', 'WITH', 'COMMIT']);
    expect((await store.allDocs('io.cozy.lost', {})).rows.map((r) => r.id)).toEqual(['b0', 'b1', 'b2', 'b4', 'b5', 'there']);
    expect(events.map((e) => e.id).sort()).toEqual(['b0', 'b1', 'b2', 'b4', 'b5', 'there']);
    expect((await store.changes('io.cozy.lost', { since: '0' })).results.map((r) => r.seq.split('-')[0])).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('makes again, on first use, a Mango index made by an earlier version on whole keys', async () => {
    const pool = newPool('old-index');
    const storeId = idOf(10);
    const store = new PgDocStoreFactory(pool, new InProcessBus(), options).open('old.test', storeId);
    await store.createIndex('io.cozy.old', { fields: [{ field: 'title', dir: 'asc' }], ddoc: 'by-title' });
    for (const title of ['b', 'a', 'c']) await store.put('io.cozy.old', { _id: title, title });
    const schema = `i_${storeId}`;
    const { sql_name: sqlName } = (await pool.query<{ sql_name: string }>(`SELECT sql_name FROM "${schema}".mango_indexes`)).rows[0]!;
    const def = async () => (await pool.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = $2`, [schema, sqlName])).rows[0]?.indexdef;
    const made = (await def())!;
    // as the earlier version made it: on hearth_fn.ck, which the queries no longer name
    await pool.query(`DROP INDEX "${schema}"."${sqlName}"; ${made.replaceAll('hearth_fn.ckb(', 'hearth_fn.ck(')}`);
    expect(await def()).not.toContain('ckb(');
    const later = new PgDocStoreFactory(pool, new InProcessBus(), options).open('old.test', storeId); // another process
    const found = await later.find('io.cozy.old', { selector: { title: { $gt: 'a' } }, limit: 10, skip: 0 });
    expect(found.docs.map((d) => d._id)).toEqual(['b', 'c']);
    expect(await def()).toBe(made);
    const explained = await later.explain('io.cozy.old', { selector: { title: { $gt: 'a' } }, limit: 10, skip: 0 });
    expect(explained.index.ddoc).toBe('_design/by-title');
  });

  it('acknowledges a write only once committed: after kill -9 of the writer, every acknowledged id is there', async () => {
    const storeId = idOf(4);
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/pg-docs-crash-child.ts', server.url, storeId], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acknowledged: string[] = [];
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (id) => {
        acknowledged.push(id);
        if (acknowledged.length === 300) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`the writer exited with ${code} after ${acknowledged.length} writes`)));
    });
    await exited;
    const store = new PgDocStoreFactory(newPool('crash-check'), new InProcessBus(), options).open('crash.test', storeId);
    const found = await store.allDocs('io.cozy.crash', { keys: acknowledged });
    expect(found.rows.filter((r) => r.error !== undefined)).toEqual([]);
    expect(found.total_rows).toBeGreaterThanOrEqual(acknowledged.length);
  });

  it('fails fast with the unavailable error while PostgreSQL is down, and works again once it is back, on the same factory', async () => {
    const factory = new PgDocStoreFactory(newPool('restart'), new InProcessBus(), options);
    const store = factory.open('restart.test', idOf(5));
    const { rev } = await store.put('io.cozy.notes', { _id: 'n', v: 1 });
    await server.halt();
    try {
      const attempts = [() => store.get('io.cozy.notes', 'n'), () => store.put('io.cozy.notes', { _id: 'n', _rev: rev, v: 2 }), () => store.ping()];
      for (const attempt of attempts) {
        const err = await attempt().then(() => null, (e: unknown) => e);
        expect(unavailableDependency(err)).toBe('database');
      }
    } finally {
      await server.start();
    }
    const again = factory.open('restart.test', idOf(5));
    expect(await again.get('io.cozy.notes', 'n')).toMatchObject({ v: 1, _rev: rev });
    const updated = await again.put('io.cozy.notes', { _id: 'n', _rev: rev, v: 2 });
    expect(await store.get('io.cozy.notes', 'n')).toMatchObject({ v: 2, _rev: updated.rev });
  });
});
