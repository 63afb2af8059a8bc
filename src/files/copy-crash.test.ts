/**
 * kill -9 of the server in the middle of a large folder copy: at the next start the "(incomplete copy)" folder it was
 * filling is removed for good (copy-journal.ts, copy-journal-sqlite.ts), the source is untouched, the journal is empty
 * and fsck finds nothing wrong. The killed server is a child process; the next start, a Hearth of the test's process.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { rawRequest, testConfig } from '../../test/helpers/hearth.js';
import { copyUntil, startServer, type Started } from '../../test/helpers/crash.js';
import { createHearth } from '../server/compose.js';
import { fsck } from './fsck.js';
import { ROOT_DIR_ID } from './types.js';

const MiB = 1024 * 1024;
const FILES = 24;

const api = (s: Started, method: string, path: string, raw?: Buffer) =>
  rawRequest(s.port, method, path, { host: s.domain, token: s.token, ...(raw ? { raw, headers: { 'content-type': 'application/octet-stream' } } : {}) });

/** The entries of the journal (copies.sqlite), read with the server stopped. */
const journal = (dataDir: string): number => {
  const db = new Database(join(dataDir, 'copies.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM copies').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('a crash during a folder copy', () => {
  it('is undone at the next start: no "(incomplete copy)" folder is left, the source is whole, fsck reports nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-copy-crash-'));
    try {
      const s = await startServer(dataDir);
      const dir = await api(s, 'POST', '/files/io.cozy.files.root-dir?Type=directory&Name=big');
      const id = dir.body.data.id as string;
      const chunk = Buffer.alloc(8 * MiB, 3);
      for (let i = 0; i < FILES; i += 4) {
        const sent = await Promise.all([0, 1, 2, 3].map((j) => api(s, 'POST', `/files/${id}?Type=file&Name=f${i + j}.bin`, chunk)));
        expect(sent.map((r) => r.status)).toEqual([201, 201, 201, 201]);
      }

      const progress = await copyUntil(s, id, (line) => (line.files ?? 0) > 0);
      s.child.kill('SIGKILL');
      await new Promise((r) => s.child.once('exit', r));
      expect(progress.files).toBeLessThan(FILES);
      expect(journal(dataDir)).toBe(1); // the copy under way, as the killed process left it

      // the next start (a Hearth of this process on the data directory: the modules are loaded already)
      const again = await createHearth(testConfig(dataDir), pino({ level: 'silent' }));
      try {
        const instance = (await again.registry.get(s.domain))!;
        const children = async (dirId: string) => (await again.vfs.fs.children(instance, dirId, { limit: 100 })).docs.map((d) => d.name);
        expect((await children(ROOT_DIR_ID)).filter((n) => n.startsWith('big'))).toEqual(['big']);
        expect(await children(id)).toHaveLength(FILES);
        expect(journal(dataDir)).toBe(0);
        expect(await fsck(again.vfs.fs, instance)).toEqual([]);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
