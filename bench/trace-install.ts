/**
 * The durable writes of one install of stored code, for issue 14's count (test/helpers/install-trace.ts: the install
 * between marker fsyncs of /tmp/i24-trace/mark-begin, mark-returned and mark-end). On SQLite engines (default), to be
 * read from `strace -f -y -e trace=fsync,fdatasync -o LOG node --import tsx bench/trace-install.ts` (the same count is
 * src/apps/install/install-flushes.test.ts). TRACE_PG=1: on docs.engine postgres (a private server, fsync on, the
 * walwriter slowed to 10 s), printing pg_stat_wal.wal_sync and the commits (xact_commit) over each span; TRACE_PG_LOG=1
 * also keeps the statements of the install, each with its backend and transaction id, in /tmp/i24-trace/pg.log.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPgPool } from '../src/engines/postgres.js';
import { traceOneInstall } from '../test/helpers/install-trace.js';
import { startPostgres } from '../test/helpers/servers/postgres.js';
import { tempDir } from './lib.js';

const MARKS = '/tmp/i24-trace';
const pg = process.env.TRACE_PG === '1' ? await startPostgres({ fsync: true }) : null;
const admin = pg ? createPgPool({ url: pg.url, max: 1, name: 'trace-admin' }) : null;
try {
  if (admin && process.env.TRACE_PG_LOG === '1') {
    await admin.query("ALTER SYSTEM SET log_statement = 'all'");
    await admin.query("ALTER SYSTEM SET log_line_prefix = '%m [%p] xid=%x '");
  }
  const { spans } = await traceOneInstall({
    dataDir: join(tempDir('hearth-trace-'), 'data'), markDir: MARKS,
    ...(pg ? { pg: { docsUrl: await pg.database_url('trace'), datname: 'trace' } } : {}),
  });
  for (const s of spans) process.stdout.write(`${s.from} → ${s.to}: wal_sync ${s.walSync}, commits ${s.commits} (the statistics' own reads included)\n`);
  if (admin && process.env.TRACE_PG_LOG === '1') {
    const dataDir = (await admin.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]!.d;
    copyFileSync(join(dataDir, '..', 'server.log'), join(MARKS, 'pg.log'));
    process.stdout.write(`server log: ${join(MARKS, 'pg.log')}\n`);
  }
} finally {
  await admin?.end();
  await pg?.stop();
}
