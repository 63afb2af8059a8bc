import type { FastifyInstance } from 'fastify';
import type { DataDeps } from './http/context.js';
import { registerChangesRoutes } from './http/changes.js';
import { registerDbRoutes } from './http/db.js';
import { registerDocRoutes } from './http/docs.js';
import { registerMangoRoutes } from './http/mango.js';
import { registerReplicationRoutes } from './http/replication.js';

export type { DataDeps } from './http/context.js';

/** Every /data route (cozy-stack's data system, CouchDB-shaped). */
export function registerDataRoutes(app: FastifyInstance, deps: DataDeps): void {
  registerDbRoutes(app, deps);
  registerMangoRoutes(app, deps);
  registerChangesRoutes(app, deps);
  registerReplicationRoutes(app, deps);
  registerDocRoutes(app, deps);
}
