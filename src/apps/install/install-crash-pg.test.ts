/**
 * The install journal on PostgreSQL (hearth.app_installs, apps/code/shared-store.ts) across kill -9: the server on a
 * real PostgreSQL (documents, jobs and the code index there) is killed at the install's crash points; killed after
 * the trigger and before the app doc, the next start undoes the install; killed after the app doc, with the trigger's
 * row then removed (as a lost commit would), the next start finishes it and makes the trigger again with its id. The
 * killed server's intents are its own until their lease (0.3 s here) ran out: the next start comes after that.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startPackageServer, type PackageServer } from '../../../test/helpers/app-packages.js';
import { testConfig } from '../../../test/helpers/hearth.js';
import { finished, installCrashWorld, sturdyOn, UNDONE } from '../../../test/helpers/install-crash.js';
import { startPostgres, type PgServer } from '../../../test/helpers/servers/postgres.js';
import { createPgPool } from '../../engines/postgres.js';

/** The killed server's lease on its intents. */
const LEASE_SECONDS = 0.3;
const leaseOver = () => new Promise((r) => setTimeout(r, LEASE_SECONDS * 1000 + 100));

let pkgs: PackageServer;
let pg: PgServer;
const dataDir = mkdtempSync(join(tmpdir(), 'hearth-crash-install-pg-'));
const previous = process.env.TEST_PG_URL;
beforeAll(async () => {
  [pkgs, pg] = await Promise.all([startPackageServer(), startPostgres()]);
  process.env.TEST_PG_URL = pg.url; // this process's Hearths (testConfig) on it too
}, 60_000);
afterAll(async () => {
  if (previous === undefined) delete process.env.TEST_PG_URL;
  else process.env.TEST_PG_URL = previous;
  await Promise.all([pkgs?.close(), pg?.stop()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('an install of stored code across a crash, on PostgreSQL', () => {
  it('is undone when killed before its app doc, and finished when killed after it', async () => {
    const world = await installCrashWorld(pkgs, dataDir, ['apps.install.triggers', 'apps.install.written'], { TEST_PG_URL: pg.url, HEARTH_APPS_INTENT_LEASE_SECONDS: String(LEASE_SECONDS) });
    onTestFinished(() => world.close());
    const docs = testConfig(dataDir).docs;
    expect(docs.engine).toBe('postgres');
    const pool = createPgPool({ url: (docs as { url: string }).url, max: 1, name: 'crash-test' });
    const left = async () => ({
      triggers: (await pool.query<{ id: string }>("SELECT id FROM hearth.triggers WHERE instance_id = $1 AND worker = 'service' AND doc->'message'->>'slug' = 'sturdy'", [world.instanceId])).rows.map((r) => r.id),
      intents: Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM hearth.app_installs')).rows[0]!.n),
    });
    try {
      await world.installUntil('apps.install.triggers');
      expect(await left()).toMatchObject({ triggers: [expect.any(String)], intents: 1 });
      await leaseOver();
      await world.with(async (hearth, instance) => expect(await sturdyOn(hearth, instance)).toEqual(UNDONE));
      await world.installUntil('apps.install.written');
      const { triggers, intents } = await left();
      expect([triggers.length, intents]).toEqual([1, 1]);
      expect((await pool.query('DELETE FROM hearth.triggers WHERE id = $1', [triggers[0]])).rowCount).toBe(1);
      await leaseOver();
      await world.with(async (hearth, instance) => expect(await sturdyOn(hearth, instance)).toEqual(finished(triggers[0]!)));
    } finally {
      await pool.end();
    }
  }, 120_000);
});
