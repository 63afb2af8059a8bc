/** Child of the Redis locks' crash test: takes lock `argv[4]` on Redis `argv[2]` (prefix `argv[3]`, lease `argv[5]` ms), prints its fence, then hangs until killed. */
import { once } from 'node:events';
import { createRedisConnections } from '../../src/engines/redis.js';
import { RedisChannels } from '../../src/coordination/channels.js';
import { RedisLocks } from '../../src/coordination/redis-locks.js';

const [url, prefix, key, lease] = process.argv.slice(2) as [string, string, string, string];
const redis = createRedisConnections(url, prefix, 'holder');
await once(redis.commands, 'ready');
const locks = new RedisLocks(new RedisChannels(redis), { leaseMs: Number(lease) });
await locks.withLock(key, async (held) => {
  process.stdout.write(`${held.fence}\n`);
  await new Promise(() => setInterval(() => undefined, 1000));
});
