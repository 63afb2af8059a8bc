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
  /**
   * Checkouts a connection serves before the pool closes it and opens another (docs.connectionUses; 0: never). The
   * server process behind a connection caches the catalog of every schema it touched and never gives it back, so this
   * bounds a backend's memory on a farm (bench/RESULTS-pg-catalog.md).
   */
  uses?: number;
}

export function createPgPool(opts: PgPoolOptions): PgPool {
  const pool: PgPool = new (requirePg().Pool)({
    connectionString: opts.url,
    max: opts.max,
    application_name: `hearth ${opts.name} ${process.pid}`,
    // a server that does not answer fails the request (503) instead of hanging it
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // pg-pool: Infinity when 0 or absent
    maxUses: opts.uses ?? 0,
    // jit off: Hearth's statements are short, and a plan whose estimate passes jit_above_cost (an empty table's
    // jsonb expansion does) was compiled by LLVM at every run: ~120 ms, and ~48 MB kept by the server process after it
    options: '-c synchronous_commit=on -c lock_timeout=10000 -c idle_in_transaction_session_timeout=60000 -c jit=off',
  });
  // an idle connection cut by the server (a restart): the pool drops it and the next query opens another
  pool.on('error', () => undefined);
  // a connection the server ended while it sat idle, with the news still unread (the process was busy while the server
  // restarted), fails the next statement sent on it: that statement never ran, so it is sent again on another
  // connection (each failed try drops its dead connection, so `max + 1` tries reach a live one)
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  pool.query = (async (...args: unknown[]) => {
    if (typeof args[args.length - 1] === 'function') return query(...args); // callback style: not used by Hearth
    for (let tries = 0; ; tries++) {
      try {
        return await query(...args);
      } catch (e) {
        if (!endedByServer(e) || tries >= opts.max) throw e;
      }
    }
  }) as PgPool['query'];
  return pool;
}

/**
 * The server ended the connection (shutdown or restart: SQLSTATE 57P01 admin_shutdown, 57P02 crash_shutdown). It says so
 * only at a point where the statement under way, if any, is rolled back, so the statement did not take effect.
 */
function endedByServer(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '57P01' || code === '57P02';
}

/** Runs `fn` in a transaction (BEGIN … COMMIT, ROLLBACK on any error), on one client of the pool. */
export async function inTransaction<T>(pool: PgPool, fn: (client: PgClient) => Promise<T>, isolation: 'READ COMMITTED' | 'REPEATABLE READ' | 'SERIALIZABLE' = 'READ COMMITTED'): Promise<T> {
  // a BEGIN that meets a connection the server ended has run nothing yet: the transaction starts again on another one
  for (let tries = 0; ; tries++) {
    const client = await pool.connect();
    let began = false;
    try {
      return await transaction(client, fn, isolation, () => (began = true));
    } catch (e) {
      if (began || !endedByServer(e) || tries >= (pool.options.max ?? 10)) throw e;
    }
  }
}

async function transaction<T>(client: PgClient, fn: (client: PgClient) => Promise<T>, isolation: string, began: () => void): Promise<T> {
  let broken = false;
  // a connection cut while checked out (the server restarted) emits 'error' on the client, which the pool only listens
  // to on idle clients: without this listener the process would die of it; the query under way fails anyway
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
    began();
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
