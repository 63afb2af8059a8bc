/**
 * Group commit of single-document puts on PostgreSQL. Every write of a doctype takes the doctype's row (its seqs) and
 * holds it to COMMIT, that is through the WAL flush: the writes of one doctype commit one after the other, one flush
 * each. So a put that comes while another put of its doctype is under way in this process waits for it, then goes with
 * every other put that waited, in one statement (or one transaction) of the store: one flush for all of them, as the
 * SQLite engine groups its commits. Each put still gets its own answer (a 409 for one does not fail the others) and is acknowledged only
 * after that COMMIT.
 */
import type { Doc } from '../store.js';

export interface PutResult {
  id: string;
  rev: string;
  doc: Doc;
}

export interface QueuedPut {
  doc: Doc;
  onCommit?: () => void;
  resolve(value: PutResult): void;
  reject(error: unknown): void;
}

/** Doctype → the puts waiting for the one under way (the key is there while a put of the doctype is under way). */
export type PutQueues = Map<string, QueuedPut[]>;

/** At most this many puts in one transaction (the others wait for the next one). */
const MAX_BATCH = 256;

/** What runs a batch of puts (one put alone is a batch of one): it settles each of them. */
export type PutRunner = (batch: QueuedPut[]) => Promise<void>;

/** Runs `batch`; a failure of the whole batch fails each put of it. */
const runBatch = (run: PutRunner, batch: QueuedPut[]): Promise<void> => run(batch).catch((err: unknown) => {
  for (const q of batch) q.reject(err);
});

/**
 * Queues a put for the next batch of its doctype. With none under way, the batch starts at the end of this turn of
 * the event loop (as the SQLite engine's commits), with the puts of the requests read in the same turn: a put that
 * started at once would go alone, and those that came right after it would wait for its flush.
 */
export function queuedPut(queues: PutQueues, doctype: string, doc: Doc, onCommit: (() => void) | undefined, run: PutRunner): Promise<PutResult> {
  return new Promise<PutResult>((resolve, reject) => {
    const waiting = queues.get(doctype);
    if (waiting) {
      waiting.push({ doc, onCommit, resolve, reject });
      return;
    }
    queues.set(doctype, [{ doc, onCommit, resolve, reject }]);
    setImmediate(() => void drain(queues, doctype, run));
  });
}

/** Sends what waited, batch after batch, until nothing waits; then the next put of the doctype starts a batch again. */
async function drain(queues: PutQueues, doctype: string, run: PutRunner): Promise<void> {
  for (;;) {
    const waiting = queues.get(doctype) ?? [];
    if (waiting.length === 0) {
      queues.delete(doctype);
      return;
    }
    await runBatch(run, waiting.splice(0, MAX_BATCH));
  }
}

/** After the COMMIT of a batch: each written put's hook (through `hook`), then each put gets its result or refusal. */
export function settle(batch: QueuedPut[], outcomes: Array<{ ok: PutResult } | { refused: unknown }>, hook: (onCommit?: () => void) => void): void {
  batch.forEach((q, i) => {
    const o = outcomes[i];
    if (o && 'ok' in o) hook(q.onCommit);
  });
  batch.forEach((q, i) => {
    const o = outcomes[i];
    if (!o) q.reject(new Error('no outcome for this put'));
    else if ('ok' in o) q.resolve(o.ok);
    else q.reject(o.refused);
  });
}
