/**
 * Export archives made by the tests themselves, in the layout of the contract (src/move/layout.ts; cozy-move.md §1) as
 * a Cozy would write them, with yazl; and a tiny export server that speaks the two GET routes of the contract
 * (`/move/exports/:mac`, `/move/exports/data/:mac?cursor=`) for the import to download them.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import yazl from 'yazl';
import { docEntry, fileContentEntry, INSTANCE_ENTRY, versionContentEntry } from '../../src/move/layout.js';

export type Entry = { name: string; data: Buffer | string } | { name: string; dir: true };

export const md5b64 = (data: Buffer | string): string => createHash('md5').update(data).digest('base64');

/** Writes the zip at `path` with `entries` in this order (deflated, as cozy-stack writes them). */
export function writeZip(path: string, entries: Iterable<Entry>): Promise<void> {
  const zip = new yazl.ZipFile();
  const done = new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(path)).on('close', resolve).on('error', reject);
  });
  for (const e of entries) {
    if ('dir' in e) zip.addEmptyDirectory(e.name);
    else zip.addBuffer(Buffer.from(e.data), e.name, { compress: true, mode: 0o100640 });
  }
  zip.end();
  return done;
}

export const doc = (doctype: string, d: { _id: string } & Record<string, unknown>): Entry => ({ name: docEntry(doctype, d._id), data: JSON.stringify(d) });

/** A directory document (as cozy-stack writes them in part 0). */
export const dir = (id: string, path: string, parent: string): Entry =>
  doc('io.cozy.files', { _id: id, _rev: '1-abc', type: 'directory', name: path.split('/').pop()!, dir_id: parent, path, created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-01T00:00:00Z', tags: [] });

/** A file's document followed by its content, as the file bucket of a part holds them. */
export function file(id: string, dirPath: string, parent: string, name: string, content: Buffer | string, extra: Record<string, unknown> = {}): Entry[] {
  const size = Buffer.byteLength(content);
  const d = { _id: id, _rev: '3-def', type: 'file', name, dir_id: parent, size: String(size), md5sum: md5b64(content), mime: 'text/plain', class: 'text', created_at: '2024-01-01T00:00:00Z', updated_at: '2024-01-02T00:00:00Z', tags: ['t'], trashed: false, executable: false, internal_vfs_id: 'cozy-own-key', ...extra };
  return [doc('io.cozy.files', d), { name: fileContentEntry(`${dirPath}/${name}`), data: content }];
}

/** An old version's document followed by its content (at `My Cozy/Files/<version id>`, sic). */
export function version(fileId: string, vid: string, content: Buffer | string): Entry[] {
  const id = `${fileId}/${vid}`;
  const d = { _id: id, _rev: '1-aaa', file_id: fileId, size: String(Buffer.byteLength(content)), md5sum: md5b64(content), tags: [], updated_at: '2024-01-01T12:00:00Z', internal_vfs_id: 'x' };
  return [doc('io.cozy.files.versions', d), { name: versionContentEntry(id), data: content }];
}

export const instanceEntry = (): Entry => ({ name: INSTANCE_ENTRY, data: JSON.stringify({ domain: 'alice.mycozy.cloud', locale: 'en' }) });

export interface ExportServer {
  /** The settings link a Cozy mails (`http://settings.localhost:<port>/#/exports/<mac>`, nested). */
  link: string;
  manifestUrl: string;
  port: number;
  /** Requests served, by path. */
  served: string[];
  close(): Promise<void>;
}

/**
 * Serves an export: its document (state done, the cursors of the parts after the first) and its parts, each a zip file
 * on disk, the first for no cursor. `mac` is the code of the links.
 */
export async function startExportServer(parts: string[], opts: { mac?: string; state?: string; totalSize?: number; expiresAt?: string } = {}): Promise<ExportServer> {
  const mac = opts.mac ?? 'TESTMAC_1';
  const cursors = parts.slice(1).map((_, i) => `io.cozy.files/cursor${i + 1}`);
  const served: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    served.push(url.pathname + url.search);
    if (url.pathname === `/move/exports/${mac}`) {
      res.writeHead(200, { 'content-type': 'application/vnd.api+json' });
      res.end(JSON.stringify({ data: { type: 'io.cozy.exports', id: 'exp1', attributes: { domain: 'alice.mycozy.cloud', state: opts.state ?? 'done', parts_cursors: cursors, total_size: opts.totalSize ?? 1000, created_at: '2024-01-01T00:00:00Z', expires_at: opts.expiresAt ?? new Date(Date.now() + 86400_000).toISOString() } } }));
      return;
    }
    if (url.pathname === `/move/exports/data/${mac}`) {
      const cursor = url.searchParams.get('cursor');
      const i = cursor === null ? 0 : cursors.indexOf(cursor) + 1;
      const path = i >= 0 ? parts[i] : undefined;
      if (!path) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/zip' });
      createReadStream(path).pipe(res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port, served, link: `http://settings.localhost:${port}/#/exports/${mac}`, manifestUrl: `http://localhost:${port}/move/exports/${mac}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
