/**
 * The subscriptions of one process on its Redis subscriber connection (src/engines/redis.ts), shared by the bus, the
 * invalidations and the locks' release notices: each channel (or pattern) is subscribed once, while at least one
 * handler listens, and unsubscribed when the last one leaves. ioredis replays the subscriptions after a reconnection
 * (autoResubscribe), so a restarted Redis is listened to again without restarting hearth.
 */
import type { Redis } from 'ioredis';
import type { RedisConnections } from '../engines/redis.js';

export type ChannelHandler = (message: string, channel: string) => void;

export class RedisChannels {
  private readonly exact = new Map<string, Set<ChannelHandler>>();
  private readonly patterns = new Map<string, Set<ChannelHandler>>();
  private readonly pending = new Set<Promise<unknown>>();
  private sub: Redis | null = null;

  constructor(readonly redis: RedisConnections) {}

  /** Handles the messages of `channel` (already prefixed: redis.channel(name)). Returns the function that stops. */
  on(channel: string, handler: ChannelHandler): () => void {
    return this.add(this.exact, channel, handler, false);
  }

  /** Handles the messages of every channel matching `pattern` (a Redis glob, already prefixed). */
  onPattern(pattern: string, handler: ChannelHandler): () => void {
    return this.add(this.patterns, pattern, handler, true);
  }

  /** Resolves once every SUBSCRIBE asked so far is active on the server (tests, and a start that must not miss a message). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private connection(): Redis {
    if (this.sub) return this.sub;
    const sub = this.redis.subscriber();
    sub.on('message', (channel: string, message: string) => this.dispatch(this.exact.get(channel), message, channel));
    sub.on('pmessage', (pattern: string, channel: string, message: string) => this.dispatch(this.patterns.get(pattern), message, channel));
    return (this.sub = sub);
  }

  private dispatch(handlers: Set<ChannelHandler> | undefined, message: string, channel: string): void {
    if (!handlers) return;
    for (const handler of [...handlers]) {
      try {
        handler(message, channel);
      } catch {
        // a failing handler must not stop the others
      }
    }
  }

  private add(map: Map<string, Set<ChannelHandler>>, name: string, handler: ChannelHandler, pattern: boolean): () => void {
    let set = map.get(name);
    if (!set) {
      map.set(name, (set = new Set()));
      const sub = this.connection();
      this.track(pattern ? sub.psubscribe(name) : sub.subscribe(name));
    }
    set.add(handler);
    return () => {
      if (!set.delete(handler) || set.size > 0 || map.get(name) !== set) return;
      map.delete(name);
      const sub = this.connection();
      this.track(pattern ? sub.punsubscribe(name) : sub.unsubscribe(name));
    };
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }
}

/** `text` matched literally in a Redis glob pattern (PSUBSCRIBE, SCAN MATCH). */
export function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]^]/g, (c) => `\\${c}`);
}

/**
 * Holds one thing per name (a channel handler) while at least one user needs it: `acquire(name, start)` calls `start`
 * for the first user and the function it returns after the last one released.
 */
export class RefCounted {
  private readonly held = new Map<string, { count: number; stop: () => void }>();

  acquire(name: string, start: () => () => void): () => void {
    let entry = this.held.get(name);
    if (!entry) this.held.set(name, (entry = { count: 0, stop: start() }));
    entry.count++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (--entry.count > 0) return;
      this.held.delete(name);
      entry.stop();
    };
  }
}
