/**
 * globalSetup of the vitest project `redis` (vitest.config.ts): one private Redis for the whole run, named in
 * TEST_REDIS_URL so that every test Hearth runs with coordination.engine redis on its own key prefix
 * (test/helpers/engines.ts); stopped at the end.
 */
import { startRedis } from './redis.js';

export default async function setup(): Promise<() => Promise<void>> {
  const server = await startRedis();
  process.env.TEST_REDIS_URL = server.url;
  return async () => {
    delete process.env.TEST_REDIS_URL;
    await server.stop();
  };
}
