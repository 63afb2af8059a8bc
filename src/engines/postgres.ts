/**
 * The PostgreSQL connection of a `hearth` process (docs.engine postgres): one bounded `pg` pool shared by every part
 * that keeps its state there (documents, the instance registry, sessions, jobs…), built once by the composition root.
 * A write is acknowledged only after COMMIT with synchronous_commit on (the server's default, forced here per session).
 */
import type pg from 'pg';
import { requirePg } from '../common/lazy-libs.js';

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;
/** What runs a query: the pool, or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export interface PgPoolOptions {
  url: string;
  /** Connections this process keeps at most (docs.poolSize). */
  max: number;
  /** Shown in pg_stat_activity: `hearth <name> <pid>`. */
  name: string;
}

export function createPgPool(opts: PgPoolOptions): PgPool {
  const pool = new (requirePg().Pool)({
    connectionString: opts.url,
    max: opts.max,
    application_name: `hearth ${opts.name} ${process.pid}`,
    // a server that does not answer fails the request (503) instead of hanging it
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    options: '-c synchronous_commit=on -c lock_timeout=10000 -c idle_in_transaction_session_timeout=60000',
  });
  // an idle connection cut by the server (a restart): the pool drops it and the next query opens another
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `fn` in a transaction (BEGIN … COMMIT, ROLLBACK on any error), on one client of the pool. */
export async function inTransaction<T>(pool: PgPool, fn: (client: PgClient) => Promise<T>, isolation: 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE' = 'READ COMMITTED'): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  // a connection cut while checked out (the server restarted) emits 'error' on the client, which the pool only listens
  // to on idle clients: without this listener the process would die of it; the query under way fails anyway
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true; // the connection is gone: do not give it back to the pool
    }
    throw e;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}

/** SQLSTATE classes and socket errors that mean "the database is not reachable now", not "the request is wrong". */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300']);

export function isPgUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(message);
}
