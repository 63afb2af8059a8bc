/**
 * Where jobs wait and where triggers live. The embedded engine (broker-sqlite.ts) keeps both in one
 * SQLite file for every instance of the process; the scale-out engine (Redis and PostgreSQL) comes with
 * the scale-out issue and implements the same two interfaces.
 */
import type { PermissionSet } from '../permissions/rules.js';
import type { JobDoc, JobOptions, JobState, TriggerDoc, TriggerState } from './types.js';

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

export interface JobQuery {
  worker?: string;
  triggerId?: string;
  states?: JobState[];
  limit: number;
}

export interface Broker {
  /** Durable when it resolves. */
  push(job: NewJob, now: number): Promise<JobDoc>;
  /** Takes the next due job of this worker (highest priority, then oldest) and marks it running, one try more. */
  claim(worker: string, now: number): Promise<JobDoc | null>;
  complete(id: string, now: number): Promise<JobDoc>;
  /**
   * A run failed: queued again at `retryAt`, or errored for good when it is null.
   * `countTry: false` gives the try back (the run was cut by a graceful shutdown).
   */
  fail(id: string, error: string, retryAt: number | null, now: number, countTry?: boolean): Promise<JobDoc>;
  get(domain: string, id: string): Promise<JobDoc | null>;
  list(domain: string, query: JobQuery): Promise<JobDoc[]>;
  /** The state a client reports for the job it ran (PATCH /jobs/:id). */
  report(domain: string, id: string, state: 'done' | 'errored', error: string | undefined, now: number): Promise<JobDoc>;
  /** When the next queued job of this worker is due, or null. */
  nextDue(worker: string): Promise<number | null>;
  /** Jobs left running by a process that died: queued again if tries are left, errored otherwise. */
  recover(now: number): Promise<JobDoc[]>;
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
  put(doc: TriggerDoc, nextRunAt: number | null): Promise<void>;
  get(domain: string, id: string): Promise<TriggerDoc | null>;
  /** A trigger by id alone (webhooks carry no instance-bound token). */
  find(id: string): Promise<TriggerDoc | null>;
  list(domain: string, query: TriggerQuery): Promise<TriggerDoc[]>;
  delete(domain: string, id: string): Promise<boolean>;
  /** Time triggers whose next run is due, soonest first. */
  due(now: number, limit: number): Promise<Array<{ doc: TriggerDoc; nextRunAt: number }>>;
  setNextRun(id: string, nextRunAt: number | null): Promise<void>;
  /** When the soonest time trigger is due, or null. */
  nextDue(): Promise<number | null>;
  /** Every trigger of these types, over all instances (the @event subscriptions at start-up). */
  ofType(type: string): Promise<TriggerDoc[]>;
  /** Changes the trigger's current_state in place (no-op if it was deleted). */
  updateState(id: string, change: (state: TriggerState) => TriggerState): Promise<void>;
  /** Deletes a trigger by id alone (a one-shot trigger once fired). */
  remove(id: string): Promise<void>;
  /** Deletes every trigger of an instance (the instance is destroyed), by its id. */
  dropInstance(instanceId: string): Promise<void>;
}
