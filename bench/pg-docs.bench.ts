/**
 * The PostgreSQL document engine beside the SQLite one, through the DocStore interface (no HTTP), in one process on
 * this machine: single-document creates and reads by id per second (16 in flight), and the time to create an
 * instance's schema with its first doctype. PostgreSQL is a private server (test/helpers/servers/postgres.ts) switched
 * to fsync on, as SQLite's writes are fsynced. Prints its numbers; writes no file.
 *   node --import tsx bench/pg-docs.bench.ts    (BENCH_QUICK=1: shorter)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus } from '../src/common/bus.js';
import { PgDocStoreFactory } from '../src/data/postgres/factory.js';
import { SqliteDocStoreFactory } from '../src/data/sqlite/factory.js';
import type { DocStore, DocStoreFactory } from '../src/data/store.js';
import { createPgPool } from '../src/engines/postgres.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';

const QUICK = process.env.BENCH_QUICK === '1';
const MS = QUICK ? 2_000 : 8_000;
const IN_FLIGHT = 16;
const SCHEMAS = QUICK ? 20 : 100;
const storeId = (n: number) => n.toString(16).padStart(32, '0');

/** Runs `op` with IN_FLIGHT callers for `ms`; operations per second. */
async function rate(ms: number, op: (n: number) => Promise<unknown>): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  const start = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
    while (performance.now() < end) await op(done++);
  }));
  return done / ((performance.now() - start) / 1000);
}

async function measure(name: string, factory: DocStoreFactory): Promise<void> {
  const store: DocStore = factory.open('bench.test', storeId(1));
  await store.put('io.cozy.bench', { _id: 'warm' });
  const created = await rate(MS, (n) => store.put('io.cozy.bench', { _id: `d${n}`, n, title: `document ${n}`, tags: ['a', 'b'] }));
  const count = (await store.info('io.cozy.bench'))?.doc_count ?? 1;
  const read = await rate(MS, (n) => store.get('io.cozy.bench', `d${(n * 7919) % (count - 1)}`));
  const t0 = performance.now();
  for (let i = 0; i < SCHEMAS; i++) await factory.open(`s${i}.test`, storeId(1000 + i)).createDoctype('io.cozy.bench');
  const schemaMs = (performance.now() - t0) / SCHEMAS;
  console.log(`${name.padEnd(10)} create ${created.toFixed(0).padStart(6)}/s   read by id ${read.toFixed(0).padStart(6)}/s   new instance + doctype ${schemaMs.toFixed(1)} ms`);
}

const pgServer = await startPostgres({ database: 'bench' });
const dir = mkdtempSync(join(tmpdir(), 'hearth-pg-bench-'));
try {
  const admin = createPgPool({ url: pgServer.url, max: 1, name: 'bench-admin' });
  for (const sql of ['ALTER SYSTEM SET fsync = on', 'ALTER SYSTEM SET full_page_writes = on', 'SELECT pg_reload_conf()']) await admin.query(sql);
  await admin.end();
  const pool = createPgPool({ url: pgServer.url, max: 10, name: 'bench' });
  await measure('postgres', new PgDocStoreFactory(pool, new InProcessBus(), { attachmentMaxBytes: 1 << 20 }));
  await pool.end();
  const sqlite = new SqliteDocStoreFactory(dir, new InProcessBus(), { attachmentMaxBytes: 1 << 20, groupCommitMs: 0 });
  await measure('sqlite', sqlite);
  await sqlite.close();
} finally {
  await pgServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
