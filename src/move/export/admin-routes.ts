/**
 * The export routes of the admin API (cozy-stack web/instances): `POST /instances/:domain/export` (no mail: realtime
 * only), `GET /instances/:domain/exports` (to follow it), `GET /instances/:domain/exports/:exportId/data` (every part
 * in one zip for the CLI, or one part with ?cursor=).
 */
import type { FastifyInstance } from 'fastify';
import { NotFound } from '../../common/errors.js';
import { findInstance } from '../../instances/find.js';
import type { InstanceRegistry } from '../../instances/types.js';
import { FILES_DOCTYPE, ZIP_NAME, partZipName } from '../layout.js';
import type { ArchiveSource } from './archive.js';
import { exportPartZip } from './archive.js';
import { exportOptions, type Exports } from './exports.js';
import { partOf } from './parts.js';
import { sendZip } from './routes.js';
import * as S from './schemas.js';

export function registerExportAdminRoutes(app: FastifyInstance, deps: { registry: InstanceRegistry; exports: Exports; archive: ArchiveSource }): void {
  app.post<{ Params: { domain: string }; Body: Record<string, unknown> | undefined }>('/instances/:domain/export', { schema: S.adminCreate }, async (req, reply) => {
    const instance = await findInstance(deps.registry, req.params.domain);
    const job = await deps.exports.request(instance, { ...exportOptions(req.body ?? {}), admin: true });
    return reply.code(201).send({ data: { job_id: job._id } });
  });

  app.get<{ Params: { domain: string } }>('/instances/:domain/exports', { schema: S.adminList }, async (req) => {
    const instance = await findInstance(deps.registry, req.params.domain);
    return { data: await deps.exports.list(instance) };
  });

  app.get<{ Params: { domain: string; exportId: string }; Querystring: { cursor?: string } }>('/instances/:domain/exports/:exportId/data', { schema: S.adminData }, async (req, reply) => {
    const instance = await findInstance(deps.registry, req.params.domain);
    const doc = await deps.exports.byId(instance, req.params.exportId);
    if (doc.state !== 'done') throw new NotFound(`exports: the export is not ready (${doc.state})`);
    const all = req.query.cursor === undefined || req.query.cursor === 'all';
    // every part in one zip: part 0's range with no end
    const range = all ? { number: 0, start: { doctype: FILES_DOCTYPE, id: '' } as const, end: null } : partOf(doc.parts_cursors, req.query.cursor);
    return sendZip(reply, all || !doc.parts_cursors.length ? ZIP_NAME : partZipName(range.number), exportPartZip(deps.archive, instance, doc, range));
  });
}
