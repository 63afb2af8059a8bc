/**
 * globalSetup of the vitest project `redis` (vitest.config.ts): one private Redis for the whole run. Its URL reaches
 * the workers of this project only, by provide() and the setup file redis-env.ts, which sets TEST_REDIS_URL there (set
 * here, in the main process, it would reach every project's workers and the default project would run on Redis too);
 * every test Hearth of the project then runs with coordination.engine redis on its own key prefix (test/helpers/engines.ts).
 */
import type { TestProject } from 'vitest/node';
import { startRedis, type RedisServer } from './redis.js';

declare module 'vitest' {
  export interface ProvidedContext {
    TEST_REDIS_URL: string;
  }
}

let server: RedisServer | null = null;

export async function setup(project: TestProject): Promise<void> {
  server = await startRedis();
  project.provide('TEST_REDIS_URL', server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = null;
}
