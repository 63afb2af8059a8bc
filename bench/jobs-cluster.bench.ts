/**
 * Jobs on PostgreSQL with 1, 2 and 3 job systems (each with its own pool, as separate processes would have; here in
 * one Node process, so they share its event loop and the machine's two cores) beside the embedded SQLite broker:
 * N no-op jobs pushed through the first system (16 pushes in flight), run by a worker of concurrency 4 in each system.
 * Reports pushes per second and jobs run per second (first push to last job done). The PostgreSQL server is the tests'
 * (test/helpers/servers/postgres.ts: fsync off), so its numbers leave out the disk's flush, which SQLite's include.
 * Run: node --import tsx bench/jobs-cluster.bench.ts (BENCH_JOBS=N, default 2000). Prints a Markdown table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { InProcessBus } from '../src/common/bus.js';
import { createPgPool, type PgPool } from '../src/engines/postgres.js';
import type { InstanceRegistry } from '../src/instances/types.js';
import type { WorkerDef } from '../src/jobs/types.js';
import { createJobSystem, type JobSystem } from '../src/server/jobs.js';
import { fakeInstance } from '../test/helpers/jobs.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 2000);
const instance = { ...fakeInstance('bench.jobs.example'), id: 'be0c0000000000000000000000000002' };
const registry = { get: async (d: string) => (d === instance.domain ? instance : null) } as unknown as InstanceRegistry;

async function run(label: string, systems: number, url: string | null): Promise<string> {
  let done = 0;
  let finished: () => void = () => undefined;
  const all = new Promise<void>((r) => (finished = r));
  const worker: WorkerDef = { name: 'noop', concurrency: 4, async run() {
    if (++done === JOBS) finished();
  } };
  const opened: Array<{ jobs: JobSystem; pool: PgPool | null; dir: string }> = [];
  for (let i = 0; i < systems; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-bench-jobs-'));
    const pool = url ? createPgPool({ url, max: 5, name: 'bench' }) : null;
    const jobs = createJobSystem({ dataDir: dir, bus: new InProcessBus(), logger: pino({ level: 'silent' }), registry, workers: [worker], pg: pool, housekeepingMs: 0 });
    await jobs.start();
    opened.push({ jobs, pool, dir });
  }
  const first = opened[0]!.jobs;
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < JOBS) {
      next++;
      await first.engine.push(instance.domain, { worker: 'noop' });
    }
  }));
  const pushed = performance.now() - t0;
  await all;
  const ran = performance.now() - t0;
  for (const o of opened) {
    await o.jobs.close();
    await o.pool?.end();
    rmSync(o.dir, { recursive: true, force: true });
  }
  return `| ${label} | ${systems} | ${JOBS} | ${Math.round(JOBS / (pushed / 1000))} | ${Math.round(JOBS / (ran / 1000))} |`;
}

const rows = ['| broker | systems | jobs | pushed / s | run / s |', '|---|---|---|---|---|'];
rows.push(await run('SQLite (jobs.sqlite)', 1, null));
const server = await startPostgres();
try {
  for (const n of [1, 2, 3]) rows.push(await run('PostgreSQL', n, await server.database_url(`bench_${n}`)));
} finally {
  await server.stop();
}
process.stdout.write(`${rows.join('\n')}\n`);
