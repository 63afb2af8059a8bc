/**
 * The export part, built for the composition root: its store (SQLite in dataDir, or the schema `hearth` with
 * docs.engine postgres), the `Exports` service (worker, sweep), and its public and admin routes.
 */
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import type { PgPool } from '../../engines/postgres.js';
import type { InstanceRegistry } from '../../instances/types.js';
import { registerExportAdminRoutes } from './admin-routes.js';
import { Exports, type ExportsDeps } from './exports.js';
import { registerExportRoutes, type ExportRoutesDeps } from './routes.js';
import { SqliteExportStore, type ExportStore } from './store.js';
import { PgExportStore } from './store-pg.js';
import type { ArchiveSource } from './archive.js';

export type ExportsOptions = Pick<ExportsDeps, 'minPartSize' | 'sweepMs' | 'hooks' | 'beforeMeasure' | 'now'>;

/** The exports' store: made before the file system, whose removals of blobs ask it whether an export holds them (files/blobs/held.ts). */
export function openExportStore(dataDir: string, statePg: PgPool | null): ExportStore {
  return statePg ? new PgExportStore(statePg) : new SqliteExportStore(join(dataDir, 'exports.sqlite'));
}

export function createExports(deps: ExportsDeps) {
  const store = deps.store;
  const exports = new Exports(deps);
  const archive: ArchiveSource = { store, fs: deps.fs };
  return {
    store,
    exports,
    registerRoutes: (app: FastifyInstance, more: Pick<ExportRoutesDeps, 'perms' | 'limiter' | 'cspDisabled'>) => registerExportRoutes(app, { ...more, exports, archive }),
    registerAdminRoutes: (app: FastifyInstance, more: { registry: InstanceRegistry }) => registerExportAdminRoutes(app, { ...more, exports, archive }),
    async close() {
      await exports.close();
      await store.close();
    },
  };
}
