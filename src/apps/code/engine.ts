/**
 * The app code store of the configuration (what compose.ts constructs): on the local disk (./local-store.ts) with the
 * embedded docs engine; shared by the processes (./shared-store.ts) with docs.engine postgres, its index in PostgreSQL
 * and the files' bytes in the object store of blobs.engine swift or s3, or in PostgreSQL when the blobs are local.
 */
import { join } from 'node:path';
import type { Invalidation } from '../../common/invalidation.js';
import type { Locks } from '../../common/locks.js';
import type { HearthConfig } from '../../config/types.js';
import type { PgPool } from '../../engines/postgres.js';
import { blobStoreArea } from '../../files/blobs/engine.js';
import { ObjectCodeBlobs, PgCodeBlobs } from './code-blobs.js';
import { LocalAppCodeStore } from './local-store.js';
import { SharedAppCodeStore } from './shared-store.js';
import type { AppCodeStore } from './store.js';

export interface AppCodeEngineDeps {
  dataDir: string;
  blobs: HearthConfig['blobs'];
  /** The pool of the server's state (docs.engine postgres), else null. */
  pg: PgPool | null;
  locks: Locks;
  invalidation: Invalidation;
  /** How long an install's intent stays its process's without a renewal (shared store; default its own). */
  intentLeaseMs?: number;
}

export function createAppCodeStore(deps: AppCodeEngineDeps): AppCodeStore {
  const { dataDir, pg } = deps;
  if (!pg) return new LocalAppCodeStore({ dir: join(dataDir, 'apps-code'), dbFile: join(dataDir, 'apps-code.sqlite') });
  const blobs = deps.blobs.engine === 'local' ? new PgCodeBlobs(pg) : new ObjectCodeBlobs(blobStoreArea(deps.blobs, join(dataDir, 'instances'), 'apps-code'));
  // apps-code-cache/: downloads being checked and the versions this process runs, emptied at start (nothing to keep)
  return new SharedAppCodeStore({ pool: pg, blobs, localDir: join(dataDir, 'apps-code-cache'), locks: deps.locks, invalidation: deps.invalidation, ...(deps.intentLeaseMs !== undefined ? { intentLeaseMs: deps.intentLeaseMs } : {}) });
}
