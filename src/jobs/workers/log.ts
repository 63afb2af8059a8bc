/** The `log` worker (cozy-stack's worker/log): logs its message and succeeds; useful to test triggers. */
import type { WorkerDef } from '../types.js';
import { CPUS } from './common.js';

export function logWorker(): WorkerDef {
  return {
    name: 'log',
    concurrency: CPUS,
    maxExecCount: 1,
    timeoutSeconds: 1,
    async run(ctx) {
      const msg = ctx.job.message;
      // cozy-stack's message is a string; anything else is logged as its JSON
      ctx.log.info({ job_id: ctx.job._id, worker: 'log' }, typeof msg === 'string' ? msg : JSON.stringify(msg ?? null));
    },
  };
}
