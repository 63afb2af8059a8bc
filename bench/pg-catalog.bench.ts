/**
 * docs.connectionUses on a farm on one PostgreSQL (issue 16): a PostgreSQL server process caches the catalog of every
 * schema its connection touched and never gives it back, so with one schema per instance a pooled connection that lives
 * forever ends up holding every instance's catalog (411 MB at 10,000 instances, bench/RESULTS-farm-pg.md).
 * N instances (BENCH_PG_CATALOG_N, default 2,000; 300 with BENCH_QUICK=1) are created on a private PostgreSQL (Debian's,
 * fsync off: the catalog's memory does not depend on it), each with one document; then passes of one GET per instance
 * (8 clients, pool of 4 connections) run on a fresh Hearth each, alternating connections kept for good
 * (docs.connectionUses 0, the reference) and replaced after BENCH_PG_CATALOG_USES checkouts (default: the setting's
 * default, 1,000; 100 quick), twice each. Reported: requests/s, the largest and total private memory of the Hearth's
 * server processes (peak, sampled every 250 ms). Writes bench/RESULTS-pg-catalog.md (not with BENCH_QUICK=1).
 * `BENCH_SUITES=pg-catalog npm run bench`, or `node --import tsx bench/pg-catalog.bench.ts`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Agent } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { DEFAULTS } from '../src/config/schema.js';
import { startTestHearth, type TestHearth } from '../test/helpers/hearth.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { BENCH_DIR, gitInfo, log, machine, send } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const N = Number(process.env.BENCH_PG_CATALOG_N ?? (QUICK ? 300 : 2000));
// quick: fewer uses than the checkouts of a pass, so that connections are replaced at all
const USES = Number(process.env.BENCH_PG_CATALOG_USES ?? (QUICK ? 100 : DEFAULTS.docs.connectionUses));
const POOL = 4;
const CLIENTS = 8;
const t0 = Date.now();
const load0 = loadavg();

const server = await startPostgres({ database: 'catalog' });
const admin = new pg.Client({ connectionString: server.url });
await admin.connect();
const docs = (uses: number) => ({ docs: { engine: 'postgres' as const, url: server.url, poolSize: POOL, connectionUses: uses } });

/**
 * Private memory in MB (Private_Clean + Private_Dirty) of each server process behind this process's Hearth pool: the
 * catalog caches live there; the shared buffers a process touched are shared memory and left out.
 */
async function backendsMB(): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [`hearth serve ${process.pid}`]);
  return rows.map(({ pid }) => {
    try {
      const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const kB = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
      return (kB('Private_Clean') + kB('Private_Dirty')) / 1024;
    } catch {
      return 0; // ended between the query and the read
    }
  });
}

async function eachInstance(t: TestHearth, list: Array<{ domain: string; token: string }>, method: 'GET' | 'PUT'): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  let next = 0;
  let failed = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    for (let i = next++; i < list.length; i = next++) {
      const { domain, token } = list[i]!;
      const res = await send({
        port: t.port, method, path: '/data/io.cozy.bench/first', agent, ...(method === 'PUT' ? { body: Buffer.from('{"n":1}') } : {}),
        headers: { host: domain, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      if (res.status !== 200) failed++;
    }
  }));
  agent.destroy();
  return failed;
}

log(`pg-catalog: creating ${N} instances on PostgreSQL`);
const setup = await startTestHearth(docs(0));
const instances: Array<{ domain: string; token: string }> = [];
for (let i = 0; i < N; i++) {
  const instance = await setup.hearth.registry.create({ domain: `cat${i}.example.net` });
  instances.push({ domain: instance.domain, token: await setup.cliToken('io.cozy.bench', instance) });
}
const createFailed = await eachInstance(setup, instances, 'PUT');
if (createFailed) throw new Error(`${createFailed} first writes failed`);
await setup.hearth.close();
log(`pg-catalog: created in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

interface Pass { uses: number; seconds: number; rps: number; peakMaxMB: number; peakTotalMB: number; endMaxMB: number; failed: number }
const passes: Pass[] = [];
for (const round of [1, 2]) {
  for (const uses of [0, USES]) {
    const t = await startTestHearth(docs(uses));
    let peakMaxMB = 0;
    let peakTotalMB = 0;
    const sample = async () => {
      const mb = await backendsMB();
      peakMaxMB = Math.max(peakMaxMB, ...mb);
      peakTotalMB = Math.max(peakTotalMB, mb.reduce((a, b) => a + b, 0));
    };
    const timer = setInterval(() => void sample(), 250);
    const start = performance.now();
    const failed = await eachInstance(t, instances, 'GET');
    const seconds = (performance.now() - start) / 1000;
    clearInterval(timer);
    await sample();
    const endMaxMB = Math.max(0, ...(await backendsMB()));
    passes.push({ uses, seconds, rps: N / seconds, peakMaxMB, peakTotalMB, endMaxMB, failed });
    log(`pg-catalog round ${round}, uses ${uses || '∞'}: ${(N / seconds).toFixed(0)} req/s, largest backend ${peakMaxMB.toFixed(1)} MB, all ${peakTotalMB.toFixed(1)} MB`);
    await t.close();
  }
}
await admin.end();
await server.stop();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const of = (uses: number) => passes.filter((p) => p.uses === uses);
const med = (uses: number, k: keyof Pass) => median(of(uses).map((p) => p[k]));
const load1 = loadavg();
const md = [
  `# PostgreSQL server memory on a farm: connections kept or replaced (\`BENCH_SUITES=pg-catalog npm run bench\`, bench/pg-catalog.bench.ts)`,
  '',
  `Run ${new Date().toISOString()} on ${machine()}; ${gitInfo()}; ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
  `Load average (1, 5, 15 min) ${load0.map((l) => l.toFixed(1)).join(', ')} at the start and ${load1.map((l) => l.toFixed(1)).join(', ')} at the end (2 cores, shared).`,
  '',
  `${N.toLocaleString('en')} instances on one PostgreSQL (a schema each, one document each), then passes of one GET per instance`,
  `(${CLIENTS} clients) through a fresh Hearth with a pool of ${POOL} connections, alternating connections kept for good`,
  `(\`docs.connectionUses: 0\`) and replaced after ${USES.toLocaleString('en')} checkouts, two passes each. Private memory of the server processes`,
  'behind the Hearth\'s connections (their catalog caches; the shared buffers are left out), sampled every 250 ms (peak of the largest one, peak of their sum, and the largest at the end).',
  '',
  '| connections | pass | requests/s | largest server process (peak) | all of them (peak) | largest at the end | failures |',
  '|---|---|---|---|---|---|---|',
  ...passes.map((p, i) => `| ${p.uses ? `replaced after ${p.uses.toLocaleString('en')}` : 'kept'} | ${Math.floor(i / 2) + 1} | ${p.rps.toFixed(0)} | ${p.peakMaxMB.toFixed(1)} MB | ${p.peakTotalMB.toFixed(1)} MB | ${p.endMaxMB.toFixed(1)} MB | ${p.failed} |`),
  '',
  `Replaced / kept (medians): requests/s ${(med(USES, 'rps') / med(0, 'rps')).toFixed(2)}×, largest server process ${(med(USES, 'peakMaxMB') / med(0, 'peakMaxMB')).toFixed(2)}×, ` +
    `all of them ${(med(USES, 'peakTotalMB') / med(0, 'peakTotalMB')).toFixed(2)}×.`,
  '',
];
process.stdout.write(md.join('\n'));
if (!QUICK) writeFileSync(join(BENCH_DIR, 'RESULTS-pg-catalog.md'), md.join('\n'));
