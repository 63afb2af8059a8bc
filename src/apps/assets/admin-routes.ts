/**
 * The admin API of per-context assets (cozy-stack's `config insert-asset|rm-asset|ls-assets`): `POST /assets` fetches
 * `url` (http(s), or file:// on the server, as cozy-stack does) into the context's asset `name`, `GET /assets` lists,
 * `DELETE /assets?context=&name=` removes (the instances of that context get the default again).
 */
import type { FastifyInstance } from 'fastify';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { fileURLToPath } from 'node:url';
import { BadRequest } from '../../common/errors.js';
import { DEFAULT_CONTEXT } from '../../instances/context.js';
import type { ContextAsset } from './context-index.js';
import { MAX_ASSET_BYTES, type ContextAssets } from './context-assets.js';
import * as S from './schemas.js';

const view = (a: ContextAsset) => ({ context: a.context, name: `/${a.name}`, size: a.size, md5: a.md5, type: a.type, created_at: a.created_at });

/** The bytes at `url`: a file of the server (file://) or an http(s) download. */
async function fetchBody(url: string): Promise<Readable> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BadRequest(`invalid url ${JSON.stringify(url.slice(0, 200))}: expected file:///path or http(s)://…`);
  }
  if (u.protocol === 'file:') {
    const path = fileURLToPath(u);
    const st = await stat(path).catch(() => null);
    if (!st?.isFile()) throw new BadRequest(`${path} is not a readable file of the server`);
    if (st.size > MAX_ASSET_BYTES) throw new BadRequest(`${path} is bigger than ${MAX_ASSET_BYTES} bytes`);
    return createReadStream(path);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BadRequest(`unsupported url scheme ${u.protocol}: file:, http: or https:`);
  const res = await fetch(u, { signal: AbortSignal.timeout(60_000) }).catch((e: unknown) => {
    throw new BadRequest(`cannot download ${u.href}: ${(e as Error).message}`);
  });
  if (!res.ok || !res.body) throw new BadRequest(`cannot download ${u.href}: HTTP ${res.status}`);
  return Readable.fromWeb(res.body as WebReadableStream);
}

export function registerContextAssetAdminRoutes(app: FastifyInstance, deps: { assets: ContextAssets }): void {
  app.get<{ Querystring: { context?: string } }>('/assets', { schema: S.adminList }, async (req) => ({ data: (await deps.assets.list(req.query.context)).map(view) }));
  app.post<{ Body: { context?: string; name: string; url: string } }>('/assets', { schema: S.adminAdd }, async (req, reply) => {
    const { context = DEFAULT_CONTEXT, name, url } = req.body;
    const asset = await deps.assets.add(context, name, await fetchBody(url));
    return reply.code(201).send({ data: view(asset) });
  });
  app.delete<{ Querystring: { context?: string; name: string } }>('/assets', { schema: S.adminRemove }, async (req, reply) => {
    await deps.assets.remove(req.query.context ?? DEFAULT_CONTEXT, req.query.name);
    return reply.code(204).send();
  });
}
