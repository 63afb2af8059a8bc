/**
 * The Redis connections of a `hearth` process (coordination.engine redis): one for commands and, built on demand, one
 * for subscriptions (a subscribed ioredis connection can run nothing else). Every key goes under the configured prefix
 * (ioredis's keyPrefix); channel names, which keyPrefix does not touch, are prefixed with `channel()`.
 */
import type { Redis } from 'ioredis';
import { requireIoredis } from '../common/lazy-libs.js';

export interface RedisConnections {
  /** Commands (keys are prefixed automatically). */
  readonly commands: Redis;
  /** A second connection in subscriber mode, opened on first use. */
  subscriber(): Redis;
  /** A channel name under this server's prefix. */
  channel(name: string): string;
  readonly prefix: string;
  close(): Promise<void>;
  /** Drops both connections at once, without waiting for the server (a start that failed: it may be unreachable). */
  disconnect(): void;
}

export function createRedisConnections(url: string, prefix: string, name: string): RedisConnections {
  const options = {
    keyPrefix: prefix,
    connectionName: `hearth-${name}-${process.pid}`,
    // while Redis is down, commands fail at once (the request gets a 503) instead of waiting in a queue
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (times: number) => Math.min(times * 100, 2_000),
    lazyConnect: false,
  };
  const { Redis: RedisClient } = requireIoredis();
  const commands = new RedisClient(url, options);
  commands.on('error', () => undefined); // reconnects by itself; requests meanwhile fail with 503
  let sub: Redis | null = null;
  return {
    commands,
    prefix,
    channel: (channelName) => `${prefix}${channelName}`,
    subscriber() {
      if (!sub) {
        // the subscriber keeps its offline queue: its SUBSCRIBEs are replayed after a reconnection
        sub = new RedisClient(url, { ...options, keyPrefix: undefined, enableOfflineQueue: true, maxRetriesPerRequest: null, connectionName: `hearth-${name}-sub-${process.pid}` });
        sub.on('error', () => undefined);
      }
      return sub;
    },
    async close() {
      await Promise.all([commands, sub].map(async (c) => {
        if (!c) return;
        try {
          await c.quit();
        } catch {
          c.disconnect();
        }
      }));
    },
    disconnect() {
      commands.disconnect();
      sub?.disconnect();
    },
  };
}

/** The errors of a Redis that is not reachable now (connection refused or closed, offline queue disabled). */
export function isRedisUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; name?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT'].includes(e.code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return e.name === 'MaxRetriesPerRequestError' || /Stream isn't writeable|Connection is closed|enableOfflineQueue options is false/.test(message);
}
