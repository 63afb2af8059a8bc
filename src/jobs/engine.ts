/**
 * Runs jobs: a pool per worker (its concurrency over all instances), a timeout per run, retries
 * with exponential backoff up to `max_exec_count`, and events on the bus for io.cozy.jobs (each
 * state change) and io.cozy.jobs.events (what a run emits). Triggers' `current_state` follows
 * their jobs. Queued jobs wait in the broker, so they survive a restart.
 *
 * Several processes may share one broker (broker-pg.ts): each running job is leased to the process that claimed it,
 * which renews the lease every third of `leaseMs` while the job runs. Every process looks for expired leases as often
 * (`recover`) and gives their jobs back to the queue: a process killed in the middle of a job loses it after at most
 * `leaseMs`, and no live process ever loses one it keeps renewing. A run whose lease was taken over (this process was
 * cut from the database longer than the lease) is aborted, and its late end is refused by the broker and logged.
 * Leases count in wall-clock time (`Date.now()`), whatever clock the runs use.
 */
import type { Logger } from 'pino';
import { BadRequest, NotFound } from '../common/errors.js';
import { pace } from '../common/pace.js';
import type { EventBus } from '../common/bus.js';
import type { Instance } from '../instances/types.js';
import type { PermissionSet } from '../permissions/rules.js';
import { LeaseLost, type Broker, type NewJob, type TriggerChange, type TriggerStore } from './broker.js';
import { JOB_EVENTS_DOCTYPE, JOBS_DOCTYPE, PermanentJobError, type JobDoc, type JobOptions, type TriggerState, type WorkerDef } from './types.js';

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

export interface EngineDeps {
  broker: Broker;
  triggers: TriggerStore;
  workers: WorkerDef[];
  instanceOf(domain: string): Promise<Instance | null>;
  bus: EventBus;
  logger: Logger;
  clock?: Clock;
  /** The wait before try n+1 after try n failed (default 15 s · 2^(n-1), at most 10 min). */
  retryDelayMs?: (tries: number) => number;
  /** How long a running job stays leased without a renewal (default LEASE_MS). */
  leaseMs?: number;
}

/**
 * 30 s: renewed every 10 s, so a lease survives two lost renewals (a database fail-over, a long pause of the process)
 * before another process may take the job, while a job of a killed process waits at most half a minute to run again.
 */
export const LEASE_MS = 30_000;

export interface PushSpec {
  worker: string;
  message?: unknown;
  options?: JobOptions | null;
  trigger_id?: string;
  manual?: boolean;
  event?: JobDoc['event'];
  payload?: unknown;
  /** The rights of the token that queued the job: its worker acts with them (none: the stack's own job). */
  rights?: PermissionSet;
  /** The instance's id (a trigger's job); otherwise that of the instance that has the domain now. */
  instanceId?: string;
  delayMs?: number;
  /** The job is run by a client (@client), not by the server. */
  byClient?: boolean;
}

interface Pool {
  def: WorkerDef;
  concurrency: number;
  running: number;
  pumping: boolean;
  again: boolean;
  timer: NodeJS.Timeout | null;
}

const SHUTDOWN = new Error('the server is shutting down');
const LEASE_LOST = new Error('the job\'s lease was lost (this process could not renew it in time): another process runs it');
/** Worker names that exist without a server-side worker: the client runs them. */
const CLIENT_WORKER = 'client';

export class JobEngine {
  private readonly pools = new Map<string, Pool>();
  private readonly active = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly clock: Clock;
  private readonly retryDelay: (tries: number) => number;
  private readonly leaseMs: number;
  private leaseTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly deps: EngineDeps) {
    this.clock = deps.clock ?? systemClock;
    this.retryDelay = deps.retryDelayMs ?? ((n) => Math.min(15_000 * 2 ** Math.max(0, n - 1), 600_000));
    this.leaseMs = deps.leaseMs ?? LEASE_MS;
    for (const def of deps.workers) {
      this.pools.set(def.name, { def, concurrency: Math.max(1, def.concurrency ?? 1), running: 0, pumping: false, again: false, timer: null });
    }
  }

  get broker(): Broker {
    return this.deps.broker;
  }

  worker(name: string): WorkerDef | undefined {
    return this.pools.get(name)?.def;
  }

  /** A worker a job or a trigger may name: a registered one, or `client`. */
  knows(name: string): boolean {
    return name === CLIENT_WORKER || this.pools.has(name);
  }

  async start(): Promise<void> {
    await this.recover();
    // a job queued by another process (`*`: any worker's, after a lost connection)
    await this.deps.broker.watch((worker) => {
      for (const pool of worker === '*' ? this.pools.values() : [this.pools.get(worker)]) if (pool) void this.pump(pool);
    });
    for (const pool of this.pools.values()) void this.pump(pool);
    this.leaseTimer = setInterval(() => void this.leases(), this.leaseMs / 3);
    this.leaseTimer.unref();
  }

  /** Gives back the jobs of dead processes (their lease ended). */
  private async recover(): Promise<void> {
    const recovered = await this.deps.broker.recover(this.clock.now(), Date.now());
    for (const job of recovered) {
      this.publish(job);
      const abandoned = job.state === 'errored' ? this.pools.get(job.worker)?.def.abandoned : undefined;
      if (abandoned) void abandoned(job).catch((err: unknown) => this.deps.logger.error({ err, job_id: job._id, worker: job.worker }, 'a job given up after a stop was not cleaned up'));
    }
    if (!recovered.length) return;
    this.deps.logger.warn({ count: recovered.length }, 'jobs cut short by a process that stopped were re-queued or errored');
    for (const worker of new Set(recovered.map((j) => j.worker))) {
      const pool = this.pools.get(worker);
      if (pool) void this.pump(pool);
    }
  }

  /** Renews the leases of this process's runs (aborting those it lost), then recovers the expired ones of others. */
  private async leases(): Promise<void> {
    try {
      const ids = [...this.active.keys()];
      if (ids.length) {
        const held = new Set(await this.deps.broker.renew(ids, Date.now() + this.leaseMs));
        for (const id of ids) if (!held.has(id)) this.active.get(id)?.controller.abort(LEASE_LOST);
      }
      if (!this.closed) await this.recover();
    } catch (err) {
      this.deps.logger.error({ err }, 'the leases of running jobs could not be renewed or recovered');
    }
  }

  /** The options a job runs with: the caller's, bounded, over the worker's defaults. */
  optionsFor(worker: string, options: JobOptions | null | undefined): Required<JobOptions> {
    const def = this.pools.get(worker)?.def;
    const timeout = options?.timeout ?? def?.timeoutSeconds ?? 60;
    const max = options?.max_exec_count ?? def?.maxExecCount ?? 1;
    if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 86_400) throw new BadRequest('options.timeout must be a number of seconds between 1 and 86400');
    if (!Number.isInteger(max) || max < 1 || max > 20) throw new BadRequest('options.max_exec_count must be an integer between 1 and 20');
    return { timeout, max_exec_count: max };
  }

  push(domain: string, spec: PushSpec): Promise<JobDoc> {
    // (without an id the broker always queues the job: never null)
    return this.enqueue(domain, spec, null) as Promise<JobDoc>;
  }

  /** A job of the id `id` is queued once over all pushes and processes (Broker.pushOnce): null when it exists already. */
  pushOnce(domain: string, spec: PushSpec & { id: string }): Promise<JobDoc | null> {
    return this.enqueue(domain, spec, spec.id);
  }

  private async enqueue(domain: string, spec: PushSpec, id: string | null): Promise<JobDoc | null> {
    if (this.closed) throw new Error(SHUTDOWN.message);
    if (!spec.byClient && !this.pools.has(spec.worker)) throw new NotFound(`there is no worker named "${spec.worker}"`);
    const now = this.clock.now();
    const job: NewJob = {
      domain, worker: spec.worker, message: spec.message ?? null, options: this.optionsFor(spec.worker, spec.options),
      runAt: now + Math.max(0, spec.delayMs ?? 0), priority: spec.manual ? 1 : 0,
      ...(spec.trigger_id ? { trigger_id: spec.trigger_id } : {}),
      ...(spec.manual ? { manual: true } : {}),
      ...(spec.event ? { event: spec.event } : {}),
      ...(spec.payload !== undefined ? { payload: spec.payload } : {}),
      ...(spec.rights ? { rights: spec.rights } : {}),
      ...(spec.instanceId ? { instanceId: spec.instanceId } : {}),
      ...(spec.byClient ? { state: 'running' as const } : {}),
    };
    // the trigger's state changes in the job's commit: a run that ends at once (another pump claimed it) comes after it
    const change = (queued: JobDoc) => this.change(queued, queued.state === 'running' ? 'started' : 'queued');
    const doc = id === null ? await this.deps.broker.push(job, now, change) : await this.deps.broker.pushOnce({ ...job, id }, now, change);
    if (!doc) return null;
    this.publish(doc, 'CREATED');
    const pool = this.pools.get(spec.worker);
    if (pool && !spec.byClient) void this.pump(pool);
    return doc;
  }

  /** A client reports the end of the job it ran (PATCH /jobs/:id). */
  async report(domain: string, id: string, state: 'done' | 'errored', error?: string): Promise<JobDoc> {
    const doc = await this.deps.broker.report(domain, id, state, error, this.clock.now());
    await this.track(doc, state === 'done' ? 'done' : 'errored');
    this.publish(doc);
    return doc;
  }

  private async pump(pool: Pool): Promise<void> {
    if (this.closed) return;
    if (pool.pumping) {
      pool.again = true;
      return;
    }
    pool.pumping = true;
    try {
      do {
        pool.again = false;
        while (!this.closed && pool.running < pool.concurrency) {
          await pace(); // claims in a row, each starting a job: in short slices of the event loop (common/pace.ts)
          const job = await this.deps.broker.claim(pool.def.name, this.clock.now(), Date.now() + this.leaseMs);
          if (!job) break;
          pool.running++;
          const done = this.execute(pool, job).finally(() => {
            pool.running--;
            this.active.delete(job._id);
            void this.pump(pool);
          });
          const entry = this.active.get(job._id);
          if (entry) entry.done = done;
        }
        // a wake-up that came while the queue was read (a job pushed after the read's snapshot) reads it again: the
        // read of the next due time may not see that job either, and nothing else would wake this pool for it
        if (!pool.again) await this.arm(pool);
      } while (pool.again && !this.closed);
    } catch (err) {
      this.deps.logger.error({ err, worker: pool.def.name }, 'the job queue could not be read: trying again in 5 s');
      if (pool.timer) clearTimeout(pool.timer);
      pool.timer = setTimeout(() => void this.pump(pool), 5000);
      pool.timer.unref();
    } finally {
      pool.pumping = false;
    }
  }

  /** Wakes the pool when its next delayed job (a retry, a debounce) is due. */
  private async arm(pool: Pool): Promise<void> {
    if (pool.timer) clearTimeout(pool.timer);
    pool.timer = null;
    if (pool.running >= pool.concurrency) return;
    const due = await this.deps.broker.nextDue(pool.def.name);
    if (due === null || this.closed) return;
    const wait = Math.min(Math.max(0, due - this.clock.now()), 60_000);
    pool.timer = setTimeout(() => void this.pump(pool), wait);
    pool.timer.unref();
  }

  private async execute(pool: Pool, job: JobDoc): Promise<void> {
    const controller = new AbortController();
    this.active.set(job._id, { controller, done: Promise.resolve() });
    const log = this.deps.logger.child({ domain: job.domain, job_id: job._id, worker: job.worker });
    const timeoutMs = job.options.timeout! * 1000;
    const timer = setTimeout(() => controller.abort(new Error(`the job ran for more than its timeout of ${job.options.timeout} s`)), timeoutMs);
    try {
      if (job.trigger_id) await this.track(job, 'started');
      this.publish(job);
      const instance = await this.deps.instanceOf(job.domain);
      // the domain may now be another instance's: a job runs only for the instance it was queued for
      if (!instance || (job.instance_id !== undefined && instance.id !== job.instance_id)) throw new PermanentJobError(`the instance ${job.domain} no longer exists`);
      const emit = (event: Record<string, unknown>) =>
        this.deps.bus.publish({ domain: job.domain, doctype: JOB_EVENTS_DOCTYPE, id: job._id, verb: 'CREATED', doc: { _id: job._id, job_id: job._id, worker: job.worker, ...event } });
      // stopped (the server closing, the timeout) during the awaits above: the worker is not started at all
      controller.signal.throwIfAborted();
      await raceAbort(pool.def.run({ instance, job, signal: controller.signal, log, emit }), controller.signal);
      // the trigger's state is written in the same commit as the job's row: no reader sees the job done and its trigger running
      this.publish(await this.deps.broker.complete(job._id, this.clock.now(), this.change(job, 'done')));
    } catch (err) {
      try {
        if (err instanceof LeaseLost) throw err;
        await this.failed(job, err, controller.signal, log);
      } catch (e) {
        if (e instanceof LeaseLost) log.warn({ err: e.message }, 'the end of a run was refused: its lease had been taken over');
        else log.error({ err: e }, 'the end of a run could not be recorded: the job goes back to the queue when its lease ends');
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private async failed(job: JobDoc, err: unknown, signal: AbortSignal, log: Logger): Promise<void> {
    const interrupted = signal.aborted && signal.reason === SHUTDOWN;
    const reason = signal.aborted ? (signal.reason as Error) : err;
    const message = reason instanceof Error ? reason.message : String(reason);
    const now = this.clock.now();
    const tries = job.tries ?? 1;
    const retry = interrupted || (!(err instanceof PermanentJobError) && tries < job.options.max_exec_count!);
    const retryAt = interrupted ? now : retry ? now + this.retryDelay(tries) : null;
    log.warn({ err: message, tries, retry }, 'job failed');
    const change = this.change({ ...job, error: message }, retryAt === null ? 'errored' : 'queued');
    this.publish(await this.deps.broker.fail(job._id, message, retryAt, now, !interrupted, change));
  }

  /** An io.cozy.jobs event (realtime subscribers get it): without what is never served, the rights and the instance's id. */
  private publish(doc: JobDoc, verb: 'CREATED' | 'UPDATED' = 'UPDATED'): void {
    const { rights: _rights, instance_id: _instance, ...shown } = doc;
    this.deps.bus.publish({ domain: doc.domain, doctype: JOBS_DOCTYPE, id: doc._id, verb, doc: shown as Record<string, unknown> });
  }

  /**
   * Keeps the trigger's current_state in step with its jobs. Called before the job's event is published: a client told
   * that a job ended (realtime, `hearth triggers launch`) then reads its trigger's new state, whose write is durable by then.
   */
  private async track(job: JobDoc, what: 'queued' | 'started' | 'done' | 'errored'): Promise<void> {
    const change = this.change(job, what)!;
    await this.deps.triggers.updateState(job.trigger_id!, (s): TriggerState => ({ ...s, ...change }));
  }

  /** What a step of a job changes in its trigger's current_state (none for a job without trigger). */
  private change(job: JobDoc, what: 'queued' | 'started' | 'done' | 'errored'): TriggerChange | undefined {
    if (!job.trigger_id) return undefined;
    const at = new Date(this.clock.now()).toISOString();
    if (what === 'queued') return { status: 'queued' };
    if (what === 'started') {
      const next: TriggerChange = { status: 'running', last_execution: at, last_executed_job_id: job._id };
      return job.manual_execution ? { ...next, last_manual_execution: at, last_manual_job_id: job._id } : next;
    }
    if (what === 'done') return { status: 'done', last_success: at, last_successful_job_id: job._id };
    return { status: 'errored', last_failure: at, last_failed_job_id: job._id, last_error: job.error ?? '' };
  }

  /** Stops taking jobs; running ones are told to stop and get their try back. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    for (const pool of this.pools.values()) if (pool.timer) clearTimeout(pool.timer);
    const running = [...this.active.values()];
    for (const { controller } of running) controller.abort(SHUTDOWN);
    await Promise.race([Promise.allSettled(running.map((r) => r.done)), new Promise((r) => setTimeout(r, 5000).unref())]);
  }
}

/** Settles with the run, or rejects when the signal aborts (a worker that ignores its signal is not waited for). */
function raceAbort(run: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    // the run is not waited for: its own rejection (often this same reason) must not go unhandled
    run.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    run.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
