/**
 * An instance moved from the embedded engines to PostgreSQL and Swift and back, on real servers: every document (with
 * its conflicts, deletions, _local docs and indexes) and every file (with its old version) the same through HTTP, served
 * from the target in between. (migrate-http.test.ts tests the command's other paths between two embedded engines.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { CONTACTS, clientView, fillRichInstance } from '../../test/helpers/migrate-engines.js';
import { startPostgres, type PgServer } from '../../test/helpers/servers/postgres.js';
import { startSwift, type SwiftServer } from '../../test/helpers/servers/swift.js';

let postgres: PgServer, swift: SwiftServer, h: TestHearth, token: string;
const files: Record<string, string> = {};

beforeAll(async () => {
  [postgres, swift] = await Promise.all([startPostgres(), startSwift()]);
  h = await startTestHearth({
    docs: { engine: 'sqlite', url: postgres.url, poolSize: 4 },
    blobs: {
      engine: 'local',
      swift: { authUrl: swift.authUrl, user: swift.user, key: swift.key, containerPrefix: 'moved-' },
      s3: { endpoint: null, region: 'us-east-1', bucket: null, accessKeyId: null, secretAccessKey: null, forcePathStyle: true },
    },
  });
  token = await h.cliToken(`${CONTACTS} io.cozy.files`);
  Object.assign(files, await fillRichInstance(h, token, { photo: false }));
}, 300_000);

afterAll(async () => {
  await h?.close();
  await Promise.all([postgres?.stop(), swift?.stop()]);
});

const view = () => clientView(h, token, files);

describe('hearth instances migrate between the embedded and the scale-out engines', () => {
  it('moves an instance to PostgreSQL and Swift, serves it from there, and moves it back, identical through HTTP', async () => {
    const before = await view();
    expect(before.contents).toMatchObject({ note: { versions: ['first version'] } });
    const there = await h.hearth.migrations.migrate(h.instance, { docs: 'postgres', blobs: 'swift', dropSource: false }, async () => undefined);
    expect(there).toMatchObject({ from: { docs: 'sqlite', blobs: 'local' }, to: { docs: 'postgres', blobs: 'swift' } });
    expect(await view()).toEqual(before);
    // served from PostgreSQL now: a write lands in the instance's schema
    expect((await h.req('PUT', `/data/${CONTACTS}/on-pg`, { token, body: { fullname: 'written on PostgreSQL' } })).status).toBe(200);
    const pg = await import('pg');
    const db = new pg.default.Client(postgres.url);
    await db.connect();
    try {
      const schema = `i_${h.instance.id}`;
      const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1`, [schema]);
      expect(Number(rows[0]!.n)).toBeGreaterThan(0);
    } finally {
      await db.end();
    }
    const onPg = await view();
    const back = await h.hearth.migrations.migrate(h.instance, { docs: 'sqlite', blobs: 'local', dropSource: true }, async () => undefined);
    expect(back).toMatchObject({ to: { docs: 'sqlite', blobs: 'local' }, source_dropped: true });
    expect(await view()).toEqual(onPg);
  }, 300_000);
});
