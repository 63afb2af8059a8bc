/**
 * A second engine of each kind for the migration tests (instances/migrate.ts): a SQLite document factory and a local
 * blob store in a folder of their own, named `sqlite-b` and `local-b` (HearthOptions.extraEngines).
 */
import { join } from 'node:path';
import { SqliteDocStoreFactory } from '../../src/data/sqlite/factory.js';
import { LocalBlobStore } from '../../src/files/blobs/local.js';
import type { HearthOptions } from '../../src/server/compose.js';

export const B = { docs: 'sqlite-b', blobs: 'local-b' };

export function secondEngines(dir: string): NonNullable<HearthOptions['extraEngines']> {
  return {
    docs: { [B.docs]: (bus) => new SqliteDocStoreFactory(join(dir, 'docs'), bus, { attachmentMaxBytes: 8 << 20, groupCommitMs: 0 }) },
    blobs: { [B.blobs]: () => ({ files: new LocalBlobStore(join(dir, 'blobs')), thumbs: new LocalBlobStore(join(dir, 'blobs'), 'thumbs') }) },
  };
}
