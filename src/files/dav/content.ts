/**
 * GET and HEAD (streamed from the blob, byte ranges — one, or several as multipart/byteranges, shared with
 * /files in ../ranges.ts —, ETag and Last-Modified, conditional requests) and PUT (streamed into the file
 * system: a new file, or new content for an existing one, which keeps an old version as /files does; the
 * quota applies while the body streams).
 */
import { Readable } from 'node:stream';
import { BadRequest } from '../../common/errors.js';
import { uploadBody } from '../http/body.js';
import { parseRanges, partialContent } from '../ranges.js';
import { isDir, parentPath } from '../types.js';
import type { DavRequest } from './context.js';
import { DavError } from './errors.js';
import { hrefOf, nameOf } from './paths.js';
import { etagOf, lastModified } from './props.js';

export async function get(dav: DavRequest): Promise<void> {
  const doc = await dav.resolve(dav.target.path);
  if (!doc) throw new DavError(404, 'not_found', `nothing at ${hrefOf(dav.target.path, false)}`);
  await dav.rights.assert('GET', doc);
  const reply = dav.reply;
  reply.header('ETag', etagOf(doc)).header('Last-Modified', lastModified(doc));
  if ((await dav.preconditions(doc)) === 'not-modified') {
    await reply.code(304).send();
    return;
  }
  if (isDir(doc)) {
    const text = `${hrefOf(dav.target.path, true)} is a WebDAV collection: list it with PROPFIND (Depth: 1).\n`;
    await reply.type('text/plain; charset=utf-8').send(dav.req.method === 'HEAD' ? undefined : text);
    return;
  }
  const size = Number(doc.size);
  const ifRange = dav.header('if-range');
  const ranges = ifRange !== undefined && ifRange !== etagOf(doc) ? null : parseRanges(dav.header('range'), size);
  const mime = String(doc.mime ?? 'application/octet-stream');
  reply.header('Accept-Ranges', 'bytes').type(mime);
  if (ranges) {
    const partial = partialContent(ranges, size, mime);
    reply.code(206).headers(partial.headers);
    if (dav.req.method === 'HEAD') {
      await reply.send();
      return;
    }
    const first = await dav.fs.open(dav.instance, doc, ranges[0]);
    await reply.send(partial.body(first, (r) => dav.fs.open(dav.instance, doc, r)));
    return;
  }
  reply.header('Content-Length', String(size));
  if (dav.req.method === 'HEAD' || size === 0) {
    await reply.send();
    return;
  }
  await reply.send(await dav.fs.open(dav.instance, doc, undefined));
}

export async function put(dav: DavRequest): Promise<void> {
  const { path } = dav.target;
  if (path === '/') throw new DavError(405, 'method_not_allowed', 'the root is a collection: PUT a file into it', undefined, { Allow: 'OPTIONS, PROPFIND, PROPPATCH, LOCK, UNLOCK' });
  if (dav.header('content-range') !== undefined) throw new BadRequest('partial PUT (Content-Range) is not supported: send the whole content');
  const parent = await dav.parentOf(path);
  const name = nameOf(path);
  const existing = await dav.fs.child(dav.instance, parent._id, name);
  if (existing && isDir(existing)) throw new DavError(405, 'method_not_allowed', 'a collection has no content to PUT', undefined, { Allow: 'OPTIONS, PROPFIND, PROPPATCH, DELETE, MKCOL, COPY, MOVE, LOCK, UNLOCK' });
  if (existing) await dav.rights.assert('PUT', existing);
  else await dav.rights.assertCreate(parent, { type: 'file', name });
  await dav.preconditions(existing);
  await dav.assertUnlocked(existing ? { path } : { path: parentPath(path) });
  const len = dav.header('content-length');
  const size = dav.header('transfer-encoding') === undefined && len !== undefined && /^\d+$/.test(len) ? Number(len) : undefined;
  const md5 = dav.header('content-md5');
  const mime = dav.header('content-type');
  // the request is not handed over (see uploadBody): a refusal mid-stream must not destroy the socket before the answer
  const file = { body: dav.body() === undefined ? Readable.from([]) : uploadBody(dav.req.raw), ...(size === undefined ? {} : { size }), ...(md5 ? { md5 } : {}), ...(mime ? { mime } : {}) };
  // a conditional PUT overwrites only the revision its conditions were checked on: the check and the write are one step
  const conditional = ['if-match', 'if-unmodified-since', 'if-none-match', 'if'].some((n) => dav.header(n) !== undefined);
  const doc = existing
    ? await dav.fs.overwrite(dav.instance, existing._id, conditional ? { ...file, ifMatch: existing._rev } : file)
    : await dav.fs.upload(dav.instance, { ...file, dirId: parent._id, name });
  await dav.reply.code(existing ? 204 : 201).header('ETag', etagOf(doc)).send();
}
