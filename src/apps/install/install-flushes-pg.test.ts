/**
 * The WAL flushes of one install of stored code on docs.engine postgres (issue 14), counted by PostgreSQL
 * (pg_stat_wal.wal_sync, fsync on, the walwriter slowed to 10 s so that the flushes counted are the backends' commits):
 * the intent and the trigger commit without waiting for their flush, the permission document, the trigger's copy and
 * the app doc in one flushed commit, the intent's end without one. The job mirror is held off over the install (its
 * lock taken: test/helpers/install-trace.ts ownOnly), so that its own writes are not counted. On SQLite:
 * install-flushes.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackage } from '../../../test/helpers/debian.js';
import { traceOneInstall } from '../../../test/helpers/install-trace.js';
import { startPostgres, type PgServer } from '../../../test/helpers/servers/postgres.js';

let pg: PgServer;
const dir = mkdtempSync(join(tmpdir(), 'hearth-flushes-pg-'));
beforeAll(async () => {
  pg = await startPostgres({ fsync: true });
}, 60_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the flushes of one install on PostgreSQL', () => {
  it('one WAL flush, from its call to its intent\'s end', async () => {
    ensureDebianPackage('strace');
    const { pgSyncs } = await traceOneInstall({
      dataDir: join(dir, 'data'), markDir: join(dir, 'marks'), statsWaitMs: 0, ownOnly: true,
      pg: { docsUrl: await pg.database_url('flushes'), datname: 'flushes' },
    });
    expect(pgSyncs?.map((f) => basename(dirname(f)))).toEqual(['pg_wal']);
  }, 60_000);
});
