import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { EventBus } from '../../common/bus.js';
import type { DocStore, DocStoreFactory } from '../store.js';
import { SqliteDocStore, type SqliteStoreOptions } from './store.js';

/** Opens one SQLite file per instance under <dataDir>/instances/<storeId>/docs.sqlite. */
export class SqliteDocStoreFactory implements DocStoreFactory {
  private readonly open_ = new Map<string, SqliteDocStore>();

  constructor(
    private readonly dataDir: string,
    private readonly bus: EventBus,
    private readonly opts: SqliteStoreOptions,
  ) {}

  private dir(storeId: string): string {
    if (!/^[0-9a-f]{32}$/.test(storeId)) throw new Error(`invalid store id ${storeId}`);
    return join(this.dataDir, 'instances', storeId);
  }

  open(domain: string, storeId: string): DocStore {
    let store = this.open_.get(storeId);
    if (!store) {
      const dir = this.dir(storeId);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      store = new SqliteDocStore(domain, join(dir, 'docs.sqlite'), this.bus, this.opts);
      this.open_.set(storeId, store);
    }
    return store;
  }

  async destroy(storeId: string): Promise<void> {
    const store = this.open_.get(storeId);
    this.open_.delete(storeId);
    if (store) await store.close();
    rmSync(this.dir(storeId), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    const stores = [...this.open_.values()];
    this.open_.clear();
    await Promise.all(stores.map((s) => s.close()));
  }
}
