/**
 * The fencing of the file-system lock: a process paused (SIGSTOP) while it holds an instance's lock on Redis, past the
 * lock's lease; another process takes the lock and writes; the paused one, resumed, writes under its old lock: the
 * store refuses that write (503), in the transaction that would have committed it, on SQLite and on PostgreSQL.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { childLines } from '../../test/helpers/child-lines.js';
import { instance, openFencedVfs } from '../../test/helpers/fenced-vfs.js';
import { fencingServers } from '../../test/helpers/fencing-servers.js';
import { FILES_DOCTYPE, ROOT_DIR_ID } from './types.js';
import { childScript } from '../../test/helpers/child-script.js';

const servers = fencingServers();

const LEASE_MS = 1000;

describe.each(['sqlite', 'postgres'] as const)('the file-system lock is fenced (%s)', (engine) => {
  it('a holder paused past its lease writes after the next holder: its write is refused, the next holder\'s stays', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-fencing-'));
    const pgUrl = engine === 'postgres' ? await servers.pg.database_url(`fence_${randomUUID().slice(0, 8)}`) : null;
    const prefix = `f${randomUUID().slice(0, 8)}:`;
    const child = spawn(process.execPath, [childScript('test/fixtures/fenced-holder-main.ts'), dir, pgUrl ?? '-', servers.redis.url, prefix, String(LEASE_MS)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const line = childLines(child);
    const other = await openFencedVfs({ dir, pgUrl, redisUrl: servers.redis.url, prefix, leaseMs: LEASE_MS, name: 'other' });
    try {
      expect(await line(0)).toBe('held');
      child.kill('SIGSTOP'); // paused with the lock: it renews nothing any more
      // the other process waits for the lease to end, then takes the lock and makes a directory under it
      const fresh = await other.vfs.fs.createDir(instance, { name: 'fresh', dirId: ROOT_DIR_ID });
      const outcome = line(1);
      child.stdin.write('go\n');
      child.kill('SIGCONT');
      expect(await outcome).toBe('refused 503');
      expect(await other.store.get(FILES_DOCTYPE, fresh._id)).toMatchObject({ name: 'fresh' });
      await expect(other.store.get(FILES_DOCTYPE, 'stale-dir')).rejects.toMatchObject({ status: 404 });
      // the next holder's writes go on
      await other.vfs.fs.createDir(instance, { name: 'after', dirId: ROOT_DIR_ID });
    } finally {
      child.kill('SIGKILL');
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
