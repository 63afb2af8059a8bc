/**
 * The /files API (JSON-API, as cozy-stack's web/files) and /settings/disk-usage, on the file
 * system core. Two plugin scopes: uploads, whose raw bodies are streamed by the handlers (no
 * parser reads them), and the others, which parse JSON-API bodies. Errors are JSON-API documents
 * (server/http-errors.ts) served as application/vnd.api+json.
 */
import type { FastifyInstance } from 'fastify';
import { addJsonParser } from '../../common/json-body.js';
import { rawBodies } from './body.js';
import { registerDiskUsageRoute } from './disk-usage.js';
import { registerDownloadRoutes } from './download.js';
import { registerMetadataRoutes } from './metadata.js';
import { JSONAPI } from './serialize.js';
import { registerTrashRoutes } from './trash.js';
import { registerUploadRoutes } from './upload.js';
import { registerUploadSessionRoutes } from './upload-sessions.js';
import { registerViewsRoutes } from './views.js';
import { registerLinkRoutes } from './links.js';
import { registerRelationRoutes } from './relations.js';
import { registerBatchPatchRoute } from './batch.js';
import { registerNotSynchronizedRoutes } from './not-synchronized.js';
import { registerSizeRoute } from './size.js';
import { registerThumbnailRoutes } from './thumbnails.js';
import { registerUploadMetadataRoute } from './upload-metadata.js';
import { registerVersionRoutes } from './versions.js';
import type { FilesDeps } from './deps.js';

export type { FilesDeps };

function jsonApiErrors(scope: FastifyInstance): void {
  scope.addHook('onSend', async (_req, reply, payload) => {
    if (reply.statusCode >= 400 && String(reply.getHeader('content-type') ?? '').startsWith('application/json')) reply.header('content-type', JSONAPI);
    return payload;
  });
}

export function registerFilesRoutes(app: FastifyInstance, deps: FilesDeps): void {
  void app.register(async (scope) => {
    rawBodies(scope);
    jsonApiErrors(scope);
    registerUploadSessionRoutes(scope, deps);
    registerUploadRoutes(scope, deps);
  });
  void app.register(async (scope) => {
    addJsonParser(scope, JSONAPI, { allowEmpty: true });
    jsonApiErrors(scope);
    registerMetadataRoutes(scope, deps);
    registerTrashRoutes(scope, deps);
    registerDownloadRoutes(scope, deps);
    registerDiskUsageRoute(scope, deps);
    registerViewsRoutes(scope, deps);
    registerLinkRoutes(scope, deps);
    registerRelationRoutes(scope, deps);
    registerVersionRoutes(scope, deps);
    registerSizeRoute(scope, deps);
    registerBatchPatchRoute(scope, deps);
    registerUploadMetadataRoute(scope, deps);
    registerNotSynchronizedRoutes(scope, deps);
    registerThumbnailRoutes(scope, deps);
  });
}
