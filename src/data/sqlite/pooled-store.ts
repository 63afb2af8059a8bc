/**
 * The DocStore handed out for an instance: a handle that borrows the instance's open database from
 * the pool (factory.ts) for each call and gives it back when the call has finished, i.e. when its
 * promise settles (for a write, once it is durable). While a call runs the database is counted as in
 * use and is never closed; between calls the pool may close it, and the next call opens it again.
 * A long-lived user (a changes feed waiting for events) thus holds no descriptor while it waits.
 */
import { ServiceUnavailable } from '../../common/errors.js';
import type { DocStore } from '../store.js';

export interface Lease {
  readonly store: DocStore;
}

export interface StoreLender {
  lease(domain: string, storeId: string): Lease | Promise<Lease>;
  /** `outOfDescriptors`: the call failed for want of a descriptor; unused databases should be closed to free some. */
  release(lease: Lease, outOfDescriptors?: boolean): void;
  openCount(): number;
}

const OUT_OF_DESCRIPTORS = new Set(['EMFILE', 'ENFILE', 'SQLITE_CANTOPEN']);

/** The process (or the system) has no descriptor left to open a file with. */
export function isOutOfDescriptors(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && OUT_OF_DESCRIPTORS.has(code);
}

export function outOfDescriptors(openStores: number): ServiceUnavailable {
  return new ServiceUnavailable(
    `the server has run out of open files (${openStores} instance databases are open and in use): retry in a moment; ` +
      'its operator can raise the open-file limit (ulimit -n, LimitNOFILE) or lower data.maxOpenStores',
  );
}

export class PooledDocStore implements DocStore {
  constructor(
    private readonly pool: StoreLender,
    readonly domain: string,
    private readonly storeId: string,
  ) {}

  /** Runs `fn` on the open database; synchronous when it is already open, so calls keep their order. */
  private use<T>(fn: (store: DocStore) => Promise<T>): Promise<T> {
    const run = (lease: Lease): Promise<T> => {
      let result: Promise<T>;
      try {
        result = fn(lease.store);
      } catch (err) {
        this.pool.release(lease);
        return Promise.reject(err);
      }
      return result.then(
        (value) => { this.pool.release(lease); return value; },
        (err: unknown) => {
          const out = isOutOfDescriptors(err);
          this.pool.release(lease, out);
          throw out ? outOfDescriptors(this.pool.openCount()) : err;
        },
      );
    };
    let lease: Lease | Promise<Lease>;
    try {
      lease = this.pool.lease(this.domain, this.storeId);
    } catch (err) {
      return Promise.reject(err);
    }
    return lease instanceof Promise ? lease.then(run) : run(lease);
  }

  // methods on the prototype, not arrow-function fields: a handle is made for each request (storeOf), and 25 closures
  // per handle were most of its cost
  snapshot() { return this.use((s) => s.snapshot()); }
  listDoctypes(...a: Parameters<DocStore['listDoctypes']>) { return this.use((s) => s.listDoctypes(...a)); }
  info(...a: Parameters<DocStore['info']>) { return this.use((s) => s.info(...a)); }
  createDoctype(...a: Parameters<DocStore['createDoctype']>) { return this.use((s) => s.createDoctype(...a)); }
  dropDoctype(...a: Parameters<DocStore['dropDoctype']>) { return this.use((s) => s.dropDoctype(...a)); }
  get(...a: Parameters<DocStore['get']>) { return this.use((s) => s.get(...a)); }
  openRevs(...a: Parameters<DocStore['openRevs']>) { return this.use((s) => s.openRevs(...a)); }
  put(...a: Parameters<DocStore['put']>) { return this.use((s) => s.put(...a)); }
  bulkDocs(...a: Parameters<DocStore['bulkDocs']>) { return this.use((s) => s.bulkDocs(...a)); }
  putAll(...a: Parameters<DocStore['putAll']>) { return this.use((s) => s.putAll(...a)); }
  putInOrder(...a: Parameters<DocStore['putInOrder']>) { return this.use((s) => s.putInOrder(...a)); }
  bulkGet(...a: Parameters<DocStore['bulkGet']>) { return this.use((s) => s.bulkGet(...a)); }
  revsDiff(...a: Parameters<DocStore['revsDiff']>) { return this.use((s) => s.revsDiff(...a)); }
  allDocs(...a: Parameters<DocStore['allDocs']>) { return this.use((s) => s.allDocs(...a)); }
  changes(...a: Parameters<DocStore['changes']>) { return this.use((s) => s.changes(...a)); }
  currentSeq(...a: Parameters<DocStore['currentSeq']>) { return this.use((s) => s.currentSeq(...a)); }
  find(...a: Parameters<DocStore['find']>) { return this.use((s) => s.find(...a)); }
  count(...a: Parameters<DocStore['count']>) { return this.use((s) => s.count(...a)); }
  explain(...a: Parameters<DocStore['explain']>) { return this.use((s) => s.explain(...a)); }
  createIndex(...a: Parameters<DocStore['createIndex']>) { return this.use((s) => s.createIndex(...a)); }
  listIndexes(...a: Parameters<DocStore['listIndexes']>) { return this.use((s) => s.listIndexes(...a)); }
  deleteIndex(...a: Parameters<DocStore['deleteIndex']>) { return this.use((s) => s.deleteIndex(...a)); }
  getLocal(...a: Parameters<DocStore['getLocal']>) { return this.use((s) => s.getLocal(...a)); }
  localDocs(...a: Parameters<NonNullable<DocStore['localDocs']>>) { return this.use((s) => s.localDocs!(...a)); }
  putLocal(...a: Parameters<DocStore['putLocal']>) { return this.use((s) => s.putLocal(...a)); }
  deleteLocal(...a: Parameters<DocStore['deleteLocal']>) { return this.use((s) => s.deleteLocal(...a)); }
  getAttachment(...a: Parameters<DocStore['getAttachment']>) { return this.use((s) => s.getAttachment(...a)); }
  ping(...a: Parameters<DocStore['ping']>) { return this.use((s) => s.ping(...a)); }

  /** The pool owns the database: a handle has nothing of its own to close. */
  async close(): Promise<void> {}
}
