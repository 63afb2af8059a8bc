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

  listDoctypes: DocStore['listDoctypes'] = () => this.use((s) => s.listDoctypes());
  info: DocStore['info'] = (doctype) => this.use((s) => s.info(doctype));
  createDoctype: DocStore['createDoctype'] = (doctype) => this.use((s) => s.createDoctype(doctype));
  dropDoctype: DocStore['dropDoctype'] = (doctype) => this.use((s) => s.dropDoctype(doctype));
  get: DocStore['get'] = (doctype, id, opts) => this.use((s) => s.get(doctype, id, opts));
  openRevs: DocStore['openRevs'] = (doctype, id, revs, opts) => this.use((s) => s.openRevs(doctype, id, revs, opts));
  put: DocStore['put'] = (doctype, doc, onCommit) => this.use((s) => s.put(doctype, doc, onCommit));
  bulkDocs: DocStore['bulkDocs'] = (doctype, docs, newEdits) => this.use((s) => s.bulkDocs(doctype, docs, newEdits));
  putAll: DocStore['putAll'] = (doctype, docs, onCommit) => this.use((s) => s.putAll(doctype, docs, onCommit));
  bulkGet: DocStore['bulkGet'] = (doctype, items, opts) => this.use((s) => s.bulkGet(doctype, items, opts));
  revsDiff: DocStore['revsDiff'] = (doctype, request) => this.use((s) => s.revsDiff(doctype, request));
  allDocs: DocStore['allDocs'] = (doctype, opts) => this.use((s) => s.allDocs(doctype, opts));
  changes: DocStore['changes'] = (doctype, opts) => this.use((s) => s.changes(doctype, opts));
  currentSeq: DocStore['currentSeq'] = (doctype) => this.use((s) => s.currentSeq(doctype));
  find: DocStore['find'] = (doctype, request) => this.use((s) => s.find(doctype, request));
  count: DocStore['count'] = (doctype, selector) => this.use((s) => s.count(doctype, selector));
  explain: DocStore['explain'] = (doctype, request) => this.use((s) => s.explain(doctype, request));
  createIndex: DocStore['createIndex'] = (doctype, request) => this.use((s) => s.createIndex(doctype, request));
  listIndexes: DocStore['listIndexes'] = (doctype) => this.use((s) => s.listIndexes(doctype));
  deleteIndex: DocStore['deleteIndex'] = (doctype, ddoc, name) => this.use((s) => s.deleteIndex(doctype, ddoc, name));
  getLocal: DocStore['getLocal'] = (doctype, id) => this.use((s) => s.getLocal(doctype, id));
  putLocal: DocStore['putLocal'] = (doctype, id, doc) => this.use((s) => s.putLocal(doctype, id, doc));
  deleteLocal: DocStore['deleteLocal'] = (doctype, id, rev) => this.use((s) => s.deleteLocal(doctype, id, rev));
  getAttachment: DocStore['getAttachment'] = (doctype, id, name, rev) => this.use((s) => s.getAttachment(doctype, id, name, rev));
  ping: DocStore['ping'] = () => this.use((s) => s.ping());

  /** The pool owns the database: a handle has nothing of its own to close. */
  async close(): Promise<void> {}
}
