/**
 * Where a single-document create's time goes on docs.engine postgres (issue 16): one Hearth (in this process) on a
 * private PostgreSQL with fsync on, BENCH_PROBE_C (16) clients POSTing small documents for BENCH_PROBE_S (8) seconds;
 * prints ops/s, this process's CPU per op, and PostgreSQL's transactions, WAL flushes and WAL records per op
 * (pg_stat_database, pg_stat_wal before and after). `node --import tsx bench/pg-create-probe.ts`
 */
import pg from 'pg';
import { startTestHearth } from '../test/helpers/hearth.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';

/** Queries sent by this process (node-postgres sends one at a time per connection: one query, one round trip). */
const sent = new Map<string, number>();
let counting = false;
const clientQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  if (counting) {
    const q = args[0] as string | { text?: string };
    const text = (typeof q === 'string' ? q : q?.text ?? '').replace(/\s+/g, ' ').replace(/"i_[0-9a-f]+"/g, 'S').slice(0, 90);
    sent.set(text, (sent.get(text) ?? 0) + 1);
  }
  return (clientQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pg.Client.prototype.query;
const C = Number(process.env.BENCH_PROBE_C ?? 16);
const SECONDS = Number(process.env.BENCH_PROBE_S ?? 8);
const server = await startPostgres({ database: 'probe', fsync: true });
const t = await startTestHearth({ docs: { engine: 'postgres', url: server.url, poolSize: 10 } });
const token = await t.cliToken('io.cozy.probe');
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
const stats = async () => (await admin.query<{ commits: string; syncs: string; records: string }>(
  `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits, wal_sync AS syncs, wal_records AS records FROM pg_stat_wal`)).rows[0]!;
const post = (i: number) => t.req('POST', '/data/io.cozy.probe/', { token, body: { i, name: `doc ${i}`, tags: ['a', 'b'] } });
for (let i = 0; i < 200; i++) await post(i); // warm up
const before = await stats();
counting = true;
const cpu0 = process.cpuUsage();
let ops = 0;
const end = Date.now() + SECONDS * 1000;
await Promise.all(Array.from({ length: C }, async () => {
  while (Date.now() < end) {
    if ((await post(ops)).status !== 201) throw new Error('create failed');
    ops++;
  }
}));
const cpu = process.cpuUsage(cpu0);
counting = false;
const after = await stats();
const per = (k: keyof typeof before) => ((Number(after[k]) - Number(before[k])) / ops).toFixed(3);
process.stdout.write(`${ops / SECONDS} ops/s at c=${C}; this process (Hearth + clients) ${((cpu.user + cpu.system) / ops).toFixed(0)} µs CPU/op; ` +
  `per op: ${per('commits')} commits, ${per('syncs')} WAL syncs, ${per('records')} WAL records\n`);
const queries = [...sent.values()].reduce((a, b) => a + b, 0);
process.stdout.write(`${(queries / ops).toFixed(2)} queries/op, the most sent:\n`);
for (const [text, n] of [...sent].sort((a, b) => b[1] - a[1]).slice(0, 8)) process.stdout.write(`  ${(n / ops).toFixed(3)}/op ${text}\n`);
if (process.env.BENCH_PROBE_TABLES) {
  const r = await admin.query(`SELECT schemaname || '.' || relname AS t, n_tup_ins AS ins, n_tup_upd AS upd, n_tup_del AS del FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY 2 DESC LIMIT 15`);
  console.log(r.rows);
}
await admin.end();
await t.close();
await server.stop();
