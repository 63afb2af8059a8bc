/**
 * The log lines of past runs (Hearth's; cozy-stack only streams them as io.cozy.jobs.events): what a konnector printed
 * during a run of a trigger (an account), kept in the instance's DocStore as one io.cozy.jobs.logs document per job,
 * so that a past run shows its log. Bounded: MAX_LINES lines per run (the last ones), MAX_LINE_CHARS characters per
 * line, the KEEP_RUNS latest runs per trigger (older ones deleted when a run is saved). Read by GET /jobs/:id/logs.
 */
import { NotFound } from '../common/errors.js';
import type { DocStore } from '../data/store.js';
import type { Instance } from '../instances/types.js';

export const RUN_LOGS_DOCTYPE = 'io.cozy.jobs.logs';
export const MAX_LINES = 200;
export const MAX_LINE_CHARS = 1000;
export const KEEP_RUNS = 10;

export interface RunLine { type: string; message: string; time: string }
export interface RunLog { lines: RunLine[]; dropped: number }

/** Collects the lines of one run, keeping the last MAX_LINES. */
export class RunLogCollector {
  private readonly kept: RunLine[] = [];
  private dropped = 0;

  add(event: { type: string; message: string }, now = new Date()): void {
    this.kept.push({ type: event.type.slice(0, 20), message: event.message.slice(0, MAX_LINE_CHARS), time: now.toISOString() });
    if (this.kept.length > MAX_LINES) {
      this.kept.shift();
      this.dropped++;
    }
  }

  log(): RunLog {
    return { lines: [...this.kept], dropped: this.dropped };
  }
}

export class RunLogs {
  /** The last `saved_at` this process gave (ms): two runs saved within one millisecond still sort in their order. */
  private last = 0;

  constructor(private readonly storeOf: (instance: Instance) => DocStore) {}

  /** Keeps the log of a run of `job.trigger_id` (runs without a trigger are not listed anywhere: not kept), then prunes. */
  async save(instance: Instance, job: { _id: string; trigger_id?: string; worker: string }, log: RunLog): Promise<void> {
    if (!job.trigger_id) return;
    const store = this.storeOf(instance);
    this.last = Math.max(Date.now(), this.last + 1);
    const saved_at = new Date(this.last).toISOString();
    await store.put(RUN_LOGS_DOCTYPE, { _id: job._id, trigger_id: job.trigger_id, worker: job.worker, saved_at, lines: log.lines as never, dropped: log.dropped });
    const { docs } = await store.find(RUN_LOGS_DOCTYPE, { selector: { trigger_id: job.trigger_id }, fields: ['_id', '_rev', 'saved_at'], limit: 1000, skip: 0 });
    const old = docs.sort((a, b) => String(b.saved_at).localeCompare(String(a.saved_at))).slice(KEEP_RUNS);
    for (const d of old) await store.put(RUN_LOGS_DOCTYPE, { _id: String(d._id), _rev: String(d._rev), _deleted: true }).catch(() => undefined);
  }

  /** The kept log of a job; empty when none was kept (nothing printed, or an older run). */
  async read(instance: Instance, jobId: string): Promise<RunLog> {
    const doc = await this.storeOf(instance).get(RUN_LOGS_DOCTYPE, jobId).catch((e: unknown) => {
      if (e instanceof NotFound) return null;
      throw e;
    });
    return doc ? { lines: doc.lines as unknown as RunLine[], dropped: Number(doc.dropped ?? 0) } : { lines: [], dropped: 0 };
  }
}
