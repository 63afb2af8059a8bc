/**
 * An instance moved from the embedded engines to PostgreSQL and Swift and back, on real servers: every document (with
 * its conflicts, deletions, _local docs and indexes) and every file (with its old version) the same through HTTP, served
 * from the target in between. (migrate-http.test.ts tests the command's other paths between two embedded engines.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { ROOT, upload } from '../../test/helpers/files.js';
import { startPostgres, type PgServer } from '../../test/helpers/servers/postgres.js';
import { startSwift, type SwiftServer } from '../../test/helpers/servers/swift.js';

const CONTACTS = 'io.cozy.contacts';
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
  const docs = Array.from({ length: 120 }, (_, i) => ({ _id: `c${i}`, fullname: `Person ${i}` }));
  expect((await h.req('POST', `/data/${CONTACTS}/_bulk_docs`, { token, body: { docs } })).status).toBe(201);
  const conflict = [1, 2].map((n) => ({ _id: 'conflicted', _rev: `1-${String(n).repeat(32)}`, fullname: `branch ${n}` }));
  expect((await h.req('POST', `/data/${CONTACTS}/_bulk_docs`, { token, body: { docs: conflict, new_edits: false } })).status).toBe(201);
  const c1 = await h.req('GET', `/data/${CONTACTS}/c1`, { token });
  expect((await h.req('DELETE', `/data/${CONTACTS}/c1?rev=${c1.body._rev}`, { token })).status).toBe(200);
  expect((await h.req('PUT', `/data/${CONTACTS}/_local/checkpoint`, { token, body: { last_seq: '7' } })).status).toBe(201);
  expect((await h.req('POST', `/data/${CONTACTS}/_index`, { token, body: { index: { fields: ['fullname'] } } })).status).toBe(200);
  files.big = (await upload(h, token, ROOT, 'big.bin', Buffer.alloc(2 << 20, 9))).id;
  const note = await upload(h, token, ROOT, 'note.txt', 'first version');
  files.note = note.id;
  expect((await h.req('PUT', `/files/${note.id}`, { token, raw: 'second version', headers: { 'If-Match': note.rev } })).status).toBe(200);
}, 300_000);

afterAll(async () => {
  await h?.close();
  await Promise.all([postgres?.stop(), swift?.stop()]);
});

/** What clients see: documents with their conflicts, the deletions, _local, a _find by the index, the files' contents and versions. */
async function view(): Promise<Record<string, unknown>> {
  const all = await h.req('GET', `/data/${CONTACTS}/_all_docs?include_docs=true&conflicts=true`, { token });
  const changes = await h.req('GET', `/data/${CONTACTS}/_changes?style=all_docs`, { token });
  const find = await h.req('POST', `/data/${CONTACTS}/_find`, { token, body: { selector: { fullname: { $gt: 'Person 29' } }, sort: ['fullname'], limit: 5 } });
  const contents: Record<string, unknown> = {};
  for (const [name, id] of Object.entries(files)) {
    const meta = await h.req('GET', `/files/${id}`, { token });
    const body = await h.req('GET', `/files/download/${id}`, { token });
    const versions = (meta.body.data.relationships?.old_versions?.data ?? []) as Array<{ id: string }>;
    const old = await Promise.all(versions.map(async (v) => (await h.req('GET', `/files/download/${id}/${v.id.split('/')[1]}`, { token })).text));
    contents[name] = { rev: meta.body.data.meta.rev, md5sum: meta.body.data.attributes.md5sum, size: body.text.length, head: body.text.slice(0, 20), old };
  }
  return {
    rows: all.body.rows, total: all.body.total_rows, find: find.body.docs, contents,
    local: (await h.req('GET', `/data/${CONTACTS}/_local/checkpoint`, { token })).body,
    changes: (changes.body.results as Array<{ id: string; changes: unknown; deleted?: boolean }>).map((r) => ({ id: r.id, changes: r.changes, deleted: r.deleted ?? false })).sort((a, b) => a.id.localeCompare(b.id)),
  };
}

describe('hearth instances migrate between the embedded and the scale-out engines', () => {
  it('moves an instance to PostgreSQL and Swift, serves it from there, and moves it back, identical through HTTP', async () => {
    const before = await view();
    expect(before.contents).toMatchObject({ note: { old: ['first version'] } });
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
