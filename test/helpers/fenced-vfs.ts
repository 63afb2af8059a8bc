/**
 * A file system as one `hearth` process of a cluster has it, for the fencing test (src/files/fencing.test.ts): its
 * instance's documents on SQLite (`dir`) or PostgreSQL (a database URL), its locks on Redis with a short lease. The
 * test process and its paused child (test/fixtures/fenced-holder-main.ts) each open one on the same storage.
 */
import { once } from 'node:events';
import { join } from 'node:path';
import { InProcessBus } from '../../src/common/bus.js';
import type { Locks } from '../../src/common/locks.js';
import { RedisChannels } from '../../src/coordination/channels.js';
import { RedisLocks } from '../../src/coordination/redis-locks.js';
import { PgDocStoreFactory } from '../../src/data/postgres/factory.js';
import { SqliteDocStoreFactory } from '../../src/data/sqlite/factory.js';
import { createPgPool } from '../../src/engines/postgres.js';
import { createRedisConnections } from '../../src/engines/redis.js';
import { LocalBlobStore } from '../../src/files/blobs/local.js';
import type { BlobStore } from '../../src/files/blobs/store.js';
import { Vfs } from '../../src/files/vfs.js';
import type { DocStore } from '../../src/data/store.js';
import { fakeInstance } from './jobs.js';

export const instance = { ...fakeInstance('fenced.files.example'), id: 'fe0ced00000000000000000000000000' };

export interface FencedVfs { vfs: Vfs; store: DocStore; close(): Promise<void> }

/**
 * `unfenced`: the same Redis locks, whose holders say they have no lease (the writes then carry no fence: a reference
 * for benchmarks). `blobs`: the blob store (default: a local folder in `dir`); `wrap`: what the file system sees of the
 * instance's store (a test's hook around its writes).
 */
export async function openFencedVfs(o: {
  dir: string; pgUrl: string | null; redisUrl: string; prefix: string; leaseMs: number; name: string; unfenced?: boolean; blobs?: BlobStore; wrap?: (store: DocStore) => DocStore;
}): Promise<FencedVfs> {
  const pool = o.pgUrl ? createPgPool({ url: o.pgUrl, max: 4, name: o.name }) : null;
  const bus = new InProcessBus();
  const stores = pool ? new PgDocStoreFactory(pool, bus, { attachmentMaxBytes: 1 << 20 }) : new SqliteDocStoreFactory(join(o.dir, 'docs'), bus, { attachmentMaxBytes: 1 << 20, groupCommitMs: 0 });
  const store = stores.open(instance.domain, instance.id);
  const redis = createRedisConnections(o.redisUrl, o.prefix, o.name);
  await once(redis.commands, 'ready');
  const locks = new RedisLocks(new RedisChannels(redis), { leaseMs: o.leaseMs });
  const blobs = o.blobs ?? new LocalBlobStore(join(o.dir, 'instances'));
  const used: Locks = o.unfenced ? { withLock: (key, fn) => locks.withLock(key, (held) => fn({ ...held, fence: held.fence, signal: held.signal, leased: false })) } : locks;
  const seen = o.wrap ? o.wrap(store) : store;
  const vfs = new Vfs({ storeOf: () => seen, blobs, locks: used });
  return {
    vfs, store,
    async close() {
      locks.close();
      await stores.close();
      await blobs.close();
      await pool?.end();
      await redis.close();
    },
  };
}
