/**
 * The event bus over Redis pub/sub (coordination.engine redis): every DocEvent published by any process reaches the
 * listeners of every process.
 *
 * A process delivers its own events to its own listeners at once, in memory, exactly as InProcessBus does (a realtime
 * event through one process is not slower than on the embedded engine), and sends them to Redis tagged with its
 * origin id; it ignores its own echo. Each instance has its channel (`<prefix>bus:<domain>`), subscribed while a
 * listener of that instance exists; listeners of every instance (domain `*`) use one pattern subscription. Redis keeps
 * the order of the messages of one connection, so the events of one document, written by one process, stay in order.
 *
 * On the wire: `<origin>\n<JSON [domain, doctype, id, verb, doc]>\n<JSON of old, or nothing>`. The receiver parses
 * `old` only when a listener reads it, as the SQLite engine's events do.
 *
 * While Redis is unreachable, publishing still reaches this process's listeners; the other processes miss the event
 * (their changes feeds and realtime clients catch up as after any disconnection).
 */
import { randomUUID } from 'node:crypto';
import { InProcessBus, type DocEvent, type DocVerb, type EventBus, type Unsubscribe } from '../common/bus.js';
import { escapeGlob, RefCounted, type RedisChannels } from './channels.js';

export class RedisBus implements EventBus {
  /** Listeners of one instance, and listeners of every instance: a remote event reaches each group by its own subscription. */
  private readonly byDomain = new InProcessBus();
  private readonly anyDomain = new InProcessBus();
  private readonly origin = randomUUID();
  /** One Redis subscription per channel (or the pattern) with listeners, shared by them. */
  private readonly remote = new RefCounted();
  /** This process's own events only: what acts on a write (triggers, job hooks…) must act once, where it was written. */
  private readonly own = new InProcessBus();
  readonly localEvents: EventBus = { publish: (event) => this.publish(event), subscribe: (domain, doctype, listener) => this.own.subscribe(domain, doctype, listener) };
  /** Events that could not be sent to Redis (it was unreachable). */
  dropped = 0;

  /** `name`: the channels' namespace (`bus`, or `notices` for realtime's NOTIFIED events, which no trigger hears). */
  constructor(private readonly channels: RedisChannels, private readonly name = 'bus') {}

  publish(event: DocEvent): void {
    this.byDomain.publish(event);
    this.anyDomain.publish(event);
    this.own.publish(event);
    const head = JSON.stringify([event.domain, event.doctype, event.id, event.verb, event.doc]);
    const old = event.old === undefined ? '' : JSON.stringify(event.old);
    const redis = this.channels.redis;
    redis.commands.publish(redis.channel(`${this.name}:${event.domain}`), `${this.origin}\n${head}\n${old}`).catch(() => {
      this.dropped++;
    });
  }

  subscribe(domain: string, doctype: string | null, listener: (event: DocEvent) => void): Unsubscribe {
    const local = domain === '*' ? this.anyDomain : this.byDomain;
    const name = domain === '*' ? `${escapeGlob(this.channels.redis.channel(`${this.name}:`))}*` : this.channels.redis.channel(`${this.name}:${domain}`);
    const handler = (message: string) => this.receive(local, message);
    const remote = this.remote.acquire(name, () => (domain === '*' ? this.channels.onPattern(name, handler) : this.channels.on(name, handler)));
    const unsubscribe = local.subscribe(domain, doctype, listener);
    return () => {
      unsubscribe();
      remote();
    };
  }

  private receive(local: InProcessBus, message: string): void {
    if (message.startsWith(`${this.origin}\n`)) return;
    const event = decode(message);
    if (event) local.publish(event);
  }
}

/** The event of a bus message, or null if it is not one. */
function decode(message: string): DocEvent | null {
  const a = message.indexOf('\n');
  const b = message.indexOf('\n', a + 1);
  if (a < 0 || b < 0) return null;
  let head: unknown;
  try {
    head = JSON.parse(message.slice(a + 1, b));
  } catch {
    return null;
  }
  if (!Array.isArray(head) || head.length !== 5) return null;
  const [domain, doctype, id, verb, doc] = head as [string, string, string, DocVerb, Record<string, unknown>];
  const event: DocEvent = { domain, doctype, id, verb, doc };
  if (b === message.length - 1) return event;
  let old: Record<string, unknown> | undefined;
  return Object.defineProperty(event, 'old', { enumerable: true, get: () => (old ??= JSON.parse(message.slice(b + 1)) as Record<string, unknown>) });
}
