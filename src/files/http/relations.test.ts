/** Copies, old versions, references, and 10-minute links (downloads, archives) on a real server. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, mkdir, upload } from '../../../test/helpers/files.js';
import { signLink } from './links.js';

let h: TestHearth;
let token: string;
let tmp: string;
beforeAll(async () => {
  // versions: keep them all, without the 15-minute spacing, so that each overwrite makes one
  h = await startTestHearth({ files: { versions: { max: 20, minDelayMs: 0 }, trashRetentionDays: 30 } });
  token = await h.cliToken('io.cozy.files');
  tmp = mkdtempSync(join(tmpdir(), 'hearth-links-'));
});
afterAll(async () => {
  await h.close();
  rmSync(tmp, { recursive: true, force: true });
});

const put = (id: string, content: string) => h.req('PUT', `/files/${id}`, { token, raw: content });

describe('copy', () => {
  it('copies next to the file as "name (copy).ext", or into DirID under Name; needs rights on both ends', async () => {
    const f = await upload(h, token, ROOT, 'bill.pdf', '%PDF bill');
    const c = await h.req('POST', `/files/${f.id}/copy`, { token });
    expect(c.status).toBe(201);
    expect(c.body.data.attributes).toMatchObject({ name: 'bill (copy).pdf', md5sum: f.attributes.md5sum, dir_id: ROOT });
    const d = await mkdir(h, token, ROOT, 'Archives');
    const c2 = await h.req('POST', `/files/${f.id}/copy?DirID=${d.id}&Name=bill-2024.pdf`, { token });
    expect(c2.body.data.attributes).toMatchObject({ name: 'bill-2024.pdf', dir_id: d.id });
    expect((await h.req('GET', `/files/download/${c2.body.data.id}`, { token })).text).toBe('%PDF bill');
    expect((await h.req('POST', `/files/${f.id}/copy?DirID=${d.id}&Name=bill-2024.pdf`, { token })).status).toBe(409);
    const readOnly = await h.cliToken('io.cozy.files:GET');
    expect((await h.req('POST', `/files/${f.id}/copy`, { token: readOnly })).status).toBe(403);
  });
});

describe('old versions', () => {
  it('lists them in GET /files/:id, downloads one, and reverts to it', async () => {
    const f = await upload(h, token, ROOT, 'draft.txt', 'one');
    await put(f.id, 'two');
    await put(f.id, 'three');
    const meta = await h.req('GET', `/files/${f.id}`, { token });
    const versions = meta.body.data.relationships.old_versions.data as Array<{ id: string }>;
    expect(versions).toHaveLength(2);
    expect(meta.body.included.map((v: { attributes: { size: string } }) => v.attributes.size)).toEqual(['3', '3']);
    expect(JSON.stringify(meta.body)).not.toContain('internal_vfs_id');
    const oldest = versions[1]!.id;
    const got = await h.req('GET', `/files/download/${f.id}/${oldest.split('/')[1]}`, { token });
    expect([got.status, got.text]).toEqual([200, 'one']);
    expect((await h.req('GET', `/files/download/${oldest}`, { token })).text).toBe('one'); // the version document's id works too
    const back = await h.req('POST', `/files/revert/${f.id}/${oldest.split('/')[1]}`, { token });
    expect(back.status).toBe(200);
    expect((await h.req('GET', `/files/download/${f.id}`, { token })).text).toBe('one');
    expect((await h.req('GET', `/files/download/${f.id}/nope`, { token })).status).toBe(404);
    expect((await h.req('POST', `/files/revert/${f.id}/${oldest.split('/')[1]}`, { token: await h.cliToken('io.cozy.files:GET') })).status).toBe(404);
  });
});

describe('references', () => {
  it('adds and removes references from both sides, lists the files of a document, and checks rights on both', async () => {
    const a = await upload(h, token, ROOT, 'p1.jpg', 'a');
    const b = await upload(h, token, ROOT, 'p2.jpg', 'b');
    const both = await h.cliToken('io.cozy.files io.cozy.photos.albums');
    const album = { type: 'io.cozy.photos.albums', id: 'summer' };
    const add = await h.req('POST', `/files/${a.id}/relationships/referenced_by`, { token: both, body: { data: album }, headers: { 'content-type': 'application/vnd.api+json' } });
    expect(add.status).toBe(200);
    expect(add.body.data).toEqual([album]);
    const fromAlbum = await h.req('POST', '/data/io.cozy.photos.albums/summer/relationships/references', { token: both, body: { data: [{ type: 'io.cozy.files', id: b.id }] } });
    expect(fromAlbum.status, fromAlbum.text).toBe(204);
    const list = await h.req('GET', '/data/io.cozy.photos.albums/summer/relationships/references', { token: both });
    expect(list.body.data.map((r: { id: string }) => r.id).sort()).toEqual([a.id, b.id].sort());
    expect(list.body.included[0].relationships.referenced_by.data).toEqual([album]);
    expect((await h.req('GET', `/files/${a.id}`, { token })).body.data.relationships.referenced_by.data).toEqual([album]);
    expect((await h.req('DELETE', '/data/io.cozy.photos.albums/summer/relationships/references', { token: both, body: { data: [{ type: 'io.cozy.files', id: a.id }] } })).status).toBe(204);
    expect((await h.req('GET', '/data/io.cozy.photos.albums/summer/relationships/references', { token: both })).body.data.map((r: { id: string }) => r.id)).toEqual([b.id]);
    // rights: the album side needs rights on the album (or on the whole io.cozy.files, below), the file side on the file
    const oneFolder = await h.cliToken(`io.cozy.files:ALL:${(await mkdir(h, token, ROOT, 'Albums only')).id}`);
    expect((await h.req('GET', '/data/io.cozy.photos.albums/summer/relationships/references', { token: oneFolder })).status).toBe(403);
    const albumsOnly = await h.cliToken('io.cozy.photos.albums');
    expect((await h.req('POST', '/data/io.cozy.photos.albums/summer/relationships/references', { token: albumsOnly, body: { data: [{ type: 'io.cozy.files', id: a.id }] } })).status).toBe(403);
    expect((await h.req('POST', `/files/${a.id}/relationships/referenced_by`, { token: both, body: { data: [{ type: 'x' }] } })).status).toBe(400);
  });
});

describe('10-minute links', () => {
  it('shown inline, a link\'s content may be framed by the instance\'s apps only, and runs nothing; as an attachment or by token it stays closed', async () => {
    const f = await upload(h, token, ROOT, 'framed.pdf', '%PDF-1.4 framed', { 'content-type': 'application/pdf' });
    const link = (await h.req('POST', `/files/downloads?Id=${f.id}`, { token })).body.links.related as string;
    const inline = await h.req('GET', link);
    expect(inline.status).toBe(200);
    const csp = String(inline.headers['content-security-policy']);
    expect(csp).toContain(`frame-ancestors http://*.${h.domain};`);
    expect(csp).toMatch(/^default-src 'none';/);
    expect(csp).not.toMatch(/script-src/);
    // an attachment, and the token download route, keep the API's closed policy (no framing at all)
    expect(String((await h.req('GET', `${link}?Dl=1`)).headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    expect(String((await h.req('GET', `/files/download/${f.id}`, { token })).headers['content-security-policy'])).toContain("frame-ancestors 'none'");
  });

  it('download a file without a token, by id, by path and for a version; refuse forged, expired or foreign links', async () => {
    const f = await upload(h, token, ROOT, 'shared.txt', 'the content');
    const res = await h.req('POST', `/files/downloads?Id=${f.id}&Filename=renamed.txt`, { token });
    expect(res.status).toBe(200);
    const link = res.body.links.related as string;
    expect(link).toMatch(/^\/files\/downloads\/[\w-]+\.[\w-]+\/renamed\.txt$/);
    const got = await h.req('GET', `${link}?Dl=1`);
    expect([got.status, got.text]).toEqual([200, 'the content']);
    expect(got.headers['content-disposition']).toMatch(/^attachment; filename="renamed\.txt"/);
    const byPath = await h.req('POST', '/files/downloads?Path=/shared.txt', { token });
    expect((await h.req('GET', byPath.body.links.related)).text).toBe('the content');
    await put(f.id, 'new content');
    const versionId = (await h.req('GET', `/files/${f.id}`, { token })).body.data.relationships.old_versions.data[0].id as string;
    const v = await h.req('POST', `/files/downloads?VersionId=${versionId}`, { token });
    expect((await h.req('GET', v.body.links.related)).text).toBe('the content');

    const [secret] = link.split('/').slice(3, 4);
    // a character in the middle of the MAC (the last one of base64url carries padding bits that decoding ignores)
    const at = secret!.length - 10;
    const forged = secret!.slice(0, at) + (secret![at] === 'A' ? 'B' : 'A') + secret!.slice(at + 1);
    expect((await h.req('GET', `/files/downloads/${forged}/x`)).status).toBe(404);
    expect((await h.req('GET', `/files/downloads/${secret}/x`, { host: h.otherDomain })).status).toBe(404);
    const key = (await h.hearth.registry.secrets(h.instance)).session;
    const expired = signLink(key, h.instance.id, { k: 'd', i: [f.id], n: 'x', e: Date.now() - 1 });
    expect((await h.req('GET', `/files/downloads/${expired}/x`)).body.errors[0].detail).toMatch(/expired/);
    const archiveAsDownload = signLink(key, h.instance.id, { k: 'a', i: [f.id], n: 'x', e: Date.now() + 60_000 });
    expect((await h.req('GET', `/files/downloads/${archiveAsDownload}/x`)).status).toBe(404);
    expect((await h.req('POST', `/files/downloads?Id=${f.id}`)).status).toBe(401);
  });

  it('zip a selection by ids and paths, streamed without a token; refuse what the caller cannot read', async () => {
    const d = await mkdir(h, token, ROOT, 'Trip');
    await upload(h, token, d.id, 'day 1.txt', 'sun');
    const extra = await upload(h, token, ROOT, 'notes.txt', 'notes');
    const res = await h.req('POST', '/files/archive', { token, body: { data: { type: 'io.cozy.files.archives', attributes: { name: 'holidays', ids: [extra.id], files: ['/Trip'] } } } });
    expect(res.status).toBe(200);
    expect(res.body.links.related).toMatch(/\/holidays\.zip$/);
    const zip = await new Promise<Buffer>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const r = request({ host: '127.0.0.1', port: h.port, path: res.body.links.related, headers: { host: h.domain } }, (out) => {
          expect(out.headers['content-type']).toBe('application/zip');
          const chunks: Buffer[] = [];
          out.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks)));
        });
        r.on('error', reject).end();
      }, reject);
    });
    const file = join(tmp, 'a.zip');
    writeFileSync(file, zip);
    const names = execFileSync('python3', ['-c', 'import sys,zipfile;print("\\n".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))', file]).toString().trim().split('\n');
    expect(names).toEqual(['Trip/', 'Trip/day 1.txt', 'notes.txt']);
    const onlyTrip = await h.cliToken(`io.cozy.files:GET:${d.id}`);
    expect((await h.req('POST', '/files/archive', { token: onlyTrip, body: { data: { attributes: { ids: [extra.id] } } } })).status).toBe(403);
    expect((await h.req('POST', '/files/archive', { token, body: { data: { attributes: {} } } })).status).toBe(400);
    const tooMany = Array.from({ length: 201 }, () => extra.id);
    expect((await h.req('POST', '/files/archive', { token, body: { data: { attributes: { ids: tooMany } } } })).status).toBe(413);
  });

  it('lets a token with GET on the whole io.cozy.files list, and one with PATCH on it change, the references of any document (as konnectors do)', async () => {
    const folder = await mkdir(h, token, ROOT, 'Konnector folder');
    const bill = await upload(h, token, folder.id, 'bill.pdf', '%PDF');
    // a konnector's folders are found by `io.cozy.konnectors/<slug>` (a slash in the id) and by the account's identifier
    const konnector = `/data/io.cozy.konnectors/${encodeURIComponent('io.cozy.konnectors/sample')}/relationships/references`;
    const account = '/data/io.cozy.accounts.sourceAccountIdentifier/alice%40example.org/relationships/references';
    const readOnly = await h.cliToken('io.cozy.files:GET');
    const patcher = await h.cliToken('io.cozy.files:GET,PATCH');
    const body = { data: [{ type: 'io.cozy.files', id: folder.id }, { type: 'io.cozy.files', id: bill.id }] };
    expect((await h.req('POST', konnector, { token: readOnly, body })).status).toBe(403);
    for (const path of [konnector, account]) expect((await h.req('POST', path, { token: patcher, body })).status).toBe(204);
    const listed = await h.req('GET', konnector, { token: readOnly });
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.data.map((r: { id: string }) => r.id).sort()).toEqual([folder.id, bill.id].sort());
    const dir = listed.body.included.find((d: { id: string }) => d.id === folder.id);
    expect(dir.attributes.type).toBe('directory');
    expect(dir.relationships.referenced_by.data).toEqual([
      { type: 'io.cozy.konnectors', id: 'io.cozy.konnectors/sample' },
      { type: 'io.cozy.accounts.sourceAccountIdentifier', id: 'alice@example.org' },
    ]);
    expect((await h.req('DELETE', account, { token: readOnly, body })).status).toBe(403);
    expect((await h.req('DELETE', account, { token: patcher, body })).status).toBe(204);
    expect((await h.req('GET', account, { token: readOnly })).body.data).toEqual([]);
  });

  it('still refuses tokens without those rights: files of one folder only, or no GET, or PATCH without a whole-type rule', async () => {
    const folder = await mkdir(h, token, ROOT, 'Scoped');
    const path = '/data/io.cozy.konnectors/other/relationships/references';
    const body = { data: [{ type: 'io.cozy.files', id: folder.id }] };
    const scoped = await h.cliToken(`io.cozy.files:ALL:${folder.id}`);
    const writeOnly = await h.cliToken('io.cozy.files:POST,PATCH');
    const putOnly = await h.cliToken('io.cozy.files:GET,PUT');
    expect((await h.req('GET', path, { token: scoped })).status).toBe(403);
    expect((await h.req('POST', path, { token: scoped, body })).status).toBe(403);
    expect((await h.req('GET', path, { token: writeOnly })).status).toBe(403);
    expect((await h.req('POST', path, { token: putOnly, body })).status).toBe(403);
    expect((await h.req('GET', path, { token })).body.data).toEqual([]);
    expect((await h.req('GET', '/data/io.cozy.accounts.SourceAccountIdentifier/x/relationships/references', { token })).status).toBe(400);
  });
});
