/**
 * A second engine of each kind for the migration tests (instances/migrate.ts): a SQLite document factory and a local
 * blob store in a folder of their own, named `sqlite-b` and `local-b` (HearthOptions.extraEngines); the rich instance
 * they move, and what its clients see of it.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'vitest';
import sharp from 'sharp';
import { SqliteDocStoreFactory } from '../../src/data/sqlite/factory.js';
import { LocalBlobStore } from '../../src/files/blobs/local.js';
import type { HearthOptions } from '../../src/server/compose.js';
import { ROOT, upload } from './files.js';
import type { TestHearth } from './hearth.js';
import { jpegWithExif } from './images.js';

export const B = { docs: 'sqlite-b', blobs: 'local-b' };

export function secondEngines(dir: string): NonNullable<HearthOptions['extraEngines']> {
  return {
    docs: { [B.docs]: (bus) => new SqliteDocStoreFactory(join(dir, 'docs'), bus, { attachmentMaxBytes: 8 << 20, groupCommitMs: 0 }) },
    blobs: { [B.blobs]: () => ({ files: new LocalBlobStore(join(dir, 'blobs')), thumbs: new LocalBlobStore(join(dir, 'blobs'), 'thumbs') }) },
  };
}

export const CONTACTS = 'io.cozy.contacts';
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');

/**
 * Fills an instance with what a move must carry: contacts with a conflict, a deletion, a _local document and an index;
 * files with an old version and (with `photo`) a thumbnail; an avatar. Returns the files' ids by name.
 */
export async function fillRichInstance(h: TestHearth, token: string, opts: { photo: boolean }): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const docs = Array.from({ length: 300 }, (_, i) => ({ _id: `c${i}`, fullname: `Person ${i}` }));
  expect((await h.req('POST', `/data/${CONTACTS}/_bulk_docs`, { token, body: { docs } })).status).toBe(201);
  const conflict = [1, 2].map((n) => ({ _id: 'conflicted', _rev: `1-${String(n).repeat(32)}`, fullname: `branch ${n}` }));
  expect((await h.req('POST', `/data/${CONTACTS}/_bulk_docs`, { token, body: { docs: conflict, new_edits: false } })).status).toBe(201);
  const c1 = await h.req('GET', `/data/${CONTACTS}/c1`, { token });
  expect((await h.req('DELETE', `/data/${CONTACTS}/c1?rev=${c1.body._rev}`, { token })).status).toBe(200);
  expect((await h.req('PUT', `/data/${CONTACTS}/_local/checkpoint`, { token, body: { last_seq: '7' } })).status).toBe(201);
  expect((await h.req('POST', `/data/${CONTACTS}/_index`, { token, body: { index: { fields: ['fullname'] } } })).status).toBe(200);
  const big = Buffer.alloc(3 << 20, 7);
  files.big = (await upload(h, token, ROOT, 'big.bin', big)).id;
  const note = await upload(h, token, ROOT, 'note.txt', 'first version');
  files.note = note.id;
  expect((await h.req('PUT', `/files/${note.id}`, { token, raw: 'second version', headers: { 'If-Match': note.rev } })).status).toBe(200);
  const avatar = await sharp({ create: { width: 48, height: 32, channels: 3, background: '#884422' } }).png().toBuffer();
  const settings = await h.cliToken('io.cozy.settings');
  expect((await h.req('PUT', '/settings/avatar', { token: settings, raw: avatar, headers: { 'content-type': 'image/png' } })).status).toBe(204);
  expect((await h.req('GET', '/public/avatar')).headers['content-type']).toBe('image/png');
  if (!opts.photo) return files;
  files.photo = (await upload(h, token, ROOT, 'photo.jpg', await jpegWithExif(800, 600))).id;
  // the thumbnails are made by a job: wait for them
  for (let i = 0; i < 300 && !(await h.req('GET', `/files/${files.photo}`, { token })).body.data.links?.small; i++) await new Promise((r) => setTimeout(r, 100));
  return files;
}

/** What clients see of the instance, through HTTP: documents with their conflicts and leaves, _local, indexes, file contents. */
export async function clientView(h: TestHearth, token: string, files: Record<string, string>): Promise<Record<string, unknown>> {
  const all = await h.req('GET', `/data/${CONTACTS}/_all_docs?include_docs=true&conflicts=true`, { token });
  const changes = await h.req('GET', `/data/${CONTACTS}/_changes?style=all_docs`, { token });
  const local = await h.req('GET', `/data/${CONTACTS}/_local/checkpoint`, { token });
  const find = await h.req('POST', `/data/${CONTACTS}/_find`, { token, body: { selector: { fullname: { $gt: 'Person 29' } }, sort: ['fullname'], limit: 5 } });
  const avatar = await h.req('GET', '/public/avatar');
  const contents: Record<string, unknown> = {};
  for (const [name, id] of Object.entries(files)) {
    const meta = await h.req('GET', `/files/${id}`, { token });
    const body = await h.req('GET', `/files/download/${id}`, { token });
    const versions = await Promise.all(((meta.body.data.relationships?.old_versions?.data ?? []) as Array<{ id: string }>).map(async (v) => (await h.req('GET', `/files/download/${id}/${v.id.split('/')[1]}`, { token })).text));
    const small = meta.body.data.links?.small as string | undefined;
    const thumb = small ? await h.req('GET', small, { token }) : null;
    contents[name] = { rev: meta.body.data.meta.rev, md5sum: meta.body.data.attributes.md5sum, body: md5(Buffer.from(body.text, 'latin1')), size: body.text.length, versions, thumb: thumb ? [thumb.status, thumb.text.length] : null };
  }
  return {
    rows: all.body.rows, total: all.body.total_rows,
    changes: (changes.body.results as Array<{ id: string; changes: unknown; deleted?: boolean }>).map((r) => ({ id: r.id, changes: r.changes, deleted: r.deleted ?? false })).sort((x, y) => x.id.localeCompare(y.id)),
    local: local.body, find: find.body.docs, contents,
    avatar: [avatar.status, avatar.headers['content-type'], avatar.headers.etag],
  };
}
