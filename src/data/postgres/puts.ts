/**
 * Group commit of single-document puts on PostgreSQL. Every write of a doctype takes the doctype's row (its seqs) and
 * holds it to COMMIT, that is through the WAL flush: the writes of one doctype commit one after the other, one flush
 * each. So a put that comes while another put of its doctype is under way in this process waits for it, then goes with
 * every other put that waited, in one transaction of the store: one flush for all of them, as the SQLite engine groups
 * its commits. Each put still gets its own answer (a 409 for one does not fail the others) and is acknowledged only
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

/** What runs the puts: one alone, or a batch in one transaction (which settles each of them). */
export interface PutRunner {
  one(doc: Doc, onCommit?: () => void): Promise<PutResult>;
  many(batch: QueuedPut[]): Promise<void>;
}

/** Runs a put now if none of its doctype is under way, else queues it for the next batch. */
export async function queuedPut(queues: PutQueues, doctype: string, doc: Doc, onCommit: (() => void) | undefined, run: PutRunner): Promise<PutResult> {
  const waiting = queues.get(doctype);
  if (waiting) return new Promise<PutResult>((resolve, reject) => waiting.push({ doc, onCommit, resolve, reject }));
  queues.set(doctype, []);
  try {
    return await run.one(doc, onCommit);
  } finally {
    void drain(queues, doctype, run);
  }
}

/** Sends what waited, batch after batch, until nothing waits; then the next put of the doctype runs at once. */
async function drain(queues: PutQueues, doctype: string, run: PutRunner): Promise<void> {
  for (;;) {
    const waiting = queues.get(doctype) ?? [];
    if (waiting.length === 0) {
      queues.delete(doctype);
      return;
    }
    const batch = waiting.splice(0, MAX_BATCH);
    try {
      if (batch.length === 1) await run.one(batch[0]!.doc, batch[0]!.onCommit).then(batch[0]!.resolve, batch[0]!.reject);
      else await run.many(batch);
    } catch (err) {
      for (const q of batch) q.reject(err);
    }
  }
}
