/**
 * Rights on /files with every kind of token, on a real server: a rule on a directory covers its
 * subtree and nothing else; whole-type rules cover everything; selectors read the file's fields.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, mkdir, q, upload, type Created } from '../../../test/helpers/files.js';

let h: TestHearth;
let owner: string;
let shared: Created;
let sub: Created;
let a: Created;
let b: Created;
let priv: Created;
let secret: Created;

beforeAll(async () => {
  h = await startTestHearth();
  owner = await h.cliToken('io.cozy.files');
  shared = await mkdir(h, owner, ROOT, 'Shared');
  sub = await mkdir(h, owner, shared.id, 'sub');
  a = await upload(h, owner, shared.id, 'a.txt', 'aaa');
  b = await upload(h, owner, sub.id, 'b.txt', 'bbb');
  priv = await mkdir(h, owner, ROOT, 'Private');
  secret = await upload(h, owner, priv.id, 'secret.txt', 'sss');
});
afterAll(() => h.close());

type Opts = { token?: string; headers?: Record<string, string>; body?: unknown; raw?: string };
const status = async (method: string, path: string, opts: Opts) => (await h.req(method, path, opts)).status;
const patch = (id: string, attributes: Record<string, unknown>) => ({ data: { type: 'io.cozy.files', id, attributes } });

describe('tokens', () => {
  it('no token: 401; a forged one or one of another instance: 400', async () => {
    const none = await h.req('GET', `/files/${shared.id}`);
    expect(none.status).toBe(401);
    expect(none.body.errors[0]).toMatchObject({ status: '401', detail: expect.stringContaining('token') });
    expect(await status('GET', `/files/${shared.id}`, { token: 'not.a.jwt' })).toBe(400);
    const foreign = await h.req('GET', `/files/${shared.id}`, { token: await h.cliToken('io.cozy.files', h.other) });
    expect(foreign.status).toBe(400);
    expect(foreign.body.errors[0].detail).toBe('Invalid JWT token');
    expect(await status('POST', `/files/${shared.id}?Type=file&Name=x.txt`, { token: await h.cliToken('io.cozy.files', h.other), raw: 'x' })).toBe(400);
    expect(await status('GET', `/files/download/${a.id}`, {})).toBe(401);
  });

  it('a token without io.cozy.files rights is refused everything (403)', async () => {
    const token = await h.cliToken('io.cozy.contacts');
    const res = await h.req('GET', `/files/${shared.id}`, { token });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/vnd\.api\+json/);
    expect(res.body.errors[0]).toMatchObject({ status: '403', title: 'forbidden' });
    expect(await status('POST', `/files/${shared.id}?Type=directory&Name=x`, { token })).toBe(403);
    expect(await status('GET', `/files/download/${a.id}`, { token })).toBe(403);
    expect(await status('GET', '/files/trash', { token })).toBe(403);
  });
});

describe('a CLI token whose rule covers one directory', () => {
  let token: string;
  beforeAll(async () => {
    token = await h.cliToken(`io.cozy.files:ALL:${shared.id}`);
  });

  it('reads the directory and its whole subtree, by id and by path', async () => {
    expect(await status('GET', `/files/${shared.id}`, { token })).toBe(200);
    expect(await status('GET', `/files/${sub.id}`, { token })).toBe(200);
    expect(await status('GET', `/files/${b.id}`, { token })).toBe(200);
    expect(await status('HEAD', `/files/${b.id}`, { token })).toBe(200);
    expect((await h.req('GET', `/files/download/${b.id}`, { token })).text).toBe('bbb');
    expect(await status('GET', `/files/metadata?Path=${q('/Shared/sub/b.txt')}`, { token })).toBe(200);
    expect(await status('GET', `/files/download?Path=${q('/Shared/a.txt')}`, { token })).toBe(200);
  });

  it('is refused outside: siblings, the root, the trash (403)', async () => {
    expect(await status('GET', `/files/${priv.id}`, { token })).toBe(403);
    expect(await status('GET', `/files/${secret.id}`, { token })).toBe(403);
    expect(await status('HEAD', `/files/${secret.id}`, { token })).toBe(403);
    expect(await status('GET', `/files/download/${secret.id}`, { token })).toBe(403);
    expect(await status('GET', `/files/download?Path=${q('/Private/secret.txt')}`, { token })).toBe(403);
    expect(await status('GET', `/files/metadata?Path=${q('/Private')}`, { token })).toBe(403);
    expect(await status('GET', `/files/${ROOT}`, { token })).toBe(403);
    expect(await status('GET', '/files/trash', { token })).toBe(403);
    expect(await status('DELETE', '/files/trash', { token })).toBe(403);
  });

  it('creates and changes inside, not outside', async () => {
    expect(await status('POST', `/files/${shared.id}?Type=directory&Name=new`, { token })).toBe(201);
    expect(await status('POST', `/files/${sub.id}?Type=file&Name=c.txt`, { token, raw: 'ccc' })).toBe(201);
    expect(await status('POST', `/files/?Type=directory&Name=escape`, { token })).toBe(403);
    expect(await status('POST', `/files/${priv.id}?Type=file&Name=x.txt`, { token, raw: 'x' })).toBe(403);
    expect(await status('PUT', `/files/${b.id}`, { token, raw: 'BBB' })).toBe(200);
    expect(await status('PUT', `/files/${secret.id}`, { token, raw: 'pwned' })).toBe(403);
    expect((await h.req('GET', `/files/download/${secret.id}`, { token: owner })).text).toBe('sss');
    expect(await status('PATCH', `/files/${a.id}`, { token, body: patch(a.id, { tags: ['ok'] }) })).toBe(200);
    expect(await status('PATCH', `/files/${secret.id}`, { token, body: patch(secret.id, { name: 'x.txt' }) })).toBe(403);
    expect(await status('DELETE', `/files/${secret.id}`, { token })).toBe(403);
  });

  it('moves within the subtree, never out of it nor into it from outside', async () => {
    const f = await upload(h, owner, sub.id, 'mover.txt', 'm');
    expect(await status('PATCH', `/files/${f.id}`, { token, body: patch(f.id, { dir_id: shared.id }) })).toBe(200);
    const out = await h.req('PATCH', `/files/${f.id}`, { token, body: patch(f.id, { dir_id: priv.id }) });
    expect(out.status).toBe(403);
    expect(await status('PATCH', `/files/${shared.id}`, { token, body: patch(shared.id, { dir_id: priv.id }) })).toBe(403);
    expect(await status('PATCH', `/files/${secret.id}`, { token, body: patch(secret.id, { dir_id: shared.id }) })).toBe(403);
    expect((await h.req('GET', `/files/${f.id}`, { token: owner })).body.data.attributes.dir_id).toBe(shared.id);
  });

  it('trashes what it covers', async () => {
    const f = await upload(h, owner, shared.id, 'bin.txt', 'b');
    expect(await status('DELETE', `/files/${f.id}`, { token })).toBe(200);
  });
});

describe('narrower rules', () => {
  it('GET on a directory reads its subtree but changes nothing', async () => {
    const token = await h.cliToken(`io.cozy.files:GET:${shared.id}`);
    expect(await status('GET', `/files/${b.id}`, { token })).toBe(200);
    expect(await status('POST', `/files/${shared.id}?Type=directory&Name=nope`, { token })).toBe(403);
    expect(await status('PUT', `/files/${a.id}`, { token, raw: 'x' })).toBe(403);
    expect(await status('PATCH', `/files/${a.id}`, { token, body: patch(a.id, { name: 'nope.txt' }) })).toBe(403);
    expect(await status('DELETE', `/files/${a.id}`, { token })).toBe(403);
  });

  it('a selector rule reads the fields of the file itself (class, mime)', async () => {
    const png = await upload(h, owner, shared.id, 'pic.png', Buffer.from('89504e470d0a1a0a', 'hex'));
    const token = await h.cliToken('io.cozy.files:GET:text:class');
    expect(await status('GET', `/files/${a.id}`, { token })).toBe(200);
    expect(await status('GET', `/files/download/${secret.id}`, { token })).toBe(200);
    expect(await status('GET', `/files/${png.id}`, { token })).toBe(403);
    expect(await status('GET', `/files/${shared.id}`, { token })).toBe(403);
    const images = await h.cliToken('io.cozy.files:POST:image:class');
    expect(await status('POST', `/files/${priv.id}?Type=file&Name=new.png`, { token: images, raw: 'p' })).toBe(201);
    expect(await status('POST', `/files/${priv.id}?Type=file&Name=new.txt`, { token: images, raw: 't' })).toBe(403);
  });
});

describe('app, OAuth and share tokens', () => {
  it('an app token is held to its app rights, and records the app that created', async () => {
    await h.hearth.perms.grantApp(h.instance, 'notes', 'io.cozy.notes');
    const notes = await h.hearth.appToken(h.instance, 'notes');
    const notesCookie = { cookie: `cozysessid=${notes.session_cookie}` };
    expect(await status('GET', `/files/${shared.id}`, { token: notes.token, headers: notesCookie })).toBe(403);
    expect(await status('POST', `/files/${shared.id}?Type=file&Name=n.txt`, { token: notes.token, headers: notesCookie, raw: 'n' })).toBe(403);
    await h.hearth.perms.grantApp(h.instance, 'drive', 'io.cozy.files');
    const drive = await h.hearth.appToken(h.instance, 'drive');
    const headers = { cookie: `cozysessid=${drive.session_cookie}` };
    expect(await status('GET', `/files/${secret.id}`, { token: drive.token, headers })).toBe(200);
    const made = await h.req('POST', `/files/${shared.id}?Type=directory&Name=byDrive`, { token: drive.token, headers });
    expect(made.status).toBe(201);
    expect(made.body.data.attributes.cozyMetadata.createdByApp).toBe('drive');
    // an app token is only valid with the session it was issued for
    expect(await status('GET', `/files/${secret.id}`, { token: drive.token })).toBe(400);
    // a web app may see the disk usage (the cozy-bar shows it)
    expect(await status('GET', '/settings/disk-usage', { token: notes.token, headers: notesCookie })).toBe(200);
  });

  it('an OAuth token is held to its scope', async () => {
    const reg = await h.req('POST', '/auth/register', { body: { redirect_uris: ['https://app.example/cb'], client_name: 'Sync', software_id: 'github.com/hearth/sync' }, headers: { accept: 'application/json' } });
    expect(reg.status).toBe(201);
    const token = await h.hearth.tokens.issue(h.instance, { aud: 'access', sub: reg.body.client_id, scope: `io.cozy.files:GET:${shared.id}` });
    expect(await status('GET', `/files/${b.id}`, { token })).toBe(200);
    expect(await status('GET', `/files/${secret.id}`, { token })).toBe(403);
  });

  it('a share link on a directory reads its subtree only; one with POST may upload there', async () => {
    const link = async (verbs: string[]) => {
      const res = await h.req('POST', '/permissions?codes=bob', { token: owner, body: { data: { type: 'io.cozy.permissions', attributes: { permissions: { files: { type: 'io.cozy.files', verbs, values: [shared.id] } } } } } });
      expect(res.status).toBe(201);
      return res.body.data.attributes.codes.bob as string;
    };
    const read = await link(['GET']);
    expect((await h.req('GET', `/files/download/${a.id}`, { token: read })).text).toBe('aaa');
    expect(await status('GET', `/files/${sub.id}`, { token: read })).toBe(200);
    expect(await status('GET', `/files/${secret.id}`, { token: read })).toBe(403);
    expect(await status('POST', `/files/${shared.id}?Type=file&Name=drop.txt`, { token: read, raw: 'd' })).toBe(403);
    expect(await status('GET', '/settings/disk-usage', { token: read })).toBe(403);
    const drop = await link(['GET', 'POST']);
    expect(await status('POST', `/files/${shared.id}?Type=file&Name=drop.txt`, { token: drop, raw: 'd' })).toBe(201);
    expect(await status('POST', `/files/${priv.id}?Type=file&Name=drop.txt`, { token: drop, raw: 'd' })).toBe(403);
    expect(await status('GET', '/settings/disk-usage', { token: drop })).toBe(200);
  });
});
