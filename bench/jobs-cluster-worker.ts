/**
 * One job-running process for jobs-cluster.bench.ts, compiled like the other benchmark servers:
 * `node jobs-cluster-worker.js <dataDir> <postgres://…|sqlite>`, with an IPC channel. It opens a job system (the
 * PostgreSQL broker on that database, or the embedded SQLite one in <dataDir>) with a no-op worker `noop` (concurrency 4)
 * and reports how many jobs it ran ({ran}) every 100 ms while that changes. Messages: {cmd: 'push', n} pushes n jobs
 * (16 in flight) and answers {cmd: 'pushed', ms}; {cmd: 'stop'} closes and exits. Sends {ready: true} once started.
 */
import { pino } from 'pino';
import { InProcessBus } from '../src/common/bus.js';
import { createPgPool } from '../src/engines/postgres.js';
import type { InstanceRegistry } from '../src/instances/types.js';
import type { WorkerDef } from '../src/jobs/types.js';
import { createJobSystem } from '../src/server/jobs.js';
import { fakeInstance } from '../test/helpers/jobs.js';

const [dataDir, url] = process.argv.slice(2);
if (!dataDir || !url || !process.send) throw new Error('usage: jobs-cluster-worker.js <dataDir> <postgres://…|sqlite>, with an IPC channel');
const send = (msg: unknown) => process.send!(msg);
const instance = { ...fakeInstance('bench.jobs.example'), id: 'be0c0000000000000000000000000002' };
const registry = { get: async (d: string) => (d === instance.domain ? instance : null) } as unknown as InstanceRegistry;
let ran = 0;
const worker: WorkerDef = { name: 'noop', concurrency: 4, async run() {
  ran++;
} };
const pool = url === 'sqlite' ? null : createPgPool({ url, max: 5, name: 'bench' });
const jobs = createJobSystem({ dataDir, bus: new InProcessBus(), logger: pino({ level: 'silent' }), registry, workers: [worker], pg: pool, housekeepingMs: 0 });
await jobs.start();
let reported = 0;
setInterval(() => {
  if (ran !== reported) send({ ran: (reported = ran) });
}, 100);

process.on('message', (raw) => {
  const msg = raw as { cmd: string; n?: number };
  if (msg.cmd === 'push') {
    const t0 = performance.now();
    let next = 0;
    void Promise.all(Array.from({ length: 16 }, async () => {
      while (next < msg.n!) {
        next++;
        await jobs.engine.push(instance.domain, { worker: 'noop' });
      }
    })).then(() => send({ cmd: 'pushed', ms: performance.now() - t0 }));
  }
  if (msg.cmd === 'stop') void jobs.close().then(() => pool?.end()).then(() => process.exit(0));
});
send({ ready: true });
