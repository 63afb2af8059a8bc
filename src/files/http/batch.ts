/**
 * `PATCH /files/`: many PATCH /files/:id in one request (cozy-stack's ModifyMetadataByIDInBatch). The
 * body is `{data: [{type, id, meta: {rev}, attributes: {…}}, …]}`; every item is parsed first (a bad one:
 * 400 and nothing changes) and PATCH on every document is checked before any change (403 and nothing
 * changes). Then each is applied in order, `meta.rev` acting as its If-Match. The answer is 204 when all
 * went well, else the JSON-API errors of the items that failed (`source: {parameter: "_id", pointer: <id>}`),
 * with the status of the first; the others are applied.
 *
 * Two differences with cozy-stack, both on the safe side (README, Files): cozy-stack ignores `meta.rev` here
 * (its docs' example sends one), Hearth checks it — a stale one is 412 for that item, the others are applied —
 * and an item without `meta`, or with `meta.rev` absent, null or "", is applied whatever its revision, as in
 * cozy-stack; and cozy-stack checks the rights item by item (a refusal stops midway, earlier items applied),
 * Hearth checks them all first.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BadRequest, HearthError, NotFound } from '../../common/errors.js';
import type { FileDoc } from '../types.js';
import { allowVfs, callerOf } from './access.js';
import type { FilesDeps } from './deps.js';
import { applyPatch } from './metadata.js';
import { parsePatch, type FilePatch } from './patch.js';
import { JSONAPI } from './serialize.js';
import * as S from './schemas.js';

interface Item {
  id: string;
  rev: string | undefined;
  patch: FilePatch;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function itemsOf(body: unknown): Item[] {
  const data = isObject(body) ? body.data : undefined;
  if (!Array.isArray(data) || data.length === 0) throw new BadRequest('send a JSON-API body: {"data": [{"type": "io.cozy.files", "id": "…", "attributes": {…}}, …]}', 'bad_json');
  return data.map((d: unknown, i) => {
    if (!isObject(d) || typeof d.id !== 'string' || d.id === '' || !isObject(d.attributes)) throw new BadRequest(`data[${i}] must be {"type": "io.cozy.files", "id": "…", "attributes": {…}}`, 'bad_json');
    const given = isObject(d.meta) ? d.meta.rev : undefined;
    if (given !== undefined && given !== null && typeof given !== 'string') throw new BadRequest(`data[${i}].meta.rev must be a revision string ("2-…"), or left out to apply the change whatever the revision`, 'bad_json');
    const rev = typeof given === 'string' && given !== '' ? given : undefined;
    return { id: d.id, rev, patch: parsePatch({ data: d }) };
  });
}

const errorOf = (err: HearthError, id: string) => ({ status: String(err.status), title: err.error, detail: err.reason, source: { parameter: '_id', pointer: id } });

export function registerBatchPatchRoute(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs, perms } = deps;
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const c = await callerOf(perms, req);
    const items = itemsOf(req.body);
    const errors: Array<ReturnType<typeof errorOf>> = [];
    const docs = new Map<Item, FileDoc>();
    for (const item of items) {
      try {
        docs.set(item, await vfs.fs.stat(c.instance, item.id));
      } catch (err) {
        if (!(err instanceof NotFound)) throw err;
        errors.push(errorOf(err, item.id));
      }
    }
    for (const doc of docs.values()) await allowVfs(vfs, c, 'PATCH', doc);
    for (const [item, doc] of docs) {
      try {
        await applyPatch(vfs, c, await vfs.fs.stat(c.instance, doc._id), item.patch, item.rev);
      } catch (err) {
        if (!(err instanceof HearthError)) throw err;
        errors.push(errorOf(err, item.id));
      }
    }
    if (errors.length === 0) return reply.code(204).send();
    return reply.code(Number(errors[0]!.status)).type(JSONAPI).send({ errors });
  };
  scope.patch('/files', { schema: S.batch }, handler);
  scope.patch('/files/', { schema: S.batch }, handler);
}
