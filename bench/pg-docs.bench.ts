/**
 * The PostgreSQL document engine beside the SQLite one, through the DocStore interface (no HTTP), in one process on
 * this machine: single-document creates and reads by id per second (16 in flight), and the time to create an
 * instance's schema with its first doctype. PostgreSQL is a private server (test/helpers/servers/postgres.ts) started
 * with fsync on, as SQLite's writes are fsynced. Writes bench/RESULTS-pg-docs.md (not with BENCH_QUICK=1: printed only).
 *   node --import tsx bench/pg-docs.bench.ts    (`npm run bench` suite data-pg, after data.bench.ts)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus } from '../src/common/bus.js';
import { PgDocStoreFactory } from '../src/data/postgres/factory.js';
import { SqliteDocStoreFactory } from '../src/data/sqlite/factory.js';
import type { DocStore, DocStoreFactory } from '../src/data/store.js';
import { createPgPool } from '../src/engines/postgres.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { BENCH_DIR, gitInfo, log, machine } from './lib.js';

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

interface Row { created: number; read: number; schemaMs: number }

async function measure(name: string, factory: DocStoreFactory): Promise<Row> {
  const store: DocStore = factory.open('bench.test', storeId(1));
  await store.put('io.cozy.bench', { _id: 'warm' });
  const created = await rate(MS, (n) => store.put('io.cozy.bench', { _id: `d${n}`, n, title: `document ${n}`, tags: ['a', 'b'] }));
  const count = (await store.info('io.cozy.bench'))?.doc_count ?? 1;
  const read = await rate(MS, (n) => store.get('io.cozy.bench', `d${(n * 7919) % (count - 1)}`));
  const t0 = performance.now();
  for (let i = 0; i < SCHEMAS; i++) await factory.open(`s${i}.test`, storeId(1000 + i)).createDoctype('io.cozy.bench');
  const schemaMs = (performance.now() - t0) / SCHEMAS;
  log(`${name.padEnd(10)} create ${created.toFixed(0).padStart(6)}/s   read by id ${read.toFixed(0).padStart(6)}/s   new instance + doctype ${schemaMs.toFixed(1)} ms`);
  return { created, read, schemaMs };
}

const load0 = loadavg();
// fsync on (the tests' server runs without): an acknowledged write is on disk, as with SQLite
const pgServer = await startPostgres({ database: 'bench', fsync: true });
const dir = mkdtempSync(join(tmpdir(), 'hearth-pg-bench-'));
let pgRow: Row, sqliteRow: Row;
try {
  const pool = createPgPool({ url: pgServer.url, max: 10, name: 'bench' });
  pgRow = await measure('postgres', new PgDocStoreFactory(pool, new InProcessBus(), { attachmentMaxBytes: 1 << 20 }));
  await pool.end();
  const sqlite = new SqliteDocStoreFactory(dir, new InProcessBus(), { attachmentMaxBytes: 1 << 20, groupCommitMs: 0 });
  sqliteRow = await measure('sqlite', sqlite);
  await sqlite.close();
} finally {
  await pgServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(', ');
const md = [
  '# The document engines through the DocStore interface: PostgreSQL beside SQLite',
  '',
  `Written by \`node --import tsx bench/pg-docs.bench.ts\` (\`BENCH_SUITES=data-pg npm run bench\`) on ${new Date().toISOString()}.`,
  `${machine()}; ${gitInfo()}. Load average (1, 5, 15 min) ${load(load0)} at the start, ${load(loadavg())} at the end (2 cores, shared`,
  'with other engineers\' work: the numbers move with it).',
  '',
  `In one Node process, no HTTP: ${IN_FLIGHT} callers in flight for ${MS / 1000} s per row; single-document puts (each its own`,
  'transaction, acknowledged once on disk: PostgreSQL with fsync and synchronous_commit on, a pool of 10; SQLite as Hearth runs it,',
  `commits grouped on the next tick and fsynced) and reads by id; then ${SCHEMAS} new instances, each with its first doctype (PostgreSQL: a schema and its tables;`,
  'SQLite: a database file). The same workloads over HTTP against pouchdb-server are in [RESULTS-data-pg.md](RESULTS-data-pg.md).',
  '',
  '| engine | single-doc create / s | read by id / s | new instance + first doctype |',
  '|---|---:|---:|---:|',
  `| PostgreSQL | ${pgRow.created.toFixed(0)} | ${pgRow.read.toFixed(0)} | ${pgRow.schemaMs.toFixed(1)} ms |`,
  `| SQLite | ${sqliteRow.created.toFixed(0)} | ${sqliteRow.read.toFixed(0)} | ${sqliteRow.schemaMs.toFixed(1)} ms |`,
  `| PostgreSQL / SQLite | ${(pgRow.created / sqliteRow.created).toFixed(2)}× | ${(pgRow.read / sqliteRow.read).toFixed(2)}× | ${(pgRow.schemaMs / sqliteRow.schemaMs).toFixed(2)}× the time |`,
  '',
].join('\n');
if (process.env.BENCH_QUICK === '1') process.stdout.write(md);
else {
  writeFileSync(join(BENCH_DIR, 'RESULTS-pg-docs.md'), md);
  process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-pg-docs.md')}\n`);
}
