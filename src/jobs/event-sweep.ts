/**
 * @event triggers that no write loses. The scheduler fires a trigger when it hears the write on the bus, in the
 * process that wrote it; but a process killed between a write's COMMIT and that moment (or before the job's own
 * commit) would lose the run, since the bus is not durable. The sweep is the durable path: each @event trigger keeps a
 * cursor per doctype in its instance's changes feed (`event_cursor`, beside the trigger in the broker's database), and
 * every `periodMs` each process reads, for every @event trigger, the changes past the cursor, fires the trigger for
 * those that match, and moves the cursor by a compare-and-set.
 *
 * Both paths give the job of one revision the same id (`eventJobId`: the trigger, the document and its revision), and
 * the broker queues a job of a given id once (Broker.pushOnce): a run heard when written and seen again by the sweep is
 * queued once, whatever the process. To leave the heard writes to the bus (which knows the previous revision, `old`),
 * a sweep reads only up to the position it saw at its previous round, `periodMs` earlier: a change is swept one to two
 * periods after its write.
 *
 * A swept change has no `old` (the store keeps the bodies of leaves only): a `!=` rule counts it as a change, and a rule
 * on a field's values looks at the new document only. A debounced trigger is fired once for the changes of a round,
 * unless it queued a job since the cursor's position was read (that job covered them).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { DocEvent } from '../common/bus.js';
import { NotFound } from '../common/errors.js';
import type { DocStore } from '../data/store.js';
import type { EventCursor, TriggerStore } from './broker.js';
import { eventDoctypes, eventMatches, parseEventArguments } from './event-match.js';
import type { TriggerDoc } from './types.js';

/** The id of the job of `triggerId` for one revision of a document: the same in every process and on both paths. */
export function eventJobId(triggerId: string, doctype: string, id: string, rev: string): string {
  return createHash('sha256').update(`${triggerId}\n${doctype}\n${id}\n${rev}`).digest('hex').slice(0, 32);
}

export interface EventSweepDeps {
  triggers: TriggerStore;
  /** The DocStore of the instance that has this id and this domain now, or null. */
  storeFor(domain: string, instanceId: string): Promise<DocStore | null>;
  /** Fires the trigger for a swept change (`since`: when the swept range began, ms). */
  fire(doc: TriggerDoc, event: DocEvent, jobId: string, since: number): Promise<unknown>;
  /** Every round starts with the @event triggers of all instances, read from `since` (ms): the scheduler listens to those it did not know. */
  known(docs: TriggerDoc[], since: number): void;
  now(): number;
  logger: Logger;
  periodMs: number;
  /** Triggers visited by a round at most (default VISITS_PER_ROUND). */
  visitsPerRound?: number;
}

const PAGE = 200;
/**
 * A visit opens the trigger's instance database: a round visits this many triggers at most, the next ones in turn (by
 * id), so that a farm's round costs the same whatever its number of @event triggers; with more of them, a lost run is
 * recovered later (10,000 triggers: within 20 rounds, 10 minutes), never dropped (the cursor stays where it was).
 */
export const VISITS_PER_ROUND = 500;

interface Seq { n: number; epoch: string }
const parseSeq = (seq: string): Seq => {
  const [n = '0', epoch = ''] = seq.split('-');
  return { n: Number(n), epoch };
};

export class EventSweep {
  /** Per trigger and doctype: the position this process read at its previous round. */
  private readonly marks = new Map<string, { seq: string; at: number }>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  /** Where the next round starts in the @event triggers sorted by id. */
  private next = 0;

  constructor(private readonly deps: EventSweepDeps) {}

  /**
   * A first round now (it sets the cursors never saved and reads the positions), not waited for (a start with many
   * instances does not wait on their changes feeds), then one every `periodMs`.
   */
  start(): void {
    void this.round();
    if (this.deps.periodMs <= 0) return;
    this.timer = setInterval(() => void this.round(), this.deps.periodMs);
    this.timer.unref();
  }

  /** One round over every @event trigger (tests call it; a round under way is waited for, not doubled). */
  round(): Promise<void> {
    this.running ??= this.sweepAll().finally(() => (this.running = null));
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** A trigger created now: its cursors start at the current positions (what was written before it is not its own). */
  /** `durable` false: the trigger was stored without waiting for the disk, its first cursor goes with it. */
  async begin(doc: TriggerDoc, durable = true): Promise<void> {
    const store = doc.instance_id ? await this.deps.storeFor(doc.domain, doc.instance_id) : null;
    if (!store) return;
    const from = await this.deps.triggers.eventCursor(doc._id);
    const to: EventCursor = { ...from };
    for (const doctype of eventDoctypes(parseEventArguments(doc.arguments))) {
      to[doctype] ??= { seq: await currentSeq(store, doctype), at: this.deps.now() };
    }
    await this.deps.triggers.moveEventCursor(doc._id, from, to, durable);
  }

  private async sweepAll(): Promise<void> {
    try {
      const since = Date.now();
      const docs = (await this.deps.triggers.ofType('@event')).sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
      this.deps.known(docs, since);
      const visits = Math.min(docs.length, this.deps.visitsPerRound ?? VISITS_PER_ROUND);
      const first = docs.length ? this.next % docs.length : 0;
      for (let i = 0; i < visits; i++) {
        if (this.closed) return;
        const doc = docs[(first + i) % docs.length]!;
        await this.sweep(doc).catch((err: unknown) => this.deps.logger.error({ err, trigger: doc._id }, 'the changes of an @event trigger could not be swept: trying again at the next round'));
      }
      this.next = first + visits;
      // the marks of triggers deleted since
      const live = new Set(docs.map((d) => d._id));
      for (const key of this.marks.keys()) if (!live.has(key.slice(0, key.indexOf('\n')))) this.marks.delete(key);
    } catch (err) {
      this.deps.logger.error({ err }, 'the @event triggers could not be swept: trying again at the next round');
    }
  }

  private async sweep(doc: TriggerDoc): Promise<void> {
    const store = doc.instance_id ? await this.deps.storeFor(doc.domain, doc.instance_id) : null;
    if (!store) return;
    const rules = parseEventArguments(doc.arguments);
    const from = await this.deps.triggers.eventCursor(doc._id);
    const to: EventCursor = { ...from };
    let moved = false;
    for (const doctype of eventDoctypes(rules)) {
      const key = `${doc._id}\n${doctype}`;
      const mark = this.marks.get(key);
      const now = { seq: await currentSeq(store, doctype), at: this.deps.now() };
      this.marks.set(key, now);
      const at = from?.[doctype];
      if (!at) {
        to[doctype] = now;
        moved = true;
      } else if (mark && ahead(mark.seq, at.seq, now.seq)) {
        await this.replay(doc, store, doctype, at, mark.seq, (event) => eventMatches(rules, event));
        to[doctype] = mark;
        moved = true;
      }
    }
    if (moved) await this.deps.triggers.moveEventCursor(doc._id, from, to);
  }

  /** Fires `doc` for the changes of `doctype` after `at` up to `until`. */
  private async replay(doc: TriggerDoc, store: DocStore, doctype: string, at: { seq: string; at: number }, until: string, matches: (e: DocEvent) => boolean): Promise<void> {
    const end = parseSeq(until);
    let since = at.seq;
    for (;;) {
      const page = await store.changes(doctype, { since, limit: PAGE, include_docs: true });
      for (const row of page.results) {
        if (parseSeq(row.seq).n > end.n) return;
        const rev = row.changes[0]?.rev;
        if (!rev || row.id.startsWith('_design/')) continue;
        const verb = row.deleted ? 'DELETED' : rev.startsWith('1-') ? 'CREATED' : 'UPDATED';
        const event: DocEvent = { domain: doc.domain, doctype, id: row.id, verb, doc: row.doc ?? { _id: row.id, _rev: rev, _deleted: true } };
        if (matches(event)) await this.deps.fire(doc, event, eventJobId(doc._id, doctype, row.id, rev), at.at);
      }
      if (page.results.length < PAGE) return;
      since = page.last_seq;
    }
  }
}

/** True when `mark` (read at the previous round) is past the saved cursor `at`; `now` tells the doctype's epoch today. */
function ahead(mark: string, at: string, now: string): boolean {
  const m = parseSeq(mark);
  const a = parseSeq(at);
  if (m.epoch === a.epoch) return m.n > a.n;
  // the doctype was dropped and made again: the cursor of the old one is swept from the start of the new one
  return m.epoch === parseSeq(now).epoch;
}

async function currentSeq(store: DocStore, doctype: string): Promise<string> {
  try {
    return await store.currentSeq(doctype);
  } catch (err) {
    if (err instanceof NotFound) return '0';
    throw err;
  }
}
