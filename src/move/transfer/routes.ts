/** The routes of a move between servers (src/move/transfer), in their own scope: form bodies, no CORS (as /auth). */
import type { FastifyInstance } from 'fastify';
import { parseFormBodies, withoutCors } from '../../auth/http.js';
import { registerAuthorizeMove } from './authorize.js';
import type { TransferDeps } from './deps.js';
import { registerSourceRoutes } from './source.js';
import { registerTargetRoutes } from './target.js';
import { registerWizardRoutes } from './wizard.js';

export function registerMoveTransferRoutes(app: FastifyInstance, deps: TransferDeps): void {
  void app.register(async (scope) => {
    withoutCors(scope, []);
    parseFormBodies(scope);
    registerAuthorizeMove(scope, deps);
    registerSourceRoutes(scope, deps);
    registerTargetRoutes(scope, deps);
    registerWizardRoutes(scope, deps);
  });
}
