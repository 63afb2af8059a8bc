/**
 * A private PostgreSQL for the tests of the server's own state on PostgreSQL (registry, sessions, WebDAV locks): fresh
 * databases on one server, and pools on them as the composition root makes them (src/engines/postgres.ts). Two pools on
 * one database are two processes for what they share: only the server's rows.
 */
import { createPgPool, type PgPool } from '../../src/engines/postgres.js';
import { startPostgres, type PgServer } from './servers/postgres.js';

export interface PgStateServer {
  server: PgServer;
  /** A new empty database's URL. */
  database(): Promise<string>;
  /** A pool on `url` (closed by `close`). */
  pool(url: string): PgPool;
  close(): Promise<void>;
}

export async function startPgState(): Promise<PgStateServer> {
  const server = await startPostgres({ database: 'postgres' });
  const pools: PgPool[] = [];
  let n = 0;
  return {
    server,
    database: () => server.database_url(`state_${++n}`),
    pool(url) {
      const pool = createPgPool({ url, max: 4, name: 'test' });
      pools.push(pool);
      return pool;
    },
    async close() {
      await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
      await server.stop();
    },
  };
}
