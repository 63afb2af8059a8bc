/** Downloads and reads export archives in tests: a binary GET on the test server, and a zip read entry by entry (yauzl). */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { expect } from 'vitest';
import yauzl from 'yauzl';
import { ROOT, upload } from './files.js';
import { until } from './jobs.js';
import type { TestHearth } from './hearth.js';
import type { ExportDoc } from '../../src/move/types.js';
import { exportPartZip } from '../../src/move/export/archive.js';
import { partOf } from '../../src/move/export/parts.js';
import type { Doc } from '../../src/data/store.js';
import { FILES_DOCTYPE } from '../../src/move/layout.js';

/** `method`: 0 stored, 8 deflated. */
export interface ZipEntry { name: string; data: Buffer; mode: number; mtime: Date; method: number }

export function getBinary(port: number, host: string, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end();
  });
}

/** Every entry of a zip, in the order they are stored. */
export function readZip(buf: Buffer): Promise<ZipEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const out: ZipEntry[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            out.push({ name: entry.fileName, data: Buffer.concat(chunks), mode: (entry.externalFileAttributes >>> 16) & 0o7777, mtime: entry.getLastModDate(), method: entry.compressionMethod });
            zip.readEntry();
          });
          stream.on('error', reject);
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** Waits until the instance's newest export has ended (done or error), and returns it. */
export async function exportEnded(h: TestHearth, ms = 30_000): Promise<ExportDoc> {
  let last: ExportDoc | undefined;
  await until(async () => {
    last = (await h.hearth.exports.list(h.instance))[0];
    return last !== undefined && last.state !== 'exporting';
  }, ms);
  return last!;
}

/** Asks for a new export of `h`'s instance (as the admin would) and waits until it is done; returns it. */
export async function newExport(h: TestHearth): Promise<ExportDoc> {
  const before = (await h.hearth.exports.list(h.instance))[0]?._id;
  await h.hearth.exports.request(h.instance, { admin: true });
  await until(async () => (await h.hearth.exports.list(h.instance))[0]?._id !== before, 30_000);
  const exp = await exportEnded(h);
  if (exp.state !== 'done') throw new Error(`the export ended ${exp.state}: ${JSON.stringify(exp)}`);
  return exp;
}

/** Every part of `exp` (a done export of `h`'s instance), each read on its own as its download is, in one list of entries. */
export async function downloadExport(h: TestHearth, exp: ExportDoc): Promise<ZipEntry[]> {
  const entries: ZipEntry[] = [];
  for (const cursor of [undefined, ...exp.parts_cursors]) {
    const chunks: Buffer[] = [];
    for await (const c of exportPartZip({ store: h.hearth.exports.store, fs: h.hearth.vfs.fs }, h.instance, exp, partOf(exp.parts_cursors, cursor))) chunks.push(c as Buffer);
    entries.push(...(await readZip(Buffer.concat(chunks))));
  }
  return entries;
}

/** Uploads f0.bin… f<n-1>.bin of random bytes (20,000 + i each) at the root; their contents by file id. */
export async function uploadRandomFiles(h: TestHearth, token: string, n: number): Promise<Map<string, Buffer>> {
  const contents = new Map<string, Buffer>();
  for (let i = 0; i < n; i++) {
    const data = randomBytes(20_000 + i);
    contents.set((await upload(h, token, ROOT, `f${i}.bin`, data)).id, data);
  }
  return contents;
}

/** Trashes then destroys the file: its blob is then kept for the exports that hold it only. Returns the blob's key. */
export async function destroyFile(h: TestHearth, token: string, id: string): Promise<string> {
  const key = String((await h.hearth.storeOf(h.instance).get(FILES_DOCTYPE, id) as Doc).internal_vfs_id);
  expect((await h.req('DELETE', `/files/${id}`, { token })).status).toBe(200);
  expect((await h.req('DELETE', `/files/trash/${id}`, { token })).status).toBe(204);
  return key;
}
