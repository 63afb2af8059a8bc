/**
 * `GET /apps/:slug/download[/:version]` (cozy-apps.md §4.1): the code of an installed app as a tarball (the flagship
 * app keeps apps offline with it). A registry app redirects (303) to its registry's tarball when that is an http(s)
 * URL; otherwise the tarball is built from the stored files, gzipped, as it streams. A version other than the
 * installed one is a 412. Needs GET on the app.
 */
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { pack as tarPack } from 'tar-stream';
import { NotFound, PreconditionFailed } from '../../common/errors.js';
import { content, params, type RouteSchema } from '../../common/schemas.js';
import type { OwnerDeps } from '../../auth/owner.js';
import type { DocStore } from '../../data/store.js';
import type { Instance } from '../../instances/types.js';
import type { AppCodeStore } from '../code/store.js';
import { findApp } from '../repo.js';
import { KIND, type AppKind } from '../types.js';
import { callerOf, mayRead } from './access.js';

export interface DownloadDeps extends OwnerDeps {
  storeOf(instance: Instance): DocStore;
  code: Pick<AppCodeStore, 'index' | 'read'>;
  /** The registry's version object (its tarball URL) of a registry app; none: tarballs are always built. */
  registryVersion?(slug: string, version: string): Promise<{ url: string }>;
}

const schema = (kind: AppKind, versioned: boolean): RouteSchema => ({
  summary: `The code of an installed ${kind === 'webapp' ? 'web app' : 'konnector'} as a tarball`, tags: ['apps'],
  params: params({ slug: 'The slug', ...(versioned ? { version: 'The installed version (another one: 412)' } : {}) }),
  response: { 200: content('The tarball (gzip)', ['application/gzip']), 303: { description: 'To the registry\'s tarball', type: 'null' } },
});

type Req = FastifyRequest<{ Params: { slug: string; version?: string } }>;

export function registerDownloadRoutes(scope: FastifyInstance, deps: DownloadDeps, kind: AppKind): void {
  const { doctype, route } = KIND[kind];
  const handler = async (req: Req, reply: FastifyReply) => {
    const { instance, set } = await callerOf(deps, req, 'GET');
    mayRead(set, doctype, `${doctype}/${req.params.slug}`);
    const doc = await findApp(deps.storeOf(instance), kind, req.params.slug);
    if (!doc?.checksum) throw new NotFound(`${req.params.slug} is not installed`);
    if (req.params.version !== undefined && req.params.version !== doc.version) throw new PreconditionFailed(`${doc.slug} is installed in version ${doc.version}, not ${req.params.version.slice(0, 40)}`);
    if (doc.source.startsWith('registry://') && deps.registryVersion) {
      const url = (await deps.registryVersion(doc.slug, doc.version).catch(() => null))?.url;
      if (url && /^https?:\/\//.test(url)) return reply.code(303).header('Location', url).send();
    }
    const index = await deps.code.index(doc.checksum);
    if (!index) throw new NotFound(`the code of ${doc.slug} ${doc.version} is not stored`);
    const pack = tarPack();
    reply.header('Content-Type', 'application/gzip').header('Content-Disposition', `attachment; filename="${doc.slug}-${doc.version}.tar.gz"`);
    void (async () => {
      for (const [path, file] of index) {
        const body = await deps.code.read(doc.checksum, path, null);
        if (!body) continue;
        await pipeline(body, pack.entry({ name: path, size: file.size }));
      }
      pack.finalize();
    })().catch((e: unknown) => pack.destroy(e as Error));
    return reply.send(pack.pipe(createGzip()));
  };
  scope.get(`${route}/:slug/download`, { schema: schema(kind, false) }, handler);
  scope.get(`${route}/:slug/download/:version`, { schema: schema(kind, true) }, handler);
}
