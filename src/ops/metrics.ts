/**
 * Prometheus metrics, served by the admin API at GET /metrics (ops/routes.ts). One Registry per
 * Hearth (never prom-client's global one): HTTP durations of the public API by route pattern and
 * status, job runs by worker and outcome (from the io.cozy.jobs events of the bus), open realtime
 * connections, instances, the size of the SQLite files, and Node's default metrics. Gauges that
 * need a look at the disk or the registry are computed when Prometheus scrapes, not on a timer.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventBus, Unsubscribe } from '../common/bus.js';
import { JOBS_DOCTYPE, type JobDoc } from '../jobs/types.js';

export interface MetricsDeps {
  /** Where registry.sqlite, sessions.sqlite, jobs.sqlite and instances/<id>/docs.sqlite live. */
  dataDir: string;
  instanceCount(): Promise<number>;
  /** Open realtime (websocket) connections; the gauge reads 0 until one is given (see `countRealtimeConnections`). */
  realtimeConnections?: () => number;
}

/** Label of requests no route matched (404s): never the raw URL, which would make one series per URL. */
export const UNMATCHED_ROUTE = '(unmatched)';
/** The engine's message when a run outlives its timeout (jobs/engine.ts). */
const TIMEOUT = /ran for more than its timeout/;
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600];

/** Bytes of a SQLite database: its file and its write-ahead log (0 when absent). */
async function sqliteBytes(file: string): Promise<number> {
  const sizes = await Promise.all([file, `${file}-wal`].map((f) => stat(f).then((s) => s.size, () => 0)));
  return sizes[0]! + sizes[1]!;
}

export class HearthMetrics {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly jobRuns: Counter<'worker' | 'state'>;
  private readonly jobDuration: Histogram<'worker' | 'state'>;
  private readonly jobTimeouts: Counter<'worker'>;
  private readonly jobsQueued: Counter<'worker'>;
  private realtime: () => number;
  private defaults = false;

  constructor(private readonly deps: MetricsDeps) {
    const registers = [this.registry];
    this.realtime = deps.realtimeConnections ?? (() => 0);
    this.httpDuration = new Histogram({
      name: 'hearth_http_request_duration_seconds',
      help: 'Duration of the public API requests, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.jobsQueued = new Counter({ name: 'hearth_jobs_queued_total', help: 'Jobs queued, by worker', labelNames: ['worker'], registers });
    this.jobRuns = new Counter({
      name: 'hearth_job_executions_total',
      help: 'Job runs that ended, by worker and state (done, errored, or retry when it will run again)',
      labelNames: ['worker', 'state'],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'hearth_job_duration_seconds',
      help: 'Duration of the job runs, by worker and state',
      labelNames: ['worker', 'state'],
      buckets: JOB_BUCKETS,
      registers,
    });
    this.jobTimeouts = new Counter({ name: 'hearth_job_timeouts_total', help: 'Job runs stopped by their timeout, by worker', labelNames: ['worker'], registers });
    const realtime = () => this.realtime();
    new Gauge({
      name: 'hearth_realtime_connections', help: 'Open realtime (websocket) connections', registers,
      collect() { this.set(realtime()); },
    });
    const count = () => this.deps.instanceCount();
    new Gauge({
      name: 'hearth_instances', help: 'Instances served by this process', registers,
      async collect() { this.set(await count()); },
    });
    const sizes = () => this.databaseSizes();
    new Gauge({
      name: 'hearth_database_size_bytes',
      help: 'Bytes of the SQLite databases (file and write-ahead log); instances_docs sums every instance\'s docs.sqlite',
      labelNames: ['db'], registers,
      async collect() {
        for (const [db, bytes] of Object.entries(await sizes())) this.set({ db }, bytes);
      },
    });
  }

  /** Wires the realtime hub's count once it exists. */
  countRealtimeConnections(count: () => number): void {
    this.realtime = count;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * The text exposition format. Node's default metrics are set up on the first scrape: their
   * observers (GC, event-loop delay) cost nothing to a process nobody scrapes, such as a test's.
   */
  metrics(): Promise<string> {
    if (!this.defaults) {
      this.defaults = true;
      collectDefaultMetrics({ register: this.registry });
    }
    return this.registry.metrics();
  }

  /** Times every response of `app` by its route pattern (`/data/:doctype/:docid`, never the URL). */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (req, reply) => {
      const route = req.routeOptions.url ?? UNMATCHED_ROUTE;
      this.httpDuration.observe({ method: req.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });
  }

  /** Counts the job runs from the engine's io.cozy.jobs events (every state change is one). */
  observeJobs(bus: EventBus): Unsubscribe {
    return bus.subscribe('*', JOBS_DOCTYPE, (event) => {
      const job = event.doc as unknown as JobDoc;
      if (event.verb === 'CREATED') {
        this.jobsQueued.inc({ worker: job.worker });
        return;
      }
      // an UPDATED job that is not running has just ended a run: done, errored for good, or queued again
      if (event.verb !== 'UPDATED' || job.state === 'running') return;
      if (job.state === 'queued' && job.error === undefined) return;
      const state = job.state === 'queued' ? 'retry' : job.state;
      this.jobRuns.inc({ worker: job.worker, state });
      if (job.error !== undefined && TIMEOUT.test(job.error)) this.jobTimeouts.inc({ worker: job.worker });
      const started = job.started_at ? Date.parse(job.started_at) : NaN;
      const ended = job.finished_at ? Date.parse(job.finished_at) : Date.now();
      if (Number.isFinite(started)) this.jobDuration.observe({ worker: job.worker, state }, Math.max(0, ended - started) / 1000);
    });
  }

  /** The SQLite files, measured now: one stat per file, one directory listing for the instances. */
  async databaseSizes(): Promise<Record<string, number>> {
    const dir = this.deps.dataDir;
    const instancesDir = join(dir, 'instances');
    const ids = await readdir(instancesDir).catch(() => [] as string[]);
    const [registry, sessions, jobs, ...docs] = await Promise.all([
      sqliteBytes(join(dir, 'registry.sqlite')),
      sqliteBytes(join(dir, 'sessions.sqlite')),
      sqliteBytes(join(dir, 'jobs.sqlite')),
      ...ids.map((id) => sqliteBytes(join(instancesDir, id, 'docs.sqlite'))),
    ]);
    return { registry: registry!, sessions: sessions!, jobs: jobs!, instances_docs: docs.reduce((a, b) => a + b, 0) };
  }
}
