/**
 * The PostgreSQL document engine (docs.engine postgres): each instance's documents in a schema of their own
 * (schema.ts), on the one pool of the process (src/engines/postgres.ts, owned by the composition root). A store holds
 * no connection: every call borrows one from the pool for the time of its queries.
 */
import type { EventBus } from '../../common/bus.js';
import { ServiceUnavailable } from '../../common/errors.js';
import type { PgPool } from '../../engines/postgres.js';
import type { DocStore, DocStoreFactory } from '../store.js';
import { installMangoFunctions } from './mango/index.js';
import { checkStoreId, dropSchema, schemaOf } from './schema.js';
import { installWriteIndex, writeStamps, WRITES_TABLE } from './write-index.js';
import { PgDocStore, type PgInstanceState, type PgStoreOptions } from './store.js';

/** How many instances' cached doctype tables a process keeps (beyond, the least recently used are looked up again). */
const MAX_CACHED = 10_000;

export class PgDocStoreFactory implements DocStoreFactory {
  /** Per instance: its schema's state (tables looked up, schema created), least recently used first. */
  private readonly states = new Map<string, PgInstanceState>();
  private mango: Promise<void> | null = null;
  private writeIndex: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly pool: PgPool,
    private readonly bus: EventBus,
    private readonly opts: PgStoreOptions,
  ) {}

  private stateOf(storeId: string): PgInstanceState {
    let state = this.states.get(storeId);
    if (state) this.states.delete(storeId); // to the most recently used end
    else state = { schema: schemaOf(storeId), ready: null, tables: new Map(), indexes: new Map(), puts: new Map() };
    this.states.set(storeId, state);
    if (this.states.size > MAX_CACHED) this.states.delete(this.states.keys().next().value as string);
    return state;
  }

  /** The Mango SQL functions, installed once per pool before the first query that needs them. */
  private mangoReady = (): Promise<void> => {
    this.mango ??= installMangoFunctions(this.pool).catch((err: unknown) => {
      this.mango = null;
      throw err;
    });
    return this.mango;
  };

  /** The index of the writes (write-index.ts), created once per pool before the first write or read of it. */
  private writesReady = (): Promise<void> => {
    this.writeIndex ??= installWriteIndex(this.pool).catch((err: unknown) => {
      this.writeIndex = null;
      throw err;
    });
    return this.writeIndex;
  };

  open(domain: string, storeId: string): DocStore {
    checkStoreId(storeId);
    if (this.closed) throw new ServiceUnavailable('the server is shutting down');
    return new PgDocStore(domain, this.pool, this.stateOf(storeId), this.bus, this.opts, this.mangoReady, this.writesReady);
  }

  /** The stamps of the asked instances' writes (DocStoreFactory.writeStamps): one query for all of them. */
  async writeStamps(asked: ReadonlyMap<string, readonly string[]>): Promise<Map<string, string>> {
    await this.writesReady();
    const bySchema = new Map([...asked].map(([storeId, doctypes]) => [schemaOf(storeId), doctypes] as const));
    const stamps = await writeStamps(this.pool, bySchema);
    return new Map([...asked.keys()].map((storeId) => [storeId, stamps.get(schemaOf(storeId))!]));
  }

  /** How many instances this process knows the tables of (a store holds no connection of its own). */
  openCount(): number {
    return this.states.size;
  }

  async destroy(storeId: string): Promise<void> {
    checkStoreId(storeId);
    this.states.delete(storeId);
    await dropSchema(this.pool, schemaOf(storeId));
    await this.writesReady();
    await this.pool.query(`DELETE FROM ${WRITES_TABLE} WHERE schema = $1`, [schemaOf(storeId)]);
  }

  /** The pool is the composition root's: it closes it after every user of it. */
  async close(): Promise<void> {
    this.closed = true;
    this.states.clear();
  }
}
