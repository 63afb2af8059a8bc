/**
 * Two `hearth` processes of a cluster for the fencing test of the app install lock (src/apps/install/fencing.test.ts):
 * the same storage (SQLite in `dir`, or PostgreSQL), locks on Redis with a short lease. The test process and its
 * paused child (test/fixtures/fenced-install-main.ts) each open one.
 */
import { pino } from 'pino';
import { createHearth, type Hearth } from '../../src/server/compose.js';
import { testConfig } from './hearth.js';

export const SLUG = 'fenced';
export const DOMAIN = 'fenced.install.test';

export function openFencedHearth(o: { dir: string; pgUrl: string | null; redisUrl: string; prefix: string; leaseMs: number }): Promise<Hearth> {
  const config = testConfig(o.dir, {
    coordination: { engine: 'redis', url: o.redisUrl, prefix: o.prefix },
    ...(o.pgUrl ? { docs: { engine: 'postgres', url: o.pgUrl, poolSize: 3 } } : {}),
  });
  return createHearth(config, pino({ level: 'silent' }), { locks: { leaseMs: o.leaseMs } });
}
