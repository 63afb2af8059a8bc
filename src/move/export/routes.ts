/**
 * The export routes of the instance's domain (cozy-stack web/move/move.go): `POST /move/exports` (a POST right on the
 * whole io.cozy.exports; rate-limited, over the limit cozy answers 404), and the two routes the MAC of the link opens,
 * `GET /move/exports/:mac` (the document) and `GET /move/exports/data/:mac?cursor=` (a part, as a streamed zip, which the
 * settings app may frame: cozy-stack appends its origin to the CSP's frame-ancestors, unless `apps.cspDisabled`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { Forbidden, NotFound, TooManyRequests } from '../../common/errors.js';
import { addJsonParser } from '../../common/json-body.js';
import { JSONAPI } from '../../common/schemas.js';
import { instanceOf } from '../../data/http/context.js';
import { enforceLimit, type RateLimiter } from '../../limits/index.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import { Permissions } from '../../permissions/rules.js';
import { CLOSED_CSP } from '../../apps/serve/csp.js';
import { partZipName, ZIP_NAME } from '../layout.js';
import type { ExportDoc } from '../types.js';
import type { ArchiveSource } from './archive.js';
import { exportPartZip } from './archive.js';
import { exportOptions, EXPORTS_DOCTYPE, type Exports } from './exports.js';
import { partOf } from './parts.js';
import * as S from './schemas.js';

export interface ExportRoutesDeps {
  perms: PermissionResolver;
  limiter: RateLimiter;
  exports: Exports;
  archive: ArchiveSource;
  /** `apps.cspDisabled`: the zip is sent without a CSP. */
  cspDisabled?: boolean;
}

/** An export as JSON-API (cozy-stack's jsonapi.Data of an ExportDoc). */
export function exportResource(doc: ExportDoc) {
  const { _id, _rev, ...attributes } = doc;
  return { type: EXPORTS_DOCTYPE, id: _id, attributes, meta: { rev: _rev }, links: { self: `/move/exports/${_id}` } };
}

/** Sends a zip: `filename` in Content-Disposition, as cozy-stack names parts. */
export function sendZip(reply: FastifyReply, filename: string, body: Readable): FastifyReply {
  return reply.type('application/zip').header('Content-Disposition', `attachment; filename="${filename}"`).header('Cache-Control', 'no-store').send(body);
}

async function noCspHook(_req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (reply.statusCode === 200) void reply.removeHeader('Content-Security-Policy');
  return payload;
}

export function registerExportRoutes(app: FastifyInstance, deps: ExportRoutesDeps): void {
  void app.register(async (scope) => {
    addJsonParser(scope, JSONAPI, { bodyLimit: 64 * 1024 });

    scope.post<{ Body: { data?: { attributes?: Record<string, unknown> } } }>('/move/exports', { bodyLimit: 64 * 1024, schema: S.create }, async (req, reply) => {
      const instance = instanceOf(req);
      const set = await deps.perms.forRequest(instance, req);
      if (!Permissions.allowsWholeType(set, 'POST', EXPORTS_DOCTYPE)) throw new Forbidden('asking for an export needs a POST right on the whole io.cozy.exports doctype');
      try {
        await enforceLimit(deps.limiter, 'export', instance.id);
      } catch (err) {
        // cozy-stack hides the limit behind a 404
        if (err instanceof TooManyRequests) throw new NotFound('Not found');
        throw err;
      }
      await deps.exports.request(instance, exportOptions(req.body.data?.attributes ?? {}));
      return reply.code(201).send();
    });

    scope.get<{ Params: { mac: string } }>('/move/exports/:mac', { schema: S.get }, async (req, reply) => {
      const doc = await deps.exports.byMac(instanceOf(req), req.params.mac);
      return reply.type(JSONAPI).send({ data: exportResource(doc) });
    });

    // apps.cspDisabled: no CSP at all on the zip, as cozy-stack (whose API then sends none) and the app hosts here; the
    // server's closed one (server/public.ts, an earlier onSend hook) would keep the settings app from framing it
    const noCsp = deps.cspDisabled ? { onSend: [noCspHook] } : {};
    scope.get<{ Params: { mac: string }; Querystring: { cursor?: string } }>('/move/exports/data/:mac', { schema: S.data, ...noCsp }, async (req, reply) => {
      const instance = instanceOf(req);
      const doc = await deps.exports.byMac(instance, req.params.mac);
      if (doc.state !== 'done') throw new NotFound(`exports: the export is not ready (${doc.state})`);
      const range = partOf(doc.parts_cursors, req.query.cursor);
      if (!deps.cspDisabled) void reply.header('Content-Security-Policy', CLOSED_CSP.replace("frame-ancestors 'none'", `frame-ancestors ${deps.exports.settingsOrigin(instance)}`));
      return sendZip(reply, doc.parts_cursors.length ? partZipName(range.number) : ZIP_NAME, exportPartZip(deps.archive, instance, doc, range));
    });
  });
}
