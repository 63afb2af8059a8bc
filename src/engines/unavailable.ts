/** Whether an error means that a server this process depends on (PostgreSQL, Redis, the object store) is unreachable now: a 503, not a 500. */
import { isObjectStoreUnavailable } from './object-store.js';
import { isPgUnavailable } from './postgres.js';
import { isRedisUnavailable } from './redis.js';

export type Dependency = 'database' | 'coordination' | 'objectStorage';

export function unavailableDependency(error: unknown): Dependency | null {
  if (isPgUnavailable(error)) return 'database';
  if (isRedisUnavailable(error)) return 'coordination';
  if (isObjectStoreUnavailable(error)) return 'objectStorage';
  return null;
}
