/** A JobContext for calling a worker's run() directly: a silent (or collecting) pino logger, a real AbortController, collected events. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { Instance } from '../../src/instances/types.js';
import type { JobContext } from '../../src/jobs/types.js';

export interface TestJob {
  ctx: JobContext;
  events: Array<Record<string, unknown>>;
  abort: AbortController;
  /** The log lines (parsed JSON) when `collectLogs` was set. */
  logs: Array<Record<string, unknown>>;
}

export function jobContext(instance: Instance, worker: string, message: unknown, opts: { collectLogs?: boolean } = {}): TestJob {
  const events: Array<Record<string, unknown>> = [];
  const logs: Array<Record<string, unknown>> = [];
  const abort = new AbortController();
  let log: Logger;
  if (opts.collectLogs) {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
        cb();
      },
    });
    log = pino({ level: 'info' }, sink);
  } else {
    log = pino({ level: 'silent' });
  }
  const ctx: JobContext = {
    instance,
    job: { _id: `job-${Math.random().toString(16).slice(2)}`, domain: instance.domain, worker, message, options: {}, state: 'running', queued_at: new Date().toISOString(), tries: 1 },
    signal: abort.signal,
    log,
    emit: (e) => events.push(e),
  };
  return { ctx, events, abort, logs };
}
