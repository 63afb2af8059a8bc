/**
 * Jobs and triggers, as cozy-stack shapes them (docs/jobs.md): the documents, the worker
 * contract, and the typed errors a worker throws. The broker (where jobs wait) and the
 * scheduler (what creates them) are behind interfaces in broker.ts and scheduler.ts.
 */
import type { Logger } from 'pino';
import type { Instance } from '../instances/types.js';
import type { PermissionSet } from '../permissions/rules.js';

export const JOBS_DOCTYPE = 'io.cozy.jobs';
export const TRIGGERS_DOCTYPE = 'io.cozy.triggers';
export const JOB_EVENTS_DOCTYPE = 'io.cozy.jobs.events';

export type JobState = 'queued' | 'running' | 'done' | 'errored';

export interface JobOptions {
  /** Seconds before the run is aborted (then retried if tries are left). */
  timeout?: number;
  /** Runs at most this many times, the first included. */
  max_exec_count?: number;
}

/** The document of one job (io.cozy.jobs), as the API shows it. Dates are ISO strings in UTC. */
export interface JobDoc {
  _id: string;
  domain: string;
  /** The id of the instance (its key: a domain can be reused after a destroy). Never served. */
  instance_id?: string;
  worker: string;
  /** The worker's arguments ("arguments" on the wire, "message" in cozy-stack's store). */
  message: unknown;
  options: JobOptions;
  state: JobState;
  queued_at: string;
  started_at?: string;
  finished_at?: string;
  error?: string;
  trigger_id?: string;
  manual_execution?: boolean;
  /** For @event triggers: the change that fired the trigger. */
  event?: { domain: string; doctype: string; verb: string; doc: Record<string, unknown>; old?: Record<string, unknown> };
  /** For @webhook triggers: the request's JSON body (COZY_PAYLOAD). */
  payload?: unknown;
  /** How many runs have started (the retries included). */
  tries?: number;
  /**
   * The rights of the token that queued the job (or created its trigger), kept with it so that the worker checks
   * its reads and writes against them at run time; absent for the stack's own jobs and the CLI's. Never served.
   */
  rights?: PermissionSet;
}

export interface TriggerState {
  status: JobState | '';
  last_success?: string;
  last_successful_job_id?: string;
  last_execution?: string;
  last_executed_job_id?: string;
  last_failure?: string;
  last_failed_job_id?: string;
  last_error?: string;
  last_manual_execution?: string;
  last_manual_job_id?: string;
}

export type TriggerType = '@at' | '@in' | '@every' | '@cron' | '@hourly' | '@daily' | '@weekly' | '@monthly' | '@event' | '@webhook' | '@client';

export interface TriggerDoc {
  _id: string;
  domain: string;
  /** The id of the instance (its key: a domain can be reused after a destroy). Never served. */
  instance_id?: string;
  type: TriggerType;
  arguments: string;
  worker: string;
  message: unknown;
  options: JobOptions;
  /** A duration ("10m"): matches within it after the first make no new job. */
  debounce?: string;
  current_state?: TriggerState;
  /** The rights of the token that created (or last changed) the trigger: its jobs act with them. Never served. */
  rights?: PermissionSet;
  cozyMetadata?: { doctypeVersion?: string; createdAt: string; updatedAt: string; createdByApp?: string };
}

/** What a worker gets for one run. */
export interface JobContext {
  instance: Instance;
  job: JobDoc;
  /** Aborted when the run's timeout passes or the server shuts down: stop promptly. */
  signal: AbortSignal;
  log: Logger;
  /** Publishes an io.cozy.jobs.events event (a konnector's log lines, progress). */
  emit(event: Record<string, unknown>): void;
}

export interface WorkerDef {
  name: string;
  run(ctx: JobContext): Promise<void>;
  /** Runs of this worker at the same time, over all instances. */
  concurrency?: number;
  /** Defaults for jobs that give no options. */
  maxExecCount?: number;
  timeoutSeconds?: number;
  /** Only the stack and the CLI may queue it (not apps, even with a right on io.cozy.jobs). */
  internal?: boolean;
  /**
   * Told of a job of this worker errored because the process running its last try stopped (`recover`): its run could
   * not undo what it left, this does. Called once, by the process that recovers the job; its errors are logged.
   */
  abandoned?(job: JobDoc): Promise<void>;
}

/** A failure that retrying cannot fix (bad arguments, LOGIN_FAILED): the job errors at once. */
export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}
