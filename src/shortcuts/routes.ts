/**
 * `POST /shortcuts` and `GET /shortcuts/:id` (cozy-stack's web/shortcuts): `.url` files are files
 * (the /files API handles them), these routes write one from a name and an address, and read its
 * address back, as the `io.cozy.files.shortcuts` JSON-API object or as a redirect (a shared shortcut is then
 * marked seen). Rights are the file system's: POST in the directory, GET on the file.
 */
import type { FastifyInstance } from 'fastify';
import { Readable } from 'node:stream';
import { BadRequest, NotFound, UnprocessableEntity } from '../common/errors.js';
import { addJsonParser } from '../common/json-body.js';
import type { Doc } from '../data/store.js';
import { allowCreate, allowVfs, appSlugOf, callerOf } from '../files/http/access.js';
import type { FilesDeps } from '../files/http/deps.js';
import { JSONAPI, single } from '../files/http/serialize.js';
import { SHORTCUT_MIME } from '../files/mime.js';
import { classOf, isDir, ROOT_DIR_ID } from '../files/types.js';
import { generateShortcut, MAX_SHORTCUT_BYTES, parseShortcut } from './format.js';
import { markShortcutSeen } from './seen.js';
import * as S from './schemas.js';

const TYPE = 'io.cozy.files.shortcuts';

interface ShortcutBody {
  data: { attributes: { name?: unknown; url?: unknown; dir_id?: unknown; metadata?: unknown } };
}

/** A non-empty string attribute, or cozy-stack's 422 naming it. */
function attribute(value: unknown, name: string, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new UnprocessableEntity(`"${name}": ${what}`, 'invalid_attribute');
  return value;
}

const hasControlChar = (s: string): boolean => [...s].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);

/** The address as it may stand in a Location header: what is not printable ASCII is percent-encoded. */
function locationOf(url: string): string {
  try {
    return url.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c));
  } catch {
    throw new BadRequest('the shortcut\'s address is not valid text');
  }
}

export function registerShortcutRoutes(app: FastifyInstance, deps: Pick<FilesDeps, 'perms' | 'vfs'>): void {
  const { vfs, perms } = deps;
  void app.register(async (scope) => {
    addJsonParser(scope, JSONAPI, { bodyLimit: 64 * 1024 });

    scope.post<{ Body: ShortcutBody }>('/shortcuts', { bodyLimit: 64 * 1024, schema: S.create }, async (req, reply) => {
      const c = await callerOf(perms, req);
      const a = req.body.data.attributes;
      const url = attribute(a.url, 'url', 'No URL');
      // a line break would add lines to the file (another URL=…)
      if (hasControlChar(url) || url.length > 8192) throw new UnprocessableEntity('"url": an address on one line, without control characters, of at most 8,192 characters', 'invalid_attribute');
      let name = attribute(a.name, 'name', 'No name');
      if (!name.endsWith('.url')) name += '.url';
      const dirId = typeof a.dir_id === 'string' && a.dir_id !== '' ? a.dir_id : ROOT_DIR_ID;
      if (a.metadata !== undefined && (typeof a.metadata !== 'object' || a.metadata === null || Array.isArray(a.metadata))) throw new UnprocessableEntity('"metadata" must be an object', 'invalid_attribute');
      const parent = await vfs.fs.stat(c.instance, dirId);
      await allowCreate(vfs, c, parent, { type: 'file', name, tags: [], mime: SHORTCUT_MIME, class: classOf(SHORTCUT_MIME) });
      const body = generateShortcut(url);
      const app = appSlugOf(c.set);
      const doc = await vfs.fs.upload(c.instance, {
        dirId: parent._id, parent, name, body: Readable.from([body]), size: body.length, mime: SHORTCUT_MIME,
        ...(a.metadata === undefined ? {} : { metadata: a.metadata as Doc }), ...(app ? { app } : {}),
      });
      return reply.code(201).type(JSONAPI).send(single(doc));
    });

    scope.get<{ Params: { id: string } }>('/shortcuts/:id', { schema: S.get }, async (req, reply) => {
      const c = await callerOf(perms, req);
      const file = await vfs.fs.stat(c.instance, req.params.id);
      if (isDir(file)) throw new NotFound(`no file ${req.params.id.slice(0, 100)}`);
      await allowVfs(vfs, c, 'GET', file);
      if (Number(file.size) > MAX_SHORTCUT_BYTES) throw new BadRequest('The file is not in the expected format');
      const chunks: Buffer[] = [];
      for await (const chunk of await vfs.fs.open(c.instance, file)) chunks.push(chunk as Buffer);
      const url = parseShortcut(Buffer.concat(chunks));
      const now = await markShortcutSeen(vfs.fs, c.instance, file._id);
      const accept = req.headers.accept ?? '';
      if (accept.includes('application/json') || accept.includes(JSONAPI)) {
        const attributes = { name: now.name, dir_id: now.dir_id, url, metadata: now.metadata ?? null };
        return reply.type(JSONAPI).send({ data: { type: TYPE, id: now._id, attributes, meta: { rev: now._rev } } });
      }
      return reply.code(303).header('Location', locationOf(url)).send();
    });
  });
}
