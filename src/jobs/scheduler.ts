/**
 * Turns triggers into jobs. Time triggers (@at, @in, @every, @cron, @hourly…@monthly) keep their
 * next run in the trigger store, so a restart loses none and a long stop fires a missed slot once.
 * @event triggers listen to the bus, and a sweep of the changes feeds fires what the bus lost (event-sweep.ts);
 * @webhook triggers fire from POST /jobs/webhooks/:id; @client triggers only from launch. `tick()` fires what is due at the clock's time (tests drive it).
 */
import type { Logger } from 'pino';
import { InProcessLocks, type Locks } from '../common/locks.js';
import { BadRequest, NotFound } from '../common/errors.js';
import type { DocEvent, EventBus, Unsubscribe } from '../common/bus.js';
import { EventSweep, eventJobId, type EventSweepOptions } from './event-sweep.js';
import type { TriggerQuery, TriggerStore } from './broker.js';
import { newId } from './broker-sqlite.js';
import { systemClock, type Clock, type JobEngine } from './engine.js';
import { eventMatches, parseEventArguments, type EventRule } from './event-match.js';
import { compileSchedule, isTimeTrigger, parseDuration, validateTriggerArguments, type Schedule } from './schedule.js';
import type { PermissionSet } from '../permissions/rules.js';
import type { JobDoc, JobOptions, TriggerDoc, TriggerType } from './types.js';

export interface TriggerInput {
  type: string;
  arguments?: string;
  worker: string;
  message?: unknown;
  options?: JobOptions | null;
  debounce?: string;
  /** The rights of the token that creates the trigger: its jobs act with them (none: the stack's own trigger). */
  rights?: PermissionSet;
}

export interface SchedulerDeps {
  triggers: TriggerStore;
  engine: JobEngine;
  bus: EventBus;
  logger: Logger;
  clock?: Clock;
  /** Serialises the firings of one trigger (the debounce check then the push); in-process by default. */
  locks?: Locks;
  /** The sweep of @event triggers (event-sweep.ts): the instances' DocStores, whose changes feeds it reads; no sweep without. */
  eventSweep?: EventSweepOptions;
}

/** How a trigger fires: by hand, for an event (with the id of its job, and when its sweep began if swept), a webhook. */
interface Firing { manual?: boolean; event?: JobDoc['event']; payload?: unknown; jobId?: string; sweptSince?: number }

const TYPES = new Set(['@at', '@in', '@every', '@cron', '@hourly', '@daily', '@weekly', '@monthly', '@event', '@webhook', '@client']);

/** cozy-stack stops automatic runs of a konnector whose user must act first. */
export function needsUserAction(error: string | undefined): boolean {
  if (!error) return false;
  return error.startsWith('LOGIN_FAILED') || (error.startsWith('USER_ACTION_NEEDED') && !error.startsWith('USER_ACTION_NEEDED.CGU_FORM'));
}

export class Scheduler {
  private readonly clock: Clock;
  private readonly listeners = new Map<string, { unsubscribe: Unsubscribe; ids: Set<string> }>();
  /** The @event triggers listened to, with when (ms, this process's clock) each was. */
  private readonly eventTriggers = new Map<string, { doc: TriggerDoc; rules: EventRule[]; at: number }>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<number> | null = null;
  private closed = false;
  private readonly locks: Locks;
  /** The durable path of @event triggers; null without the instances' stores. */
  readonly sweep: EventSweep | null;

  constructor(private readonly deps: SchedulerDeps) {
    this.clock = deps.clock ?? systemClock;
    this.locks = deps.locks ?? new InProcessLocks();
    const sweep = deps.eventSweep;
    this.sweep = sweep ? new EventSweep({
      ...sweep, triggers: deps.triggers, logger: deps.logger, periodMs: sweep.periodMs ?? 30_000, now: () => this.clock.now(),
      known: (docs, since) => this.known(docs, since),
      fire: (doc, event, jobId, since) => this.fire(doc, { event: jobEvent(event), jobId, sweptSince: since }),
    }) : null;
  }

  async start(): Promise<void> {
    for (const doc of await this.deps.triggers.ofType('@event')) this.listen(doc);
    this.sweep?.start();
    await this.tick();
  }

  schedule(doc: Pick<TriggerDoc, '_id' | 'type' | 'arguments' | 'cozyMetadata'>): Schedule {
    const createdAt = doc.cozyMetadata?.createdAt ? Date.parse(doc.cozyMetadata.createdAt) : this.clock.now();
    return compileSchedule(doc.type, doc.arguments, { triggerId: doc._id, createdAt });
  }

  /**
   * `opts.id`: the id of the trigger (the stack's own triggers, made again with the id a document names);
   * `opts.durable` false: stored without waiting for the disk, durable after `sync()` (an install's, which its journal covers).
   */
  async create(domain: string, input: TriggerInput, opts: { id?: string; durable?: boolean } = {}): Promise<TriggerDoc> {
    const type = input.type;
    if (!TYPES.has(type)) throw new BadRequest(`unknown trigger type "${String(type).slice(0, 40)}": use one of ${[...TYPES].join(', ')}`);
    if (!this.deps.engine.knows(input.worker)) throw new BadRequest(`there is no worker named "${String(input.worker).slice(0, 60)}"`);
    if ((type === '@client') !== (input.worker === 'client')) throw new BadRequest('a @client trigger goes with the "client" worker, and only it');
    const args = (input.arguments ?? '').trim();
    validateTriggerArguments(type, args);
    if (input.debounce) parseDuration(input.debounce);
    const now = new Date(this.clock.now()).toISOString();
    const doc: TriggerDoc = {
      _id: opts.id ?? newId(), domain, type: type as TriggerType, arguments: args, worker: input.worker, message: input.message ?? null,
      options: this.deps.engine.optionsFor(input.worker, input.options), ...(input.debounce ? { debounce: input.debounce } : {}),
      current_state: { status: '' }, cozyMetadata: { doctypeVersion: '1', createdAt: now, updatedAt: now },
      ...(input.rights ? { rights: input.rights } : {}),
    };
    return this.save(doc, opts.durable ?? true);
  }

  /** Resolves once every trigger written before is durable. */
  sync(): Promise<void> {
    return this.deps.triggers.sync();
  }

  /** PATCH: a new schedule (type and arguments) or message; the jobs then act with the rights of the token that changed it. */
  async patch(domain: string, id: string, change: { type?: string; arguments?: string; message?: unknown; rights?: PermissionSet }): Promise<TriggerDoc> {
    const doc = await this.get(domain, id);
    const type = (change.type ?? doc.type) as TriggerType;
    if (type !== doc.type && !(isTimeTrigger(type) && isTimeTrigger(doc.type))) throw new BadRequest(`a ${doc.type} trigger cannot become ${type}`);
    const next: TriggerDoc = { ...doc, type, arguments: (change.arguments ?? doc.arguments).trim() };
    if (change.message !== undefined) next.message = change.message;
    if (change.rights) next.rights = change.rights;
    validateTriggerArguments(next.type, next.arguments);
    next.cozyMetadata = { ...doc.cozyMetadata!, updatedAt: new Date(this.clock.now()).toISOString() };
    this.unlisten(doc._id);
    return this.save(next);
  }

  /** Stores the trigger; returns it as stored (with the id of its instance). */
  private async save(doc: TriggerDoc, durable = true): Promise<TriggerDoc> {
    const next = isTimeTrigger(doc.type) ? this.schedule(doc).next(this.clock.now() - 1) : null;
    await this.deps.triggers.put(doc, next, durable);
    const stored = (await this.deps.triggers.find(doc._id)) ?? doc;
    if (stored.type === '@event') {
      this.listen(stored);
      await this.sweep?.begin(stored, durable);
    }
    this.arm();
    return stored;
  }

  async get(domain: string, id: string): Promise<TriggerDoc> {
    const doc = await this.deps.triggers.get(domain, id);
    if (!doc) throw new NotFound(`no trigger ${String(id).slice(0, 64)}`);
    return doc;
  }

  list(domain: string, query: TriggerQuery): Promise<TriggerDoc[]> {
    return this.deps.triggers.list(domain, query);
  }

  async delete(domain: string, id: string): Promise<void> {
    if (!(await this.deps.triggers.delete(domain, id))) throw new NotFound(`no trigger ${String(id).slice(0, 64)}`);
    this.unlisten(id);
  }

  /** Drops every trigger of a destroyed instance, by its id. */
  async dropInstance(instanceId: string): Promise<void> {
    for (const [id, t] of this.eventTriggers) if (t.doc.instance_id === instanceId) this.unlisten(id);
    await this.deps.triggers.dropInstance(instanceId);
  }

  /** Runs the trigger now, whatever its type (manual execution). */
  launch(doc: TriggerDoc): Promise<JobDoc | null> {
    return this.fire(doc, { manual: true });
  }

  async webhook(id: string, payload: unknown, manual: boolean): Promise<JobDoc | null> {
    const doc = await this.deps.triggers.find(id);
    if (!doc || doc.type !== '@webhook') throw new NotFound('no webhook trigger with this id');
    return this.fire(doc, { manual, payload });
  }

  /** Creates the job of a trigger, unless a debounce is already pending or the konnector waits for its user. */
  private fire(doc: TriggerDoc, how: Firing): Promise<JobDoc | null> {
    return this.locks.withLock(`trigger:${doc._id}`, () => this.fireNow(doc, how));
  }

  private async fireNow(doc: TriggerDoc, how: Firing): Promise<JobDoc | null> {
    if (!how.manual && doc.worker === 'konnector' && needsUserAction(doc.current_state?.last_error)) {
      this.deps.logger.info({ trigger: doc._id, error: doc.current_state?.last_error }, 'automatic run skipped: the konnector waits for its user');
      return null;
    }
    if (doc.type === '@client' && !how.manual) return null;
    const debounceMs = doc.debounce && !how.manual ? parseDuration(doc.debounce) : 0;
    if (debounceMs && (await this.deps.engine.broker.pendingFor(doc._id))) return null;
    if (debounceMs && how.sweptSince !== undefined && (await this.queuedSince(doc, how.sweptSince - debounceMs - 1000))) return null;
    const spec = {
      worker: doc.worker, message: doc.message, options: doc.options, trigger_id: doc._id, delayMs: debounceMs,
      ...(how.manual ? { manual: true } : {}), ...(how.event ? { event: how.event } : {}),
      ...(how.payload !== undefined ? { payload: how.payload } : {}), ...(doc.type === '@client' ? { byClient: true } : {}),
      ...(doc.rights ? { rights: doc.rights } : {}), ...(doc.instance_id ? { instanceId: doc.instance_id } : {}),
    };
    return how.jobId ? this.deps.engine.pushOnce(doc.domain, { ...spec, id: how.jobId }) : this.deps.engine.push(doc.domain, spec);
  }

  /** A swept change of a debounced trigger was covered if the trigger queued a job since its range began (`since`, ms). */
  private async queuedSince(doc: TriggerDoc, since: number): Promise<boolean> {
    const [last] = await this.deps.engine.broker.list(doc.domain, { triggerId: doc._id, limit: 1 });
    return !!last && Date.parse(last.queued_at) >= since;
  }

  /** Fires the time triggers that are due; returns how many fired. */
  tick(): Promise<number> {
    this.ticking ??= this.runDue().finally(() => {
      this.ticking = null;
      this.arm();
    });
    return this.ticking;
  }

  private async runDue(): Promise<number> {
    let fired = 0;
    for (;;) {
      const now = this.clock.now();
      const due = await this.deps.triggers.due(now, 100);
      if (!due.length || this.closed) return fired;
      for (const { doc, nextRunAt } of due) {
        let schedule: Schedule | null = null;
        try {
          schedule = this.schedule(doc);
        } catch (err) {
          this.deps.logger.error({ err, trigger: doc._id }, 'a trigger with a schedule that no longer compiles was deleted');
        }
        const next = schedule && !schedule.oneShot ? schedule.next(Math.max(now, nextRunAt)) : null;
        // the slot is taken before the job is made: of all the processes that found it due, only the one whose
        // compare-and-set matched fires it (a crash right after loses this one run rather than doubling it)
        if (!(await this.deps.triggers.advance(doc._id, nextRunAt, next)) || !schedule) continue;
        try {
          await this.fire(doc, {});
          fired++;
        } catch (err) {
          this.deps.logger.error({ err, trigger: doc._id }, 'a trigger could not create its job');
        }
      }
    }
  }

  private arm(): void {
    if (this.closed) return;
    // none due: looked at again within a minute all the same (another process may have added one)
    this.deps.triggers.nextDue().then((due) => this.wake(due === null ? 60_000 : due - this.clock.now()), (err: unknown) => {
      this.deps.logger.error({ err }, 'the time triggers could not be read: trying again in 5 s');
      this.wake(5000);
    });
  }

  /** Ticks in `ms` (at most a minute). */
  private wake(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.tick().catch((err: unknown) => this.deps.logger.error({ err }, 'the time triggers could not be fired'));
    }, Math.min(Math.max(0, ms), 60_000));
    this.timer.unref();
  }

  /**
   * The @event triggers of every instance as read from `since` (ms): listens to those another process created, forgets
   * those deleted (not one this process listened to after `since`: it was created after the read).
   */
  private known(docs: TriggerDoc[], since: number): void {
    const ids = new Set(docs.map((d) => d._id));
    for (const [id, t] of [...this.eventTriggers]) if (!ids.has(id) && t.at < since) this.unlisten(id);
    for (const doc of docs) if (!this.eventTriggers.has(doc._id)) this.listen(doc);
  }

  private listen(doc: TriggerDoc): void {
    const rules = parseEventArguments(doc.arguments);
    this.eventTriggers.set(doc._id, { doc, rules, at: Date.now() });
    for (const doctype of new Set(rules.map((r) => r.doctype))) {
      const key = `${doc.domain}\n${doctype}`;
      let entry = this.listeners.get(key);
      if (!entry) {
        const ids = new Set<string>();
        entry = { ids, unsubscribe: this.deps.bus.subscribe(doc.domain, doctype, (event) => this.onEvent(ids, event)) };
        this.listeners.set(key, entry);
      }
      entry.ids.add(doc._id);
    }
  }

  private unlisten(id: string): void {
    if (!this.eventTriggers.delete(id)) return;
    for (const [key, entry] of this.listeners) {
      entry.ids.delete(id);
      if (entry.ids.size === 0) {
        entry.unsubscribe();
        this.listeners.delete(key);
      }
    }
  }

  private onEvent(ids: Set<string>, event: DocEvent): void {
    for (const id of ids) {
      const t = this.eventTriggers.get(id);
      if (!t || !eventMatches(t.rules, event)) continue;
      const rev = event.doc._rev;
      // the job of this revision has the id the sweep would give it: heard here and swept later, it is queued once
      const jobId = typeof rev === 'string' ? eventJobId(id, event.doctype, event.id, rev) : undefined;
      // the trigger's state is re-read: a konnector waiting for its user stays stopped
      void this.deps.triggers.find(id).then((doc) => (doc ? this.fire(doc, { event: jobEvent(event), ...(jobId ? { jobId } : {}) }) : null)).catch((err: unknown) => {
        this.deps.logger.error({ err, trigger: id }, 'an @event trigger could not create its job');
      });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const entry of this.listeners.values()) entry.unsubscribe();
    this.listeners.clear();
    await this.sweep?.close();
  }
}

/** What a job keeps of the event that made it. */
function jobEvent(event: DocEvent): NonNullable<JobDoc['event']> {
  const info: NonNullable<JobDoc['event']> = { domain: event.domain, doctype: event.doctype, verb: event.verb, doc: event.doc };
  if (event.old) info.old = event.old;
  return info;
}
