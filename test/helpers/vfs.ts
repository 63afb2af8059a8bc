/**
 * A file system on real files for the core's tests: a SQLite store and a blob folder in a fresh
 * temporary directory, one instance record (`id` = 32 times `letter`), removed by `close()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InProcessBus } from '../../src/common/bus.js';
import { InProcessLocks } from '../../src/common/locks.js';
import { SqliteDocStore } from '../../src/data/sqlite/store.js';
import type { Instance } from '../../src/instances/types.js';
import { LocalBlobStore } from '../../src/files/blobs/local.js';
import type { FileSystemDeps } from '../../src/files/fs.js';
import { Vfs } from '../../src/files/vfs.js';

export interface TestVfs {
  vfs: Vfs;
  store: SqliteDocStore;
  /** The bus the store publishes its changes on. */
  bus: InProcessBus;
  blobs: LocalBlobStore;
  /** The thumbnails' area (instances/<id>/thumbs/). */
  thumbs: LocalBlobStore;
  instance: Instance;
  dir: string;
  /** Another Vfs on the same data, as a fresh process would see it (its caches empty). */
  reopen(): Vfs;
  /**
   * Runs `fn` while the store's fdatasync of its WAL fails (EBADF: the store is handed a descriptor
   * that is not open), as a failing disk would make it fail after a commit. The store then refuses
   * writes until `restartStore()`.
   */
  walSyncFailing<T>(fn: () => Promise<T>): Promise<T>;
  /** Closes the store and opens it again on the same file, as a restart of the server does (`store` is then the new one). */
  restartStore(): Promise<void>;
  /** The fdatasyncs of the store's WAL so far. */
  walSyncs(): number;
  close(): Promise<void>;
}

/** `opts.root`: where its temporary directory goes (the system's temporary folder by default). */
export function openTestVfs(letter: string, opts: Pick<FileSystemDeps, 'versions' | 'now'> & { root?: string } = {}): TestVfs {
  const { root = tmpdir(), ...deps } = opts;
  const dir = mkdtempSync(join(root, 'hearth-vfs-'));
  const instance: Instance = {
    id: letter.repeat(32), domain: `${letter}.files.example`, aliases: [], locale: 'en', email: null, publicName: null, tz: null, diskQuota: null,
    passphraseHash: null, onboarded: true, kdfIterations: 1000, createdAt: '', updatedAt: '',
  };
  const bus = new InProcessBus();
  const open = () => new SqliteDocStore(instance.domain, join(dir, 'docs.sqlite'), bus, { attachmentMaxBytes: 1e6, groupCommitMs: 0 });
  let store = open();
  const blobs = new LocalBlobStore(join(dir, 'instances'));
  const thumbs = new LocalBlobStore(join(dir, 'instances'), 'thumbs');
  const make = () => new Vfs({ storeOf: () => store, blobs, thumbs, locks: new InProcessLocks(), ...deps });
  return {
    vfs: make(), bus, blobs, thumbs, instance, dir, reopen: make,
    get store() {
      return store;
    },
    async restartStore() {
      await store.close();
      store = open();
    },
    walSyncs: () => (store as unknown as { wal: { syncs: number } }).wal.syncs,
    async walSyncFailing(fn) {
      const wal = (store as unknown as { wal: { fd: number | null } }).wal;
      await store.put('io.cozy.hearth.tests', { wal: 'open' }); // the WAL exists and its descriptor is open
      const fd = wal.fd;
      wal.fd = 1_000_000;
      try {
        return await fn();
      } finally {
        wal.fd = fd;
      }
    },
    async close() {
      await store.close();
      await Promise.all([blobs.close(), thumbs.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
