/**
 * Links that work without a token for 10 minutes, as cozy-stack's (model/vfs/store.go): a file's
 * download (`POST /files/downloads?Id=|Path=|VersionId=` → `GET /files/downloads/:secret/:name`) and a
 * zip of a selection (`POST /files/archive` → `GET /files/archive/:secret/:name`). The creator's rights
 * are checked when the link is made. The secret is signed rather than stored (HMAC-SHA256 under a key
 * derived from the instance's session secret), so it works on every process and leaves nothing behind.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { BadRequest, NotFound, PayloadTooLarge } from '../../common/errors.js';
import { instanceOf } from '../../data/http/context.js';
import type { Instance } from '../../instances/types.js';
import { zipOf } from '../archive.js';
import { versionsOf } from '../versions.js';
import { isDir, validateName, type FileDoc } from '../types.js';
import { allowVfs, callerOf } from './access.js';
import type { FilesDeps } from './deps.js';
import { contentDisposition } from './disposition.js';
import { sendContent } from './download.js';
import { param } from './params.js';
import { JSONAPI, single } from './serialize.js';
import * as S from './schemas.js';

export const LINK_TTL_MS = 10 * 60_000;
/** A selection is carried by its link: beyond this, select the directories above. */
const MAX_ARCHIVE_ENTRIES = 200;

export interface LinkPayload {
  /** download or archive */
  k: 'd' | 'a';
  /** file ids (one for a download) */
  i: string[];
  /** version id, for a download of an old version */
  v?: string;
  /** file name to use */
  n: string;
  /** expiry, ms since the epoch */
  e: number;
}

const keyOf = (secret: Uint8Array) => Buffer.from(hkdfSync('sha256', secret, 'hearth/links', 'hearth/files/links/v1', 32));

export function signLink(secret: Uint8Array, instanceId: string, p: LinkPayload): string {
  const body = Buffer.from(JSON.stringify(p)).toString('base64url');
  return `${body}.${createHmac('sha256', keyOf(secret)).update(`${instanceId}|${body}`).digest('base64url')}`;
}

function openLink(secret: Uint8Array, instanceId: string, token: string, kind: LinkPayload['k'], now: number): LinkPayload {
  const [body = '', mac = ''] = token.split('.');
  const want = createHmac('sha256', keyOf(secret)).update(`${instanceId}|${body}`).digest();
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new NotFound('this link does not exist (or not on this instance)');
  const p = JSON.parse(Buffer.from(body, 'base64url').toString()) as LinkPayload;
  if (p.k !== kind) throw new NotFound('this link does not exist');
  if (p.e <= now) throw new NotFound('this link has expired (links last 10 minutes): ask for a new one');
  return p;
}

const href = (kind: 'downloads' | 'archive', token: string, name: string) => `/files/${kind}/${token}/${encodeURIComponent(name)}`;

export function registerLinkRoutes(scope: FastifyInstance, deps: FilesDeps): void {
  const { vfs, perms } = deps;
  const secretOf = (instance: Instance) => deps.linkSecret(instance);

  scope.post('/files/downloads', { schema: S.makeLink }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const versionId = param(req, 'VersionId');
    const id = param(req, 'Id') ?? versionId?.split('/')[0];
    const doc = id !== undefined ? await vfs.fs.stat(c.instance, id) : await vfs.fs.statByPath(c.instance, param(req, 'Path'));
    await allowVfs(vfs, c, 'GET', doc);
    if (isDir(doc)) throw new BadRequest('a directory is downloaded as an archive: POST /files/archive', 'not_a_file');
    const name = validateName(param(req, 'Filename') ?? doc.name);
    const version = versionId?.includes('/') ? versionId.split('/')[1] : versionId;
    if (version !== undefined && !(await versionsOf(vfs.fs, c.instance, doc._id)).some((v) => v._id === `${doc._id}/${version}`)) {
      throw new NotFound(`no version ${version.slice(0, 100)} of this file`);
    }
    const token = signLink(await secretOf(c.instance), c.instance.id, { k: 'd', i: [doc._id], ...(version ? { v: version } : {}), n: name, e: Date.now() + LINK_TTL_MS });
    return reply.type(JSONAPI).send({ ...single(doc), links: { related: href('downloads', token, name) } });
  });

  const download = async (req: FastifyRequest<{ Params: { secret: string } }>, reply: FastifyReply) => {
    const instance = instanceOf(req);
    const p = openLink(await secretOf(instance), instance.id, req.params.secret, 'd', Date.now());
    let doc = await vfs.fs.stat(instance, p.i[0] ?? '');
    if (p.v) {
      const v = (await versionsOf(vfs.fs, instance, doc._id)).find((x) => x._id === `${doc._id}/${p.v}`);
      if (!v) throw new NotFound('this version of the file is gone');
      doc = { ...doc, size: v.size, md5sum: v.md5sum, internal_vfs_id: v.internal_vfs_id, updated_at: v.updated_at };
    }
    // shown inline, the content may be framed by the instance's apps (a PDF in the browser's viewer), never run anything
    if (deps.framedBy && param(req, 'Dl') !== '1') {
      void reply.header('Content-Security-Policy', `default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors ${deps.framedBy(String(req.headers.host ?? ''), req.protocol)}; base-uri 'none'; form-action 'none'`);
    }
    return sendContent(vfs, instance, doc, req, reply, p.n);
  };
  scope.head('/files/downloads/:secret/:name', { schema: S.byLink }, download);
  scope.get('/files/downloads/:secret/:name', { exposeHeadRoute: false, schema: S.byLink }, download);

  scope.post('/files/archive', { schema: S.makeArchive }, async (req, reply) => {
    const c = await callerOf(perms, req);
    const a = ((req.body as { data?: { attributes?: Record<string, unknown> } } | undefined)?.data?.attributes ?? {}) as Record<string, unknown>;
    const ids = Array.isArray(a.ids) ? a.ids : [];
    const paths = Array.isArray(a.files) ? a.files : [];
    if (ids.length + paths.length === 0) throw new BadRequest('list what goes in the archive: data.attributes.ids and/or data.attributes.files (paths)');
    if (ids.length + paths.length > MAX_ARCHIVE_ENTRIES) throw new PayloadTooLarge(`an archive lists at most ${MAX_ARCHIVE_ENTRIES} entries: select the directories above them instead`);
    const docs: FileDoc[] = [];
    for (const id of ids) docs.push(await vfs.fs.stat(c.instance, String(id)));
    for (const path of paths) docs.push(await vfs.fs.statByPath(c.instance, path));
    for (const d of docs) await allowVfs(vfs, c, 'GET', d);
    const name = `${validateName(typeof a.name === 'string' && a.name ? a.name : 'archive')}.zip`;
    const token = signLink(await secretOf(c.instance), c.instance.id, { k: 'a', i: docs.map((d) => d._id), n: name, e: Date.now() + LINK_TTL_MS });
    const link = href('archive', token, name);
    return reply.type(JSONAPI).send({ links: { related: link }, data: { type: 'io.cozy.files.archives', id: token, attributes: { href: link } } });
  });

  scope.get<{ Params: { secret: string } }>('/files/archive/:secret/:name', { schema: S.archive }, async (req, reply) => {
    const instance = instanceOf(req);
    const p = openLink(await secretOf(instance), instance.id, req.params.secret, 'a', Date.now());
    const docs: FileDoc[] = [];
    for (const id of p.i) docs.push(await vfs.fs.stat(instance, id));
    return reply.header('content-type', 'application/zip').header('content-disposition', contentDisposition('attachment', p.n)).send(zipOf(vfs.fs, instance, docs));
  });
}
