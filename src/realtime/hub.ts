/**
 * The realtime hub, as cozy-stack's pkg/realtime: connections (a WebSocket or an SSE stream) open a
 * subscriber bound to ONE instance, then subscribe to doctypes (every document) or watch ids. The
 * hub is an interface; `InProcessHub` feeds on the internal event bus (src/common/bus.ts), one bus listener per
 * (instance, doctype) topic in use. With coordination.engine redis that bus carries every process's events, and the
 * NOTIFIED events go through the coordination's `notices` bus, so that each process's hub serves the whole cluster.
 *
 * Fan-out: an event is serialized once per topic (lazily, only if someone listens), and the same
 * Buffer is handed to every subscriber of the topic; a subscriber both on the doctype and on the id
 * gets it once. Topics are keyed by domain: an event of one instance never meets another's subscribers.
 * The fan-out runs just after the write's own continuation (setImmediate, in publication order, as
 * cozy-stack publishes from a goroutine): a write is not answered later because 10,000 sockets listen.
 */
import type { DocEvent, EventBus, Unsubscribe } from '../common/bus.js';

export type RealtimeVerb = 'CREATED' | 'UPDATED' | 'DELETED' | 'NOTIFIED';

/** One event as it goes on the wire: cozy's `{"event","payload":{"type","id","doc"}}`, encoded once for all. */
export class WireEvent {
  private wsBuf: Buffer | undefined;
  private sseBuf: Buffer | undefined;

  constructor(readonly json: string) {}

  /** The text of a WebSocket message. */
  get ws(): Buffer {
    return (this.wsBuf ??= Buffer.from(this.json));
  }

  /** The same message as one Server-Sent Events record (`data: <json>` and a blank line). */
  get sse(): Buffer {
    return (this.sseBuf ??= Buffer.from(`data: ${this.json}\n\n`));
  }
}

/** cozy-stack's wsResponse: type, id, then the document. */
export function encodeEvent(verb: RealtimeVerb, doctype: string, id: string, doc: Record<string, unknown>): WireEvent {
  return new WireEvent(JSON.stringify({ event: verb, payload: { type: doctype, id, doc } }));
}

/**
 * The document a bus event shows: the winning revision; for DELETED, as cozy-stack's DeleteDoc sends it,
 * the fields of the document before the deletion with the tombstone's `_rev` (and `_deleted: true`).
 */
export function eventDoc(event: DocEvent): Record<string, unknown> {
  if (event.verb !== 'DELETED') return event.doc;
  return { ...(event.old ?? {}), ...event.doc, _deleted: true };
}

export type Sink = (event: WireEvent) => void;

/** What of a stored document may be shown to a subscriber (the same for all: an event is encoded once). */
export type DocView = (doctype: string, doc: Record<string, unknown>) => Record<string, unknown>;

export interface RealtimeSubscriber {
  readonly domain: string;
  /** A whole doctype (no id), or one document. Returns false when the subscriber has `maxSubscriptions` already. */
  subscribe(doctype: string, id?: string): boolean;
  /** Without an id: the doctype and every id watched in it (cozy-stack); with one: that id only. */
  unsubscribe(doctype: string, id?: string): void;
  /** How many subscriptions (doctypes and ids) it holds. */
  readonly size: number;
  close(): void;
}

export interface RealtimeHub {
  /** A subscriber of one instance's events, delivered to `sink`; it counts as one open connection until closed. */
  open(domain: string, sink: Sink, opts?: { maxSubscriptions?: number }): RealtimeSubscriber;
  /** A NOTIFIED event, not persisted (POST /realtime/:doctype/:id): for subscribers only, never the bus (no trigger sees it). */
  notify(domain: string, doctype: string, id: string, doc: Record<string, unknown>): void;
  /** Open subscribers, i.e. WebSocket and SSE connections (the metrics gauge). */
  connectionCount(): number;
  /** How many subscribers listen to this instance's doctype, on the whole or on some ids. */
  listeners(domain: string, doctype: string): number;
  close(): void;
}

interface Filter {
  whole: boolean;
  ids: Set<string>;
}

class Topic {
  readonly whole = new Set<Sub>();
  readonly byId = new Map<string, Set<Sub>>();
  /** Subscribers with any interest here, for the count and for removal. */
  readonly members = new Set<Sub>();
  unlisten: Unsubscribe = () => {};

  constructor(readonly doctype: string) {}

  dispatch(verb: RealtimeVerb, id: string, docOf: () => Record<string, unknown>): void {
    const ids = this.byId.get(id);
    if (this.whole.size === 0 && !ids) return;
    let wire: WireEvent | null = null;
    const get = () => (wire ??= encodeEvent(verb, this.doctype, id, docOf()));
    for (const s of this.whole) s.deliver(get());
    if (ids) for (const s of ids) if (!this.whole.has(s)) s.deliver(get());
  }
}

class Sub implements RealtimeSubscriber {
  readonly filters = new Map<string, Filter>();
  private count = 0;
  closed = false;

  constructor(
    private readonly hub: InProcessHub,
    readonly domain: string,
    private readonly sink: Sink,
    private readonly max: number,
  ) {}

  get size(): number {
    return this.count;
  }

  deliver(event: WireEvent): void {
    if (this.closed) return;
    try {
      this.sink(event);
    } catch {
      // a broken connection must not stop the fan-out to the others
    }
  }

  subscribe(doctype: string, id?: string): boolean {
    if (this.closed) return false;
    const f = this.filters.get(doctype);
    if (f && (id ? f.ids.has(id) : f.whole)) return true;
    if (this.count >= this.max) return false;
    const topic = this.hub.topic(this.domain, doctype, true)!;
    const filter = f ?? { whole: false, ids: new Set<string>() };
    this.filters.set(doctype, filter);
    topic.members.add(this);
    if (id) {
      filter.ids.add(id);
      let set = topic.byId.get(id);
      if (!set) topic.byId.set(id, (set = new Set()));
      set.add(this);
    } else {
      filter.whole = true;
      topic.whole.add(this);
    }
    this.count++;
    return true;
  }

  unsubscribe(doctype: string, id?: string): void {
    const f = this.filters.get(doctype);
    const topic = this.hub.topic(this.domain, doctype, false);
    if (!f || !topic) return;
    const drop = (x: string) => {
      const set = topic.byId.get(x);
      set?.delete(this);
      if (set?.size === 0) topic.byId.delete(x);
      f.ids.delete(x);
      this.count--;
    };
    if (id) {
      if (f.ids.has(id)) drop(id);
    } else {
      for (const x of [...f.ids]) drop(x);
      if (f.whole) {
        topic.whole.delete(this);
        f.whole = false;
        this.count--;
      }
    }
    if (!f.whole && f.ids.size === 0) {
      this.filters.delete(doctype);
      topic.members.delete(this);
      this.hub.release(this.domain, topic);
    }
  }

  close(): void {
    if (this.closed) return;
    for (const doctype of [...this.filters.keys()]) this.unsubscribe(doctype);
    this.closed = true;
    this.hub.closed(this);
  }
}

export class InProcessHub implements RealtimeHub {
  private readonly topics = new Map<string, Topic>();
  private readonly subs = new Set<Sub>();
  private pending: Array<() => void> = [];
  private scheduled = false;

  /**
   * `view`: the stored document as it may be shown (compose.ts drops the files' internal fields, as /data does);
   * `notices`: where NOTIFIED events go, to reach the hubs of every process (coordination.engine redis); without it,
   * this hub's subscribers only.
   */
  constructor(private readonly bus: EventBus, private readonly view: DocView = (_doctype, doc) => doc, private readonly notices?: EventBus) {}

  /** Runs the fan-outs of this turn's events together, in order, once the writers' continuations ran. */
  private later(fanOut: () => void): void {
    this.pending.push(fanOut);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = this.pending;
      this.pending = [];
      for (const f of batch) f();
    });
  }

  open(domain: string, sink: Sink, opts: { maxSubscriptions?: number } = {}): RealtimeSubscriber {
    const sub = new Sub(this, domain, sink, opts.maxSubscriptions ?? Infinity);
    this.subs.add(sub);
    return sub;
  }

  notify(domain: string, doctype: string, id: string, doc: Record<string, unknown>): void {
    if (this.notices) this.notices.publish({ domain, doctype, id, verb: 'UPDATED', doc });
    else this.notified(domain, doctype, id, doc);
  }

  private notified(domain: string, doctype: string, id: string, doc: Record<string, unknown>): void {
    this.later(() => this.topics.get(key(domain, doctype))?.dispatch('NOTIFIED', id, () => doc));
  }

  connectionCount(): number {
    return this.subs.size;
  }

  listeners(domain: string, doctype: string): number {
    return this.topics.get(key(domain, doctype))?.members.size ?? 0;
  }

  close(): void {
    for (const sub of [...this.subs]) sub.close();
    for (const t of this.topics.values()) t.unlisten();
    this.topics.clear();
  }

  /** @internal the topic of a domain's doctype; created (with its bus listener) on demand. */
  topic(domain: string, doctype: string, create: boolean): Topic | undefined {
    const k = key(domain, doctype);
    let t = this.topics.get(k);
    if (!t && create) {
      const topic = new Topic(doctype);
      const unlisten = [this.bus.subscribe(domain, doctype, (e) => this.later(() => topic.dispatch(e.verb, e.id, () => this.view(doctype, eventDoc(e)))))];
      if (this.notices) unlisten.push(this.notices.subscribe(domain, doctype, (e) => this.notified(domain, doctype, e.id, e.doc)));
      topic.unlisten = () => unlisten.forEach((stop) => stop());
      this.topics.set(k, (t = topic));
    }
    return t;
  }

  /** @internal drops a topic nobody listens to any more. */
  release(domain: string, topic: Topic): void {
    if (topic.members.size > 0) return;
    topic.unlisten();
    this.topics.delete(key(domain, topic.doctype));
  }

  /** @internal */
  closed(sub: Sub): void {
    this.subs.delete(sub);
  }
}

const key = (domain: string, doctype: string) => `${domain}\n${doctype}`;
