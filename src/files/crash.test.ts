/**
 * kill -9 of the server in the middle of a large upload: after a restart no file is visible,
 * the half-written temporary file is gone, and fsck finds nothing wrong.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rawRequest } from '../../test/helpers/hearth.js';
import { feedUpload, fsckOf, startServer, stopServer } from '../../test/helpers/crash.js';

const MiB = 1024 * 1024;

/** The sizes of the temporary files of uploads in progress, over every instance of `dataDir`. */
function partFiles(dataDir: string): number[] {
  const sizes: number[] = [];
  let ids: string[] = [];
  try {
    ids = readdirSync(join(dataDir, 'instances'));
  } catch {
    return sizes; // no instance store opened yet
  }
  for (const id of ids) {
    const tmp = join(dataDir, 'instances', id, 'files', '.tmp');
    try {
      for (const f of readdirSync(tmp)) sizes.push(statSync(join(tmp, f)).size);
    } catch {
      /* no upload has started for this instance */
    }
  }
  return sizes;
}

describe('a crash during an upload', () => {
  it('leaves no visible file and no half file once restarted, and fsck reports nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-upload-crash-'));
    try {
      const s = await startServer(dataDir);
      // a 256 MiB upload, fed 1 MiB at a time: the server is killed once 16 MiB are on its disk
      const { req, feeding } = feedUpload(s, 'big.bin', 256 * MiB);
      for (let waited = 0; waited < 30_000; waited += 20) {
        if (partFiles(dataDir).some((n) => n >= 16 * MiB)) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(partFiles(dataDir).some((n) => n >= 16 * MiB)).toBe(true);
      s.child.kill('SIGKILL');
      await new Promise((r) => s.child.once('exit', r));
      req.destroy();
      await feeding.catch(() => undefined);
      expect(partFiles(dataDir).length).toBe(1); // the half file is on disk, unnamed by any document

      const again = await startServer(dataDir, s.port);
      try {
        const meta = await rawRequest(again.port, 'GET', '/files/metadata?Path=/big.bin', { host: again.domain, token: again.token });
        expect(meta.status).toBe(404);
        const root = await rawRequest(again.port, 'GET', '/files/io.cozy.files.root-dir', { host: again.domain, token: again.token });
        expect(root.status).toBe(200);
        expect(JSON.stringify(root.body)).not.toContain('big.bin');
        expect(partFiles(dataDir)).toEqual([]); // cleaned before this process's first upload could start
      } finally {
        await stopServer(again);
      }
      expect(await fsckOf(dataDir, s.domain)).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
