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
 * A round costs what was written, not how many triggers there are: the document engines keep an index of their writes
 * (DocStoreFactory.writeStamps: PostgreSQL's `hearth.doc_writes`, written in the transaction of the documents; SQLite's
 * file times), read for every instance at once at the start of a round. A trigger whose cursor was at the current
 * positions of its doctypes is stamped with what the index said before that visit (in memory, and in its cursor for
 * the other processes and the next start); while the index says the same, nothing was written since and the trigger
 * is not visited (its instance's database is not opened). A lost run is thus swept one to two rounds after its write,
 * however many triggers the farm has.
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

/** What the composition gives the sweep: the stores, and its period (default 30 s; 0: at start-up only) and bounds. */
export interface EventSweepOptions {
  /** The DocStore of the instance that has this id and this domain now, or null. */
  storeFor(domain: string, instanceId: string): Promise<DocStore | null>;
  periodMs?: number;
  /** Triggers visited by a round at most (default VISITS_PER_ROUND). */
  visitsPerRound?: number;
  /** The index of the writes (by instance id: DocStoreFactory.writeStamps); without it every trigger is visited in turn. */
  stamps?(asked: ReadonlyMap<string, readonly string[]>): Promise<Map<string, string>>;
}

export interface EventSweepDeps extends EventSweepOptions {
  triggers: TriggerStore;
  /** Fires the trigger for a swept change (`since`: when the swept range began, ms). */
  fire(doc: TriggerDoc, event: DocEvent, jobId: string, since: number): Promise<unknown>;
  /** Every round starts with the @event triggers of all instances, read from `since` (ms): the scheduler listens to those it did not know. */
  known(docs: TriggerDoc[], since: number): void;
  now(): number;
  logger: Logger;
  periodMs: number;
}

const PAGE = 200;
/**
 * A visit opens the trigger's instance database: a round visits this many triggers at most (those the index of the
 * writes does not leave out), the next ones in turn (by id), so that a burst of writes to many instances does not make
 * one long round; the rest are visited at the next rounds, never dropped (their cursors stay where they were).
 */
export const VISITS_PER_ROUND = 500;

/** The cursor's key of the write stamp (see EventCursor). */
const STAMP = '@stamp';

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
  /** Per trigger: the write stamp of its instance when its cursor was last found at the current positions. */
  private readonly settled = new Map<string, string>();
  /** The id of the last trigger visited: the next round starts after it. */
  private after = '';

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
      const stamps = await this.stampsOf(docs);
      const stampOf = (doc: TriggerDoc) => (doc.instance_id ? stamps.get(doc.instance_id) : undefined);
      // the triggers whose instance may have been written since their cursor was found current
      const due = docs.filter((doc) => {
        const stamp = stampOf(doc);
        return stamp === undefined || this.settled.get(doc._id) !== stamp;
      });
      const bound = this.deps.visitsPerRound ?? VISITS_PER_ROUND;
      const start = Math.max(0, due.findIndex((d) => d._id > this.after));
      let opened = 0;
      for (let i = 0; i < due.length && opened < bound; i++) {
        if (this.closed) return;
        const doc = due[(start + i) % due.length]!;
        this.after = doc._id;
        const visited = await this.sweep(doc, stampOf(doc)).catch((err: unknown) => {
          this.deps.logger.error({ err, trigger: doc._id }, 'the changes of an @event trigger could not be swept: trying again at the next round');
          return true;
        });
        if (visited) opened++;
      }
      // what is kept of triggers deleted since
      const live = new Set(docs.map((d) => d._id));
      for (const key of this.marks.keys()) if (!live.has(key.slice(0, key.indexOf('\n')))) this.marks.delete(key);
      for (const id of this.settled.keys()) if (!live.has(id)) this.settled.delete(id);
    } catch (err) {
      this.deps.logger.error({ err }, 'the @event triggers could not be swept: trying again at the next round');
    }
  }

  /** The write stamps of the triggers' instances, for the union of their doctypes (none without the index, or if it fails). */
  private async stampsOf(docs: TriggerDoc[]): Promise<Map<string, string>> {
    if (!this.deps.stamps) return new Map();
    const asked = new Map<string, Set<string>>();
    for (const doc of docs) {
      if (!doc.instance_id) continue;
      let doctypes = asked.get(doc.instance_id);
      if (!doctypes) asked.set(doc.instance_id, (doctypes = new Set()));
      for (const doctype of eventDoctypes(parseEventArguments(doc.arguments))) doctypes.add(doctype);
    }
    try {
      return await this.deps.stamps(new Map([...asked].map(([id, doctypes]) => [id, [...doctypes]])));
    } catch (err) {
      this.deps.logger.warn({ err }, 'the index of the writes could not be read: this round visits the @event triggers in turn');
      return new Map();
    }
  }

  /**
   * Sweeps one trigger; false when its instance's database was not opened (its cursor is current for `stamp`, or the
   * instance is gone). `stamp`: what the index of the writes said at the start of the round.
   */
  private async sweep(doc: TriggerDoc, stamp: string | undefined): Promise<boolean> {
    const from = await this.deps.triggers.eventCursor(doc._id);
    if (stamp !== undefined && from?.[STAMP]?.seq === stamp) {
      this.settled.set(doc._id, stamp); // found current by another process (or before a restart), nothing written since
      return false;
    }
    const store = doc.instance_id ? await this.deps.storeFor(doc.domain, doc.instance_id) : null;
    if (!store) return false;
    const rules = parseEventArguments(doc.arguments);
    const to: EventCursor = { ...from };
    let moved = false;
    let current = true;
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
      if (to[doctype]!.seq !== now.seq) current = false;
    }
    // current: nothing to sweep until the index says the instance was written
    if (current && stamp !== undefined && from?.[STAMP]?.seq !== stamp) {
      to[STAMP] = { seq: stamp, at: this.deps.now() };
      moved = true;
    }
    const saved = moved ? await this.deps.triggers.moveEventCursor(doc._id, from, to) : true;
    if (saved && current && stamp !== undefined) this.settled.set(doc._id, stamp);
    return true;
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
