/**
 * The farm on each document engine side by side (farm.bench.ts with BENCH_FARM_ENGINES=sqlite,postgres; `npm run bench`
 * suite farm-pg): N instances created in the farm server (bench/farm-server.ts) on SQLite (one database file each) and on
 * one PostgreSQL (a schema each: issue 16's "10,000 instances on one PostgreSQL"), each written to once over HTTP (its
 * first document: the doctype's table is created), then the server restarted and every instance requested again: the
 * first request since the start (cold) and right after it a second one (warm), p50/p95; the RSS of hearth and the memory
 * of PostgreSQL (PSS of the postmaster and its backends), the catalog (pg_class rows, schemas, database size) or the
 * files on disk. The PostgreSQL is a private server from Debian's package with fsync on (SQLite's commits are fsynced
 * too). Writes bench/RESULTS-farm-pg.md (not with BENCH_QUICK=1).
 */
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Agent } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres, type PgServer } from '../test/helpers/servers/postgres.js';
import { BENCH_DIR, fmtMs, gitInfo, log, machine, percentile, send } from './lib.js';

export interface Measures { seconds: number; maxStallMs: number; p99StallMs: number; maxStallCpuMs: number; wallOfMaxCpuStallMs: number; gcInMaxCpuStall?: { ms: number; kinds: string }; topStalls?: string[]; longestGcMs?: number; longestGcKind?: string; peakNewSpaceMB?: number; peakRssMB: number; rssMB: number; peakFds: number; fds: number; openStores: number }
export interface Farm { proc: ChildProcess; port: number; dir: string; call(cmd: string, extra?: object): Promise<{ result: unknown; measures: Measures }> }
type Instances = Array<{ domain: string; token: string }>;
type StartFarm = (opts: { dir?: string; docsUrl?: string }) => Promise<Farm>;
type CreateFarm = (docsUrl?: string) => Promise<{ farm: Farm; instances: Instances; created: Measures }>;

export const ENGINES = process.env.BENCH_FARM_ENGINES ? process.env.BENCH_FARM_ENGINES.split(',').map((e) => e.trim()) : null;
const QUICK = process.env.BENCH_QUICK === '1';
const CONCURRENCY = 16;

interface Latencies { cold: Float64Array; warm: Float64Array; failed: Record<number, number> }

/** Each instance: a PUT of document `first` (with `then`: right after it, on the same connection, a PUT of `then`). */
async function touch(port: number, instances: Instances, first: string, then?: string): Promise<Latencies> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const cold: number[] = [];
  const warm: number[] = [];
  const failed: Record<number, number> = {};
  const put = async (domain: string, token: string, id: string, into: number[]) => {
    const t = performance.now();
    const res = await send({ port, method: 'PUT', path: `/data/io.cozy.bench/${id}`, agent, body: Buffer.from('{"n":1}'), headers: { host: domain, authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
    into.push(performance.now() - t);
    if (res.status !== 200) failed[res.status] = (failed[res.status] ?? 0) + 1;
  };
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let i = next++; i < instances.length; i = next++) {
      const { domain, token } = instances[i]!;
      await put(domain, token, first, cold);
      if (then) await put(domain, token, then, warm);
    }
  }));
  agent.destroy();
  return { cold: Float64Array.from(cold).sort(), warm: Float64Array.from(warm).sort(), failed };
}

/** PSS in MB of the postmaster and of each of its children (backends, checkpointer, WAL writer…). */
function postgresMemory(server: PgServer): { totalMB: number; processes: number; maxBackendMB: number } {
  const postmaster = Number(readFileSync(join(server.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const pss = (pid: number) => Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0) / 1024;
  const kids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster;
    } catch {
      return false;
    }
  });
  const sizes = kids.map((pid) => { try { return pss(pid); } catch { return 0; } });
  return { totalMB: pss(postmaster) + sizes.reduce((a, b) => a + b, 0), processes: kids.length + 1, maxBackendMB: Math.max(0, ...sizes) };
}

const countFiles = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? countFiles(join(dir, e.name)) : 1), 0);
const duMB = (dir: string) => Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]) / 1e6;

interface Row { engine: string; created: Measures; first: Latencies; again: Latencies; restarted: Measures; storage: string; dbMemory: string }

async function runEngine(engine: string, n: number, startFarm: StartFarm, createFarm: CreateFarm, stopFarm: (f: Farm) => Promise<void>, server: PgServer | null): Promise<Row> {
  const docsUrl = server ? await server.database_url(`farm_${n}`) : undefined;
  log(`${engine}: creating ${n} instances`);
  const { farm, instances, created } = await createFarm(docsUrl);
  const first = await touch(farm.port, instances, 'first');
  log(`${engine}: created in ${created.seconds.toFixed(1)} s, first write p50 ${fmtMs(percentile(first.cold, 0.5))} ms`);
  await stopFarm(farm);
  const again = await startFarm({ dir: farm.dir, ...(docsUrl ? { docsUrl } : {}) });
  await again.call('phase');
  const coldWarm = await touch(again.port, instances, 'cold', 'warm');
  const restarted = (await again.call('measure')).measures;
  log(`${engine}: cold p50 ${fmtMs(percentile(coldWarm.cold, 0.5))} ms, warm p50 ${fmtMs(percentile(coldWarm.warm, 0.5))} ms, failures ${JSON.stringify(coldWarm.failed)}`);
  let storage = `${duMB(farm.dir).toFixed(0)} MB in the data folder, ${countFiles(farm.dir).toLocaleString('en')} files`;
  let dbMemory = '–';
  if (server && docsUrl) {
    const db = new pg.Client(docsUrl);
    await db.connect();
    const q = async (sql: string) => String(Object.values((await db.query(sql)).rows[0] as object)[0]);
    storage = `pg_class ${Number(await q('SELECT count(*) FROM pg_class')).toLocaleString('en')} rows, ${Number(await q('SELECT count(*) FROM pg_namespace')).toLocaleString('en')} schemas, ` +
      `database ${(Number(await q('SELECT pg_database_size(current_database())')) / 1e6).toFixed(0)} MB, PostgreSQL data folder ${duMB(join(server.dir, 'data')).toFixed(0)} MB; ` +
      `hearth's data folder ${duMB(farm.dir).toFixed(1)} MB`;
    await db.end();
    const mem = postgresMemory(server);
    dbMemory = `${mem.totalMB.toFixed(0)} MB (PSS of ${mem.processes} processes; largest backend ${mem.maxBackendMB.toFixed(1)} MB)`;
  }
  await stopFarm(again);
  return { engine, created, first, again: coldWarm, restarted, storage, dbMemory };
}

const SECTION = '# Farm on each document engine: ';

/** The results file keeps one section per instance count (the issue asks 1,000 and 10,000): this run's replaces its own. */
function withOtherCounts(file: string, n: number, text: string): string {
  let old = '';
  try { old = readFileSync(file, 'utf8'); } catch { /* first run */ }
  const sections = old.split(new RegExp(`^(?=${SECTION})`, 'm')).filter((s) => s.startsWith(SECTION));
  const count = (s: string) => Number(/^# Farm on each document engine: ([\d,]+) instances/.exec(s)?.[1]?.replace(/,/g, '') ?? 0);
  const kept = sections.filter((s) => count(s) !== n).map((s) => s.trimEnd() + '\n');
  return [...kept, text.trimEnd() + '\n'].sort((a, b) => count(a) - count(b)).join('\n');
}

export async function engineFarms(engines: string[], n: number, startFarm: StartFarm, createFarm: CreateFarm, stopFarm: (f: Farm) => Promise<void>): Promise<void> {
  const t0 = Date.now();
  const load0 = loadavg();
  let server: PgServer | null = null;
  const rows: Row[] = [];
  try {
    for (const engine of engines) {
      if (engine === 'postgres') server ??= await startPostgres({ database: 'farm', fsync: true });
      else if (engine !== 'sqlite') throw new Error(`BENCH_FARM_ENGINES: unknown engine ${engine} (sqlite, postgres)`);
      rows.push(await runEngine(engine, n, startFarm, createFarm, stopFarm, engine === 'postgres' ? server : null));
    }
  } finally {
    // a shutdown checkpoint of 10,000 schemas on a loaded disk can outlast pg_ctl's wait: the results are kept anyway
    // (the server is then killed at exit by the helper)
    await server?.stop().catch((e: unknown) => log(`PostgreSQL did not stop cleanly: ${String(e).slice(0, 200)}`));
  }
  const load1 = loadavg();
  const p = (xs: Float64Array, q: number) => fmtMs(percentile(xs, q));
  const md = [
    `# Farm on each document engine: ${n.toLocaleString('en')} instances (\`BENCH_SUITES=farm-pg npm run bench\`, bench/farm-engines.ts)`,
    '',
    `Run ${new Date().toISOString()} on ${machine()}; ${gitInfo()}; ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
    `The machine is shared with other engineers' work: its load average (1, 5, 15 min) was ${load0.map((l) => l.toFixed(1)).join(', ')} at the start`,
    `and ${load1.map((l) => l.toFixed(1)).join(', ')} at the end (2 cores): wall times include waits for a core.`,
    '',
    'One hearth process (bench/farm-server.ts, descriptors limited to 1,024), instances created in-process one after the other;',
    `then one durable PUT each over HTTP (${CONCURRENCY} clients: each instance's first document, which creates the doctype's table);`,
    'then the process restarted on the same state and each instance requested twice in a row: its first request since the start',
    '(cold) and a second one (warm), both durable PUTs of a new document. PostgreSQL: Debian\'s server on this machine, fsync on,',
    'one schema per instance (the registry, jobs and sessions on it too); SQLite: a database file per instance.',
    '',
    '| engine | create (instances/s) | peak RSS of hearth while creating | first write p50 / p95 | cold request p50 / p95 | warm request p50 / p95 | cold / warm (p50) | RSS of hearth after the cold and warm pass (peak) | memory of PostgreSQL | storage | failures |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.engine} | ${(n / r.created.seconds).toFixed(0)} (${r.created.seconds.toFixed(1)} s) | ${r.created.peakRssMB.toFixed(0)} MB | ${p(r.first.cold, 0.5)} / ${p(r.first.cold, 0.95)} ms | ` +
      `${p(r.again.cold, 0.5)} / ${p(r.again.cold, 0.95)} ms | ${p(r.again.warm, 0.5)} / ${p(r.again.warm, 0.95)} ms | ${(percentile(r.again.cold, 0.5) / percentile(r.again.warm, 0.5)).toFixed(1)}× | ` +
      `${r.restarted.rssMB.toFixed(0)} MB (${r.restarted.peakRssMB.toFixed(0)} MB) | ${r.dbMemory} | ${r.storage} | ${JSON.stringify({ ...r.first.failed, ...r.again.failed })} |`),
    '',
  ];
  const sqlite = rows.find((r) => r.engine === 'sqlite');
  const pgRow = rows.find((r) => r.engine === 'postgres');
  if (sqlite && pgRow) {
    md.push(`PostgreSQL / SQLite: instance creation ${((n / pgRow.created.seconds) / (n / sqlite.created.seconds)).toFixed(2)}× the rate, ` +
      `cold request p50 ${(percentile(pgRow.again.cold, 0.5) / percentile(sqlite.again.cold, 0.5)).toFixed(2)}× the time, warm ${(percentile(pgRow.again.warm, 0.5) / percentile(sqlite.again.warm, 0.5)).toFixed(2)}×.`, '');
  }
  const text = md.join('\n');
  if (QUICK) process.stdout.write(text);
  else {
    writeFileSync(join(BENCH_DIR, 'RESULTS-farm-pg.md'), withOtherCounts(join(BENCH_DIR, 'RESULTS-farm-pg.md'), n, text));
    process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-farm-pg.md')}\n`);
  }
}
