/**
 * Cache invalidation over Redis pub/sub (coordination.engine redis): `invalidate` reaches this process's listeners at
 * once, in memory, and every other process's through the topic's channel (`<prefix>inval:<topic>`), tagged with the
 * origin so that a process does not hear its own invalidation twice. If Redis is unreachable the other processes miss
 * it: the caches that use this also bound the age of their entries (src/common/invalidation.ts).
 */
import { randomUUID } from 'node:crypto';
import { InProcessInvalidation, type Invalidation } from '../common/invalidation.js';
import { RefCounted, type RedisChannels } from './channels.js';

export class RedisInvalidation implements Invalidation {
  private readonly local = new InProcessInvalidation();
  private readonly origin = randomUUID();
  private readonly remote = new RefCounted();

  constructor(private readonly channels: RedisChannels) {}

  invalidate(topic: string, key: string): void {
    this.local.invalidate(topic, key);
    const redis = this.channels.redis;
    redis.commands.publish(redis.channel(`inval:${topic}`), `${this.origin}\n${key}`).catch(() => undefined);
  }

  listen(topic: string, listener: (key: string) => void): () => void {
    const name = this.channels.redis.channel(`inval:${topic}`);
    const remote = this.remote.acquire(name, () => this.channels.on(name, (message) => {
      const cut = message.indexOf('\n');
      if (cut < 0 || message.slice(0, cut) === this.origin) return;
      this.local.invalidate(topic, message.slice(cut + 1));
    }));
    const stop = this.local.listen(topic, listener);
    return () => {
      stop();
      remote();
    };
  }
}
