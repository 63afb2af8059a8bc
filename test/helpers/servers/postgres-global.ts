/**
 * vitest globalSetup of the scale-out projects on PostgreSQL: one private server for the whole run, shared by those
 * projects (the first setup starts it, the last teardown stops it; testConfig gives each Hearth a database of its own
 * on it). Its URL (database `postgres`) reaches the workers of these projects only, by provide() and the setup file
 * postgres-env.ts, which sets TEST_PG_URL there: set here, in the main process, the variable would reach the workers
 * of every project, and the default project would run on PostgreSQL too.
 */
import type { TestProject } from 'vitest/node';
import { startPostgres, type PgServer } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    TEST_PG_URL: string;
  }
}

/** Held on globalThis: vitest may load this module once per project. */
const shared = globalThis as typeof globalThis & { hearthTestPg?: { server: Promise<PgServer>; users: number } };

export async function setup(project: TestProject): Promise<void> {
  shared.hearthTestPg ??= { server: startPostgres({ database: 'postgres', maxConnections: 500 }), users: 0 };
  shared.hearthTestPg.users++;
  project.provide('TEST_PG_URL', (await shared.hearthTestPg.server).url);
}

export async function teardown(): Promise<void> {
  const pg = shared.hearthTestPg;
  if (!pg || --pg.users > 0) return;
  shared.hearthTestPg = undefined;
  await (await pg.server).stop();
}
