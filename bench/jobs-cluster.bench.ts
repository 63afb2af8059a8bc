/**
 * Jobs on one PostgreSQL with 1, 2 and 3 job-running processes on this machine (bench/jobs-cluster-worker.ts, each its
 * own Node process with its own pool of 5, as `hearth serve` processes would be), beside the embedded SQLite broker in
 * one process: N no-op jobs pushed through the first process (16 pushes in flight) and run by a worker of concurrency 4
 * in every process. Reports pushes per second, jobs run per second (first push to last job done), the share each process
 * ran and its CPU. PostgreSQL runs with fsync on (a private server from Debian's package), as jobs.sqlite's commits are
 * fsynced. Writes bench/RESULTS-jobs-cluster.md (BENCH_QUICK=1: fewer jobs, printed only).
 * Run: node --import tsx bench/jobs-cluster.bench.ts (`npm run bench` suite jobs-cluster). BENCH_JOBS=N (default 1000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { BENCH_DIR, buildServers, children, gitInfo, killChildren, log, machine, procCpuMs, tempDir } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const JOBS = Number(process.env.BENCH_JOBS ?? (QUICK ? 200 : 1000));

interface Proc { child: ChildProcess; ran: number; pushedMs: number | null }

async function startWorker(url: string): Promise<Proc> {
  const child = spawn(process.execPath, [join(buildServers(), 'bench', 'jobs-cluster-worker.js'), tempDir('bench-jobs-cluster-'), url], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, NODE_ENV: 'production' },
  });
  children.add(child);
  const p: Proc = { child, ran: 0, pushedMs: null };
  await new Promise<void>((resolve, reject) => {
    child.on('message', (raw) => {
      const m = raw as { ready?: boolean; ran?: number; cmd?: string; ms?: number };
      if (m.ready) resolve();
      if (m.ran !== undefined) p.ran = m.ran;
      if (m.cmd === 'pushed') p.pushedMs = m.ms ?? null;
    });
    child.once('exit', (code) => reject(new Error(`jobs-cluster-worker exited with ${code}`)));
  });
  return p;
}

interface Row { broker: string; processes: number; pushedPerSec: number; ranPerSec: number; shares: number[]; cpuMsPerJob: number }

async function run(broker: string, processes: number, url: string): Promise<Row> {
  const procs: Proc[] = [];
  // one after the other: the first creates the broker's tables
  for (let i = 0; i < processes; i++) procs.push(await startWorker(url));
  const cpu0 = procs.map((p) => procCpuMs(p.child.pid!));
  const t0 = performance.now();
  procs[0]!.child.send({ cmd: 'push', n: JOBS });
  while (procs.reduce((n, p) => n + p.ran, 0) < JOBS) await new Promise((r) => setTimeout(r, 50));
  const ranMs = performance.now() - t0;
  while (procs[0]!.pushedMs === null) await new Promise((r) => setTimeout(r, 50));
  const cpuMs = procs.reduce((n, p, i) => n + procCpuMs(p.child.pid!) - cpu0[i]!, 0);
  for (const p of procs) {
    const exited = new Promise((r) => p.child.once('exit', r));
    p.child.send({ cmd: 'stop' });
    await exited;
    children.delete(p.child);
  }
  const row = { broker, processes, pushedPerSec: JOBS / (procs[0]!.pushedMs! / 1000), ranPerSec: JOBS / (ranMs / 1000), shares: procs.map((p) => p.ran), cpuMsPerJob: cpuMs / JOBS };
  log(`${broker} × ${processes}: pushed ${row.pushedPerSec.toFixed(0)}/s, ran ${row.ranPerSec.toFixed(0)}/s, runs per process ${row.shares.join(' / ')}`);
  return row;
}

process.on('exit', killChildren);
const load0 = loadavg();
const rows: Row[] = [await run('SQLite (jobs.sqlite)', 1, 'sqlite')];
const server = await startPostgres({ fsync: true });
try {
  for (const n of [1, 2, 3]) rows.push(await run('PostgreSQL', n, await server.database_url(`bench_${n}`)));
} finally {
  await server.stop();
}
const sqlite = rows[0]!;
const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(', ');
const md = [
  '# Jobs: 1, 2 and 3 processes on one PostgreSQL beside the SQLite broker',
  '',
  `Written by \`node --import tsx bench/jobs-cluster.bench.ts\` (\`BENCH_SUITES=jobs-cluster npm run bench\`) on ${new Date().toISOString()}.`,
  `${machine()}; ${gitInfo()}. Load average (1, 5, 15 min) ${load(load0)} at the start, ${load(loadavg())} at the end: the 2 cores are`,
  'shared with other engineers\' work and with the PostgreSQL server, so more processes cannot mean more cores here.',
  '',
  `${JOBS.toLocaleString('en')} no-op jobs pushed through the first process (16 in flight), run by a worker of concurrency 4 in each`,
  'process (bench/jobs-cluster-worker.ts: createJobSystem as `hearth serve` composes it, a pool of 5 per process); run/s is from',
  'the first push to the last job done. PostgreSQL: fsync and synchronous_commit on. CPU: the job processes\' own (not PostgreSQL\'s).',
  '',
  '| broker | processes | pushed / s | run / s | run / s vs SQLite | jobs run by each process | CPU of the processes per job |',
  '|---|---:|---:|---:|---:|---|---:|',
  ...rows.map((r) => `| ${r.broker} | ${r.processes} | ${r.pushedPerSec.toFixed(0)} | ${r.ranPerSec.toFixed(0)} | ${(r.ranPerSec / sqlite.ranPerSec).toFixed(2)}× | ${r.shares.join(' / ')} | ${r.cpuMsPerJob.toFixed(2)} ms |`),
  '',
].join('\n');
if (QUICK) process.stdout.write(md);
else {
  writeFileSync(join(BENCH_DIR, 'RESULTS-jobs-cluster.md'), md);
  process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-jobs-cluster.md')}\n`);
}
