/**
 * The `clean-clients` worker (internal): deletes the OAuth clients that are still `pending` (no token was ever
 * granted to them) one hour after their registration. With `{client_id}` (cozy-stack's message, queued by an
 * @in trigger at registration) only that client is considered; without, every pending client is.
 */
import type { DocStore } from '../../data/store.js';
import { Conflict } from '../../common/errors.js';
import { pace } from '../../common/pace.js';
import type { Instance } from '../../instances/types.js';
import { CLIENTS_DOCTYPE } from '../../oauth/clients.js';
import { PermanentJobError, type WorkerDef } from '../types.js';
import { CPUS, checkAborted } from './common.js';

export interface CleanClientsDeps {
  storeOf(instance: Instance): DocStore;
  now?: () => Date;
  /** How long a client may stay pending (default one hour, as cozy-stack). */
  maxPendingMs?: number;
}

const PAGE = 500;

export function cleanClientsWorker(deps: CleanClientsDeps): WorkerDef {
  const now = deps.now ?? (() => new Date());
  const maxPendingMs = deps.maxPendingMs ?? 3_600_000;
  return {
    name: 'clean-clients',
    internal: true,
    concurrency: CPUS,
    maxExecCount: 2,
    timeoutSeconds: 30,
    async run(ctx) {
      const msg = ctx.job.message;
      const clientId = typeof msg === 'object' && msg !== null ? (msg as Record<string, unknown>).client_id : undefined;
      if (clientId !== undefined && typeof clientId !== 'string') throw new PermanentJobError('clean-clients: "client_id" must be a string');
      const cutoff = new Date(now().getTime() - maxPendingMs).toISOString();
      const store = deps.storeOf(ctx.instance);
      const selector: Record<string, unknown> = { pending: true, created_at: { $lte: cutoff }, ...(clientId ? { _id: clientId } : {}) };
      const skipped = new Set<string>();
      let deleted = 0;
      // what is deleted no longer matches: ask again until a page brings nothing new
      for (;;) {
        checkAborted(ctx.signal);
        const { docs } = await store.find(CLIENTS_DOCTYPE, { selector, limit: PAGE + skipped.size, skip: 0 });
        const todo = docs.filter((d) => !skipped.has(String(d._id)));
        if (todo.length === 0) break;
        for (const d of todo) {
          await pace(); // background work: in short slices of the event loop (common/pace.ts)
          try {
            await store.put(CLIENTS_DOCTYPE, { _id: String(d._id), _rev: String(d._rev), _deleted: true });
            deleted++;
          } catch (err) {
            if (!(err instanceof Conflict)) throw err;
            skipped.add(String(d._id)); // used (or changed) meanwhile: left for the next run
          }
        }
        if (docs.length < PAGE + skipped.size) break;
      }
      if (deleted > 0) ctx.log.info({ deleted }, 'clean-clients: deleted OAuth clients that stayed pending');
    },
  };
}
