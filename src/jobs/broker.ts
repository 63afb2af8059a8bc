/**
 * Where jobs wait and where triggers live. The embedded engine (broker-sqlite.ts) keeps both in one
 * SQLite file for every instance of the process; the scale-out engine (broker-pg.ts) keeps them in PostgreSQL,
 * shared by every process of a cluster. Both have one semantic:
 * - a running job is **leased** by the process that claimed it (`owner`) until `lease_until` (wall-clock ms), which
 *   the engine renews while the job runs; only the owner completes or fails it (anyone else gets a Conflict);
 * - `recover` gives back the jobs whose lease ended (their process died), never those a live process holds;
 * - a time trigger's slot is taken by one `advance` (compare-and-set on its next run): one process fires it.
 */
import { Conflict } from '../common/errors.js';
import type { PermissionSet } from '../permissions/rules.js';
import type { JobDoc, JobOptions, JobState, TriggerDoc, TriggerState } from './types.js';

/** Fields of a trigger's current_state that a step of its job sets (the others are kept). */
export type TriggerChange = Partial<TriggerState> & Pick<TriggerState, 'status'>;

/** The refusal of a run's end by a process whose lease on the job was taken over (it ran too long without renewing). */
export class LeaseLost extends Conflict {
  constructor(id: string, state: JobState) {
    super(`the job ${id} is no longer leased to this process (it is ${state}): its run was given to another`);
  }
}

export interface NewJob {
  domain: string;
  worker: string;
  message: unknown;
  options: Required<JobOptions>;
  trigger_id?: string;
  manual?: boolean;
  event?: JobDoc['event'];
  payload?: unknown;
  /** The rights of the token that queued the job (JobDoc.rights). */
  rights?: PermissionSet;
  /** The instance's id (a trigger's job): otherwise the id of the instance that has `domain` now. */
  instanceId?: string;
  /** Not before this time (ms): a debounce or a retry. */
  runAt: number;
  /** Higher first: manual runs go before automatic ones. */
  priority?: number;
  /** `running` for the jobs a client runs itself (@client triggers): the engine never claims them. */
  state?: 'queued' | 'running';
}

/** How long a finished job is kept before the housekeeping purges it (server/housekeeping.ts). */
export const FINISHED_JOBS_KEPT_MS = 30 * 24 * 3_600_000;

export interface JobQuery {
  worker?: string;
  triggerId?: string;
  states?: JobState[];
  limit: number;
}

export interface Broker {
  /** This process's id: the owner of the leases it takes. */
  readonly owner: string;
  /** Durable when it resolves. `trigger`: the change of the job's trigger's current_state, in the same commit. */
  push(job: NewJob, now: number, trigger?: (job: JobDoc) => TriggerChange | undefined): Promise<JobDoc>;
  /**
   * As `push`, with the job's id given by the caller: a job of this id is queued once, whatever the number of pushes and
   * the processes making them (the run of an @event trigger for one revision, pushed when the write is heard and again
   * when the changes are swept). Null when a job of this id exists already: nothing is queued, no trigger changes.
   */
  pushOnce(job: NewJob & { id: string }, now: number, trigger?: (job: JobDoc) => TriggerChange | undefined): Promise<JobDoc | null>;
  /**
   * Takes the next due job of this worker (highest priority, then oldest) and marks it running, one try more, leased
   * to this process until `leaseUntil` (wall-clock ms). Each queued job is taken by one claim only, whatever the process.
   */
  claim(worker: string, now: number, leaseUntil: number): Promise<JobDoc | null>;
  /** Extends the leases of these running jobs of this process; returns the ids it still holds (the others were taken over). */
  renew(ids: string[], leaseUntil: number): Promise<string[]>;
  /**
   * The run ended well; a LeaseLost (409) when this process no longer holds the job's lease (it was given to another).
   * `trigger`: merged into the current_state of the job's trigger in the same commit (no reader sees one without the other).
   */
  complete(id: string, now: number, trigger?: TriggerChange): Promise<JobDoc>;
  /**
   * A run failed: queued again at `retryAt`, or errored for good when it is null.
   * `countTry: false` gives the try back (the run was cut by a graceful shutdown). A LeaseLost and `trigger` as for `complete`.
   */
  fail(id: string, error: string, retryAt: number | null, now: number, countTry?: boolean, trigger?: TriggerChange): Promise<JobDoc>;
  get(domain: string, id: string): Promise<JobDoc | null>;
  list(domain: string, query: JobQuery): Promise<JobDoc[]>;
  /** The state a client reports for the job it ran (PATCH /jobs/:id). */
  report(domain: string, id: string, state: 'done' | 'errored', error: string | undefined, now: number): Promise<JobDoc>;
  /** When the next queued job of this worker is due, or null. */
  nextDue(worker: string): Promise<number | null>;
  /**
   * Jobs left running by a process that died (their lease ended before `leaseNow`, wall-clock ms): queued again at
   * `now` if tries are left, errored otherwise. Never the jobs whose lease a live process keeps renewing.
   */
  recover(now: number, leaseNow: number): Promise<JobDoc[]>;
  /** Calls `wake(worker)` when another process queues a job of `worker` (no-op where one process has the broker). */
  watch(wake: (worker: string) => void): Promise<void>;
  /** A queued job of this trigger that has not started yet (a debounce in progress). */
  pendingFor(triggerId: string): Promise<boolean>;
  /** Deletes the finished jobs of an instance queued before `before`; returns how many. */
  purge(domain: string, before: number, workers: string[] | null): Promise<number>;
  /** Deletes every job of an instance (the instance is destroyed), by its id. */
  dropInstance(instanceId: string): Promise<void>;
  close(): Promise<void>;
}

export interface TriggerQuery {
  workers?: string[];
  types?: string[];
}

export interface TriggerStore {
  /** Stores the trigger; `durable` false: without waiting for the disk (`sync()` makes it durable later). */
  put(doc: TriggerDoc, nextRunAt: number | null, durable?: boolean): Promise<void>;
  /** Resolves once every write made before the call is durable. */
  sync(): Promise<void>;
  get(domain: string, id: string): Promise<TriggerDoc | null>;
  /** A trigger by id alone (webhooks carry no instance-bound token). */
  find(id: string): Promise<TriggerDoc | null>;
  list(domain: string, query: TriggerQuery): Promise<TriggerDoc[]>;
  delete(domain: string, id: string): Promise<boolean>;
  /** Time triggers whose next run is due, soonest first. */
  due(now: number, limit: number): Promise<Array<{ doc: TriggerDoc; nextRunAt: number }>>;
  /**
   * Takes the slot `from` of a time trigger: its next run becomes `to` (null: the trigger is deleted, a one-shot),
   * only if it still is `from`. True for the one caller, over all processes, whose change matched: it fires the slot.
   */
  advance(id: string, from: number, to: number | null): Promise<boolean>;
  /** When the soonest time trigger is due, or null. */
  nextDue(): Promise<number | null>;
  /** Every trigger of these types, over all instances (the @event subscriptions at start-up). */
  ofType(type: string): Promise<TriggerDoc[]>;
  /** Changes the trigger's current_state in place (no-op if it was deleted). */
  updateState(id: string, change: (state: TriggerState) => TriggerState): Promise<void>;
  /** Deletes every trigger of an instance (the instance is destroyed), by its id. */
  dropInstance(instanceId: string): Promise<void>;
  /** How far the sweep of an @event trigger went in its doctypes' changes feeds (event-sweep.ts); null if never saved. */
  eventCursor(id: string): Promise<EventCursor | null>;
  /** Saves the sweep's position only if it still is `from` (compare-and-set); false otherwise (or the trigger is gone). */
  moveEventCursor(id: string, from: EventCursor | null, to: EventCursor, durable?: boolean): Promise<boolean>;
}

/**
 * Per doctype: the last change swept (`seq` of its changes feed), and when that position was read (ms). Under the key
 * `@stamp` (never a doctype's name): the write stamp of the instance (DocStoreFactory.writeStamps) with which the cursor
 * was found at the current positions, if it was (event-sweep.ts).
 */
export type EventCursor = Record<string, { seq: string; at: number }>;
