/**
 * The WebDAV lock engine on PostgreSQL (docs.engine postgres), in the shared schema `hearth`: the rules of
 * locks-sqlite.ts for several processes. An acquire checks the conflicts and inserts in one transaction that first takes
 * a transaction-level advisory lock on the namespace (the instance): two processes locking overlapping paths of one
 * instance at the same moment are serialised, so exactly one gets the lock and the other sees the conflict. Roots are
 * compared byte-wise (COLLATE "C"), as the prefix ranges of `below` need.
 */
import { randomUUID } from 'node:crypto';
import { inTransaction, type PgPool, type Queryable } from '../../engines/postgres.js';
import { PgSchema } from '../../engines/pg-schema.js';
import { ancestors, belowRange, MAX_LOCKS, TooManyLocks, type DavLock, type DavLockEngine, type LockDepth, type LockScope, type NewLock } from './locks.js';

const DDL = `
CREATE TABLE IF NOT EXISTS hearth.dav_locks (token text PRIMARY KEY, ns text NOT NULL, root text COLLATE "C" NOT NULL, depth text NOT NULL,
  scope text NOT NULL, owner text NOT NULL, principal text NOT NULL, timeout integer NOT NULL, expires_at bigint NOT NULL);
CREATE INDEX IF NOT EXISTS dav_locks_root ON hearth.dav_locks (ns, root);`;

interface Row { token: string; root: string; depth: LockDepth; scope: LockScope; owner: string; principal: string; timeout: number; expires_at: string }
const COLS = 'token, root, depth, scope, owner, principal, timeout, expires_at';
const toLock = (r: Row): DavLock => ({ token: r.token, root: r.root, depth: r.depth, scope: r.scope, owner: r.owner, principal: r.principal, timeout: r.timeout, expiresAt: Number(r.expires_at) });

export class PgLockEngine implements DavLockEngine {
  private readonly schema: PgSchema;
  private readonly now: () => number;

  constructor(private readonly pool: PgPool, opts: { now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.schema = new PgSchema(pool, DDL);
  }

  private async rows(sql: string, args: unknown[], db: Queryable = this.pool): Promise<DavLock[]> {
    await this.schema.ready();
    return ((await db.query(sql, args)).rows as Row[]).map(toLock);
  }

  private async run(sql: string, args: unknown[]): Promise<number> {
    await this.schema.ready();
    return (await this.pool.query(sql, args)).rowCount ?? 0;
  }

  private coveringAt(db: Queryable, ns: string, path: string, now: number): Promise<DavLock[]> {
    return this.rows(`SELECT ${COLS} FROM hearth.dav_locks WHERE ns = $1 AND expires_at > $2 AND (root = $3 OR (depth = 'infinity' AND root = ANY($4)))`,
      [ns, now, path, ancestors(path)], db);
  }

  private belowAt(db: Queryable, ns: string, path: string, now: number): Promise<DavLock[]> {
    return this.rows(`SELECT ${COLS} FROM hearth.dav_locks WHERE ns = $1 AND expires_at > $2 AND root > $3 AND root < $4`, [ns, now, ...belowRange(path)], db);
  }

  async covering(ns: string, path: string): Promise<DavLock[]> {
    return this.coveringAt(this.pool, ns, path, this.now());
  }

  async below(ns: string, path: string): Promise<DavLock[]> {
    return this.belowAt(this.pool, ns, path, this.now());
  }

  async acquire(ns: string, lock: NewLock): Promise<{ lock: DavLock } | { conflict: DavLock }> {
    await this.schema.ready();
    return inTransaction(this.pool, async (db) => {
      await db.query("SELECT pg_advisory_xact_lock(hashtext('hearth.dav_locks'), hashtext($1))", [ns]);
      const now = this.now();
      await db.query('DELETE FROM hearth.dav_locks WHERE ns = $1 AND expires_at <= $2', [ns, now]);
      // overlapping: a lock whose scope holds the new root, or one the new lock's scope would hold
      const overlapping = [...(await this.coveringAt(db, ns, lock.root, now)), ...(lock.depth === 'infinity' ? await this.belowAt(db, ns, lock.root, now) : [])];
      const conflict = overlapping.find((l) => l.scope === 'exclusive' || lock.scope === 'exclusive');
      if (conflict) return { conflict };
      const { rows: [count] } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM hearth.dav_locks WHERE ns = $1', [ns]);
      if ((count?.n ?? 0) >= MAX_LOCKS) throw new TooManyLocks();
      const taken: DavLock = { ...lock, token: `opaquelocktoken:${randomUUID()}`, expiresAt: now + lock.timeout * 1000 };
      await db.query('INSERT INTO hearth.dav_locks (token, ns, root, depth, scope, owner, principal, timeout, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)',
        [taken.token, ns, taken.root, taken.depth, taken.scope, taken.owner, taken.principal, taken.timeout, taken.expiresAt]);
      return { lock: taken };
    });
  }

  async refresh(ns: string, token: string, timeout: number): Promise<DavLock | null> {
    const now = this.now();
    const [lock] = await this.rows(`UPDATE hearth.dav_locks SET timeout = $1, expires_at = $2 WHERE ns = $3 AND token = $4 AND expires_at > $5 RETURNING ${COLS}`,
      [timeout, now + timeout * 1000, ns, token, now]);
    return lock ?? null;
  }

  async release(ns: string, token: string): Promise<boolean> {
    return (await this.run('DELETE FROM hearth.dav_locks WHERE ns = $1 AND token = $2 AND expires_at > $3', [ns, token, this.now()])) > 0;
  }

  async dropTree(ns: string, path: string): Promise<void> {
    await this.run('DELETE FROM hearth.dav_locks WHERE ns = $1 AND (root = $2 OR (root > $3 AND root < $4))', [ns, path, ...belowRange(path)]);
  }

  async dropNamespace(ns: string): Promise<void> {
    await this.run('DELETE FROM hearth.dav_locks WHERE ns = $1', [ns]);
  }

  /** The pool belongs to the composition root. */
  close(): void {}
}
