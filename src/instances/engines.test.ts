import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgPool, type PgPool } from '../engines/postgres.js';
import { isPgUnavailable } from '../engines/postgres.js';
import { describeInstanceEngines, migrationOf } from '../../test/helpers/instance-engines-suite.js';
import { startPostgres, type PgServer } from '../../test/helpers/servers/postgres.js';
import { PgInstanceEngines } from './engines-pg.js';
import { SqliteInstanceEngines } from './engines-sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-engines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
describeInstanceEngines('SQLite', async (shared) => new SqliteInstanceEngines(join(dir, `${shared}.sqlite`)), async () => undefined);

let pg: PgServer;
const pools: PgPool[] = [];
beforeAll(async () => {
  pg = await startPostgres();
}, 120_000);
afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  await pg.stop();
});
/** Each handle has its own pool (as two processes would), on a database of its own per test. */
describeInstanceEngines('PostgreSQL', async (shared) => {
  const pool = createPgPool({ url: await pg.database_url(`e${shared.slice(0, 16)}`), max: 4, name: 'test' });
  pools.push(pool);
  return new PgInstanceEngines(pool);
}, async () => undefined);

describe('PgInstanceEngines, the server stopped and restarted', () => {
  it('fails fast with the unavailable error while the server is down, and works again after it restarts', async () => {
    const pool = createPgPool({ url: await pg.database_url('restart'), max: 2, name: 'test' });
    pools.push(pool);
    const engines = new PgInstanceEngines(pool);
    await engines.set('a'.repeat(32), { docs: 'postgres', blobs: 'local' });
    await pg.halt();
    try {
      const err = await engines.get('a'.repeat(32)).then(() => null, (e: unknown) => e);
      expect(isPgUnavailable(err)).toBe(true);
      expect(isPgUnavailable(await engines.beginMigration(migrationOf('b'.repeat(32)), null).then(() => null, (e: unknown) => e))).toBe(true);
    } finally {
      await pg.start();
    }
    expect(await engines.get('a'.repeat(32))).toEqual({ docs: 'postgres', blobs: 'local' });
    expect(await engines.beginMigration(migrationOf('b'.repeat(32)), null)).toBe(true);
  }, 120_000);
});
