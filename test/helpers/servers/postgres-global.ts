/**
 * vitest globalSetup of the scale-out projects on PostgreSQL: one private server for the whole run. Its URL (database
 * `postgres`; testConfig gives each Hearth a database of its own on it) reaches the workers of this project only, by
 * provide() and the setup file postgres-env.ts, which sets TEST_PG_URL there: set here, in the main process, the
 * variable would reach the workers of every project, and the default project would run on PostgreSQL too.
 */
import type { TestProject } from 'vitest/node';
import { startPostgres, type PgServer } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    TEST_PG_URL: string;
  }
}

let server: PgServer | null = null;

export async function setup(project: TestProject): Promise<void> {
  server = await startPostgres({ database: 'postgres', maxConnections: 500 });
  project.provide('TEST_PG_URL', server.url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
  server = null;
}
