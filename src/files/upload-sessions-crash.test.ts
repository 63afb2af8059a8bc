/**
 * kill -9 of the server while a chunk of a resumable upload streams in: after a restart no file is visible, the
 * half-written chunk is gone (the engine's temporary file and the session's pending key), the session holds the offset
 * of its last whole chunk, the upload goes on from there to the right file, and fsck finds nothing wrong.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rawRequest } from '../../test/helpers/hearth.js';
import { fsckOf, startServer, stopServer, type Started } from '../../test/helpers/crash.js';

const MiB = 1024 * 1024;
const SIZE = 20 * MiB;
/** Bytes `from` to `to` of the file: i % 251 at i (so that a chunk at the wrong place shows in the MD5). */
function content(from: number, to: number): Buffer {
  const b = Buffer.alloc(to - from);
  for (let k = 0; k < b.length; k++) b[k] = (from + k) % 251;
  return b;
}

function partFiles(dataDir: string): number[] {
  const sizes: number[] = [];
  for (const id of readdirSync(join(dataDir, 'instances'))) {
    const tmp = join(dataDir, 'instances', id, 'files', '.tmp');
    try {
      for (const f of readdirSync(tmp)) sizes.push(statSync(join(tmp, f)).size);
    } catch { /* no write started there */ }
  }
  return sizes;
}

const ask = (s: Started, method: string, path: string, raw?: Buffer, headers: Record<string, string> = {}) =>
  rawRequest(s.port, method, path, { host: s.domain, token: s.token, ...(raw ? { raw } : {}), headers });

describe('a crash during a resumable upload', () => {
  it('leaves no file and no half chunk once restarted, and the upload goes on from the last whole chunk', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-session-crash-'));
    try {
      const s = await startServer(dataDir);
      const opened = await ask(s, 'POST', `/files/uploads?Name=movie.bin&Size=${SIZE}`);
      expect(opened.status, opened.text).toBe(201);
      const id = opened.body.data.id as string;
      expect((await ask(s, 'PATCH', `/files/uploads/${id}`, content(0, 4 * MiB), { 'upload-offset': '0' })).status).toBe(204);
      // the next chunk (the whole rest) fed 1 MiB at a time: the server is killed once 4 MiB of it are on its disk
      const req = request({ host: '127.0.0.1', port: s.port, method: 'PATCH', path: `/files/uploads/${id}`, headers: { host: s.domain, authorization: `Bearer ${s.token}`, 'upload-offset': String(4 * MiB), 'content-length': String(SIZE - 4 * MiB) } });
      req.on('error', () => undefined);
      const feeding = (async () => {
        for (let at = 4 * MiB; at < SIZE && !req.destroyed; at += MiB) {
          if (!req.write(content(at, at + MiB))) await new Promise((r) => (req.once('drain', r), req.once('close', r)));
        }
      })();
      for (let waited = 0; waited < 30_000 && !partFiles(dataDir).some((n) => n >= 4 * MiB); waited += 20) await new Promise((r) => setTimeout(r, 20));
      expect(partFiles(dataDir).some((n) => n >= 4 * MiB)).toBe(true);
      s.child.kill('SIGKILL');
      await new Promise((r) => s.child.once('exit', r));
      req.destroy();
      await feeding.catch(() => undefined);

      const again = await startServer(dataDir, s.port);
      try {
        const head = await ask(again, 'HEAD', `/files/uploads/${id}`);
        expect([head.status, head.headers['upload-offset']]).toEqual([200, String(4 * MiB)]);
        expect(partFiles(dataDir)).toEqual([]);
        expect((await ask(again, 'GET', '/files/metadata?Path=/movie.bin')).status).toBe(404);
        const last = await ask(again, 'PATCH', `/files/uploads/${id}`, content(4 * MiB, SIZE), { 'upload-offset': String(4 * MiB) });
        expect(last.status, last.text).toBe(201);
        expect(last.body.data.attributes.md5sum).toBe(createHash('md5').update(content(0, SIZE)).digest('base64'));
      } finally {
        await stopServer(again);
      }
      expect(await fsckOf(dataDir, s.domain)).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
