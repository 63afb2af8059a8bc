/** vitest globalSetup of the PostgreSQL projects: one private server for the whole run, named in TEST_PG_URL (test/helpers/engines.ts). */
import { startPostgres } from './postgres.js';

export async function setup() { const pg = await startPostgres({ database: 'postgres' }); process.env.TEST_PG_URL = pg.url; return async () => pg.stop(); }
