import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';

let h: TestHearth;
let token: string;
const DT = 'io.cozy.contacts';

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.contacts io.cozy.notes:GET io.cozy.doctypes:GET');
});
afterAll(() => h.close());

describe('documents', () => {
  it('creates with a server id, reads with _type, updates, deletes', async () => {
    const created = await h.req('POST', `/data/${DT}/`, { token, body: { name: 'Alice' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ok: true, type: DT, data: { name: 'Alice', _type: DT } });
    expect(created.body.id).toMatch(/^[0-9a-f]{32}$/);
    expect(created.body.rev).toMatch(/^1-[0-9a-f]{32}$/);
    const { id, rev } = created.body;

    const read = await h.req('GET', `/data/${DT}/${id}`, { token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual({ _id: id, _rev: rev, name: 'Alice', _type: DT });
    expect(read.headers.etag).toBe(`"${rev}"`);

    const updated = await h.req('PUT', `/data/${DT}/${id}`, { token, body: { _id: id, _rev: rev, name: 'Alice B' } });
    expect(updated.status).toBe(200);
    expect(updated.body.rev).toMatch(/^2-/);

    const stale = await h.req('PUT', `/data/${DT}/${id}`, { token, body: { _id: id, _rev: rev, name: 'lost update' } });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toBe('conflict');

    const noRev = await h.req('DELETE', `/data/${DT}/${id}`, { token });
    expect(noRev.status).toBe(400);
    const del = await h.req('DELETE', `/data/${DT}/${id}`, { token, headers: { 'if-match': updated.body.rev } });
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({ ok: true, id, deleted: true, type: DT });
    const gone = await h.req('GET', `/data/${DT}/${id}`, { token });
    expect(gone.status).toBe(404);
    expect(gone.body).toMatchObject({ error: 'not_found', reason: 'deleted' });
  });

  it('creates with a fixed id by PUT, and refuses a mismatched _id', async () => {
    const put = await h.req('PUT', `/data/${DT}/fixed-id`, { token, body: { name: 'Bob' } });
    expect(put.status).toBe(200);
    expect(put.body.id).toBe('fixed-id');
    const again = await h.req('PUT', `/data/${DT}/fixed-id`, { token, body: { name: 'Bob 2' } });
    expect(again.status).toBe(409);
    // as CouchDB: _rev alone updates, _id alone creates
    const revOnly = await h.req('PUT', `/data/${DT}/fixed-id`, { token, body: { _rev: put.body.rev, name: 'Bob 3' } });
    expect(revOnly.status).toBe(200);
    const idOnly = await h.req('PUT', `/data/${DT}/id-only`, { token, body: { _id: 'id-only' } });
    expect(idOnly.status).toBe(200);
    const mismatch = await h.req('PUT', `/data/${DT}/fixed-id`, { token, body: { _id: 'other', _rev: put.body.rev } });
    expect(mismatch.status).toBe(400);
    const withId = await h.req('POST', `/data/${DT}/`, { token, body: { _id: 'x', name: 'x' } });
    expect(withId.status).toBe(400);
  });

  it('lets exactly one of many concurrent updates from the same rev win', async () => {
    const c = await h.req('POST', `/data/${DT}/`, { token, body: { n: 0 } });
    const attempts = await Promise.all(
      Array.from({ length: 12 }, (_, i) => h.req('PUT', `/data/${DT}/${c.body.id}`, { token, body: { _id: c.body.id, _rev: c.body.rev, n: i + 1 } })),
    );
    expect(attempts.filter((r) => r.status === 200)).toHaveLength(1);
    expect(attempts.filter((r) => r.status === 409)).toHaveLength(11);
  });

  it('refuses bad input with a clear 4xx and leaves the store untouched', async () => {
    const before = await h.req('GET', `/data/${DT}/_all_docs`, { token });
    expect((await h.req('POST', `/data/${DT}/`, { token, raw: '{"name": ', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await h.req('POST', `/data/${DT}/`, { token, raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(415);
    expect((await h.req('POST', `/data/${DT}/`, { token, body: [1, 2] })).status).toBe(400);
    expect((await h.req('POST', `/data/${DT}/`, { token, body: { _foo: 1 } })).status).toBe(400);
    expect((await h.req('PUT', `/data/${DT}/x1`, { token, body: { _id: 'x1', _rev: 'not-a-rev' } })).status).toBe(400);
    const badType = await h.req('GET', '/data/IO.Cozy..Bad/_all_docs', { token });
    expect(badType.status).toBe(400);
    expect(badType.body.reason).toMatch(/invalid doctype/);
    expect((await h.req('GET', `/data/${DT}/%01weird`, { token })).status).toBe(400);
    expect((await h.req('GET', `/data/${DT}/_all_docs?limit=1e9`, { token })).status).toBe(400);
    const huge = await h.req('POST', `/data/${DT}/`, { token, body: { _attachments: { big: { content_type: 'text/plain', data: Buffer.alloc(9_000_000).toString('base64') } } } });
    expect(huge.status).toBe(413);
    const tooBig = await h.req('POST', `/data/${DT}/`, { token, raw: JSON.stringify({ blob: 'x'.repeat(17 * 1024 * 1024) }), headers: { 'content-type': 'application/json' } });
    expect(tooBig.status).toBe(413);
    expect((await h.req('GET', `/data/${DT}/%ED%A0%80`, { token })).status).toBe(400);
    expect((await h.req('PUT', `/data/${DT}/_weird`, { token, body: {} })).status).toBe(400);
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const json = { 'content-type': 'application/json' };
    expect((await h.req('POST', `/data/${DT}/_find`, { token, raw: `{"selector":{"a":{"$in":${deep}}}}`, headers: json })).status).toBe(400);
    expect((await h.req('POST', `/data/${DT}/`, { token, raw: `{"a":${deep}}`, headers: json })).status).toBe(400);
    expect((await h.req('POST', `/data/${DT}/_find`, { token, body: { selector: { a: { $where: 'x' } } } })).status).toBe(400);
    const after = await h.req('GET', `/data/${DT}/_all_docs`, { token });
    expect(after.body.total_rows).toBe(before.body.total_rows);
  });

  it('stores, serves and inlines attachments', async () => {
    const data = Buffer.from('hello attachment').toString('base64');
    const c = await h.req('PUT', `/data/${DT}/with-att`, { token, body: { _attachments: { 'note.txt': { content_type: 'text/plain', data } } } });
    expect(c.status).toBe(200);
    const stub = await h.req('GET', `/data/${DT}/with-att`, { token });
    expect(stub.body._attachments['note.txt']).toMatchObject({ stub: true, length: 16, content_type: 'text/plain', revpos: 1 });
    expect(stub.body._attachments['note.txt'].digest).toMatch(/^md5-/);
    const raw = await h.req('GET', `/data/${DT}/with-att/note.txt`, { token });
    expect(raw.status).toBe(200);
    expect(raw.text).toBe('hello attachment');
    expect(raw.headers['content-type']).toContain('text/plain');
    const inline = await h.req('GET', `/data/${DT}/with-att?attachments=true`, { token });
    expect(inline.body._attachments['note.txt'].data).toBe(data);
    // an update keeping the stub keeps the attachment
    const upd = await h.req('PUT', `/data/${DT}/with-att`, { token, body: { ...stub.body, _type: undefined, extra: 1 } });
    expect(upd.status).toBe(200);
    expect((await h.req('GET', `/data/${DT}/with-att/note.txt`, { token })).text).toBe('hello attachment');
    const missing = await h.req('GET', `/data/${DT}/with-att/nope.txt`, { token });
    expect(missing.status).toBe(404);
  });
});

describe('tokens and rights', () => {
  it('answers 401 without a token and accepts Basic and ?bearer_token=', async () => {
    const none = await h.req('GET', `/data/${DT}/_all_docs`);
    expect(none.status).toBe(401);
    const basic = await h.req('GET', `/data/${DT}/_all_docs`, { headers: { authorization: 'Basic ' + Buffer.from(`user:${token}`).toString('base64') } });
    expect(basic.status).toBe(200);
    const query = await h.req('GET', `/data/${DT}/_all_docs?bearer_token=${token}`);
    expect(query.status).toBe(200);
  });

  it('refuses another instance token, a forged and an expired token with cozy-stack messages', async () => {
    const otherToken = await h.cliToken(DT, h.other);
    const other = await h.req('GET', `/data/${DT}/_all_docs`, { token: otherToken });
    expect(other.status).toBe(400);
    expect(other.body.error).toBe('Invalid JWT token');
    expect(other.headers['www-authenticate']).toContain('invalid_token');

    const forged = await new SignJWT({ sub: 'x', scope: DT })
      .setProtectedHeader({ alg: 'HS256' }).setAudience('cli').setIssuer(h.domain).setIssuedAt()
      .sign(new TextEncoder().encode('not the instance secret, not the instance secret!!'));
    const f = await h.req('GET', `/data/${DT}/_all_docs`, { token: forged });
    expect(f.status).toBe(400);
    expect(f.body.error).toBe('Invalid JWT token');

    const expired = await h.hearth.tokens.issue(h.instance, { aud: 'cli', sub: 'x', scope: DT }, -10);
    const e = await h.req('GET', `/data/${DT}/_all_docs`, { token: expired });
    expect(e.status).toBe(400);
    expect(e.body.error).toBe('Expired token');
    expect(e.headers['www-authenticate']).toContain('invalid_token');

    expect((await h.req('GET', `/data/${DT}/_all_docs`, { token: 'garbage' })).status).toBe(400);
  });

  it('answers 403 for a missing right, and whole-doctype routes need whole-doctype rights', async () => {
    const readOnly = await h.cliToken('io.cozy.notes:GET');
    expect((await h.req('POST', '/data/io.cozy.notes/', { token: readOnly, body: { a: 1 } })).status).toBe(403);
    expect((await h.req('GET', `/data/${DT}/_all_docs`, { token: readOnly })).status).toBe(403);
    const c = await h.req('PUT', `/data/${DT}/only-me`, { token, body: { a: 1 } });
    expect(c.status).toBe(200);
    const oneDoc = await h.cliToken(`${DT}:GET:only-me`);
    expect((await h.req('GET', `/data/${DT}/only-me`, { token: oneDoc })).status).toBe(200);
    expect((await h.req('GET', `/data/${DT}/fixed-id`, { token: oneDoc })).status).toBe(403);
    expect((await h.req('POST', `/data/${DT}/_find`, { token: oneDoc, body: { selector: {} } })).status).toBe(403);
    expect((await h.req('GET', `/data/${DT}/_changes`, { token: oneDoc })).status).toBe(403);
    expect((await h.req('GET', `/data/${DT}/_all_docs`, { token: oneDoc })).status).toBe(403);
    expect((await h.req('POST', `/data/${DT}/_bulk_docs`, { token: oneDoc, body: { docs: [] } })).status).toBe(403);
  });

  it('refuses reserved doctypes and unknown hosts', async () => {
    const all = await h.cliToken('io.cozy.permissions io.cozy.files');
    expect((await h.req('GET', '/data/io.cozy.permissions/_all_docs', { token: all })).status).toBe(403);
    expect((await h.req('POST', '/data/io.cozy.files/', { token: all, body: { a: 1 } })).status).toBe(403);
    const unknown = await h.req('GET', `/data/${DT}/_all_docs`, { token, host: 'nobody.example.org' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.reason).toMatch(/no instance/);
  });

  it('accepts cozy-stack\'s own io.cozy.accounts.sourceAccountIdentifier as a doctype (in a token scope and in /data), no other upper case', async () => {
    const SAI = 'io.cozy.accounts.sourceAccountIdentifier';
    const scoped = await h.cliToken(SAI);
    const put = await h.req('PUT', `/data/${SAI}/alice`, { token: scoped, body: { login: 'alice' } });
    expect(put.status, put.text).toBe(200);
    expect((await h.req('GET', `/data/${SAI}/alice`, { token: scoped })).body).toMatchObject({ login: 'alice', _type: SAI });
    expect((await h.req('GET', '/data/io.cozy.accounts.SourceAccountIdentifier/alice', { token: scoped })).status).toBe(400);
    await expect(h.cliToken('io.cozy.accounts.SOURCE').then((t) => h.req('GET', `/data/${SAI}/alice`, { token: t }))).resolves.toMatchObject({ status: 400 }); // a token whose scope names no valid doctype
  });

  it('keeps instances apart', async () => {
    const mine = await h.req('PUT', `/data/${DT}/private`, { token, body: { secret: 1 } });
    expect(mine.status).toBe(200);
    const otherToken = await h.cliToken(DT, h.other);
    const fromOther = await h.req('GET', `/data/${DT}/private`, { token: otherToken, host: h.otherDomain });
    expect(fromOther.status).toBe(404);
  });
});
