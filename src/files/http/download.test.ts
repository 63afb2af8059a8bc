/** GET/HEAD /files/download on a real server: streamed content, headers, ranges, conditional requests, dispositions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, md5, mkdir, q, upload } from '../../../test/helpers/files.js';
import { contentDisposition } from './disposition.js';

let h: TestHearth;
let token: string;
const CONTENT = '0123456789abcdefghij'; // 20 bytes
let file: { id: string; attributes: { updated_at: string } };
let dirId: string;

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
  dirId = (await mkdir(h, token, ROOT, 'Downloads')).id;
  file = await upload(h, token, dirId, 'data.txt', CONTENT);
});
afterAll(() => h.close());

const get = (headers: Record<string, string> = {}, path = `/files/download/${file.id}`) => h.req('GET', path, { token, headers });

describe('downloads', () => {
  it('streams the content with its type, length, ETag, Last-Modified and an inline disposition', async () => {
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.text).toBe(CONTENT);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.headers['content-length']).toBe('20');
    expect(res.headers.etag).toBe(`"${md5(CONTENT)}"`);
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['last-modified']).toBe(new Date(Math.floor(Date.parse(file.attributes.updated_at) / 1000) * 1000).toUTCString());
    expect(res.headers['content-disposition']).toBe('inline; filename="data.txt"');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('Dl=1 makes it an attachment; by path too', async () => {
    const res = await get({}, `/files/download?Path=${q('/Downloads/data.txt')}&Dl=1`);
    expect(res.status).toBe(200);
    expect(res.text).toBe(CONTENT);
    expect(res.headers['content-disposition']).toBe('attachment; filename="data.txt"');
    expect((await get({}, `/files/download?Path=${q('/Downloads/none.txt')}`)).status).toBe(404);
  });

  it('names any file safely: an ASCII fallback and the exact UTF-8 name (RFC 6266/5987)', async () => {
    const name = 'Résumé "final" (v2) ☃.txt';
    const f = await upload(h, token, dirId, name, 'cv');
    const res = await h.req('GET', `/files/download/${f.id}?Dl=1`, { token });
    expect(res.status).toBe(200);
    const header = String(res.headers['content-disposition']);
    expect(header).toBe(`attachment; filename="Resume _final_ (v2) _.txt"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22%20%28v2%29%20%E2%98%83.txt`);
    const ext = /filename\*=UTF-8''(.+)$/.exec(header)![1]!;
    expect(decodeURIComponent(ext)).toBe(name);
    // quotes, backslashes and controls never end the quoted fallback
    expect(contentDisposition('inline', 'a"b\\c\u0001.txt')).toBe(`inline; filename="a_b_c_.txt"; filename*=UTF-8''a%22b%5Cc%01.txt`);
    expect(contentDisposition('inline', '日本.pdf')).toMatch(/^inline; filename="__\.pdf"; filename\*=UTF-8''%E6%97%A5%E6%9C%AC\.pdf$/);
  });

  it('serves one range (206), a suffix or an open-ended one; 416 outside; several ranges as multipart (ranges.test.ts)', async () => {
    const r = await get({ range: 'bytes=2-5' });
    expect(r.status).toBe(206);
    expect(r.text).toBe('2345');
    expect(r.headers['content-range']).toBe('bytes 2-5/20');
    expect(r.headers['content-length']).toBe('4');
    const suffix = await get({ range: 'bytes=-3' });
    expect([suffix.status, suffix.text, suffix.headers['content-range']]).toEqual([206, 'hij', 'bytes 17-19/20']);
    const open = await get({ range: 'bytes=15-' });
    expect([open.status, open.text]).toEqual([206, 'fghij']);
    const clipped = await get({ range: 'bytes=18-100' });
    expect([clipped.status, clipped.text, clipped.headers['content-range']]).toEqual([206, 'ij', 'bytes 18-19/20']);
    const outside = await get({ range: 'bytes=20-30' });
    expect(outside.status).toBe(416);
    expect(outside.headers['content-range']).toBe('bytes */20');
    expect(outside.body.errors[0].status).toBe('416');
    const several = await get({ range: 'bytes=0-1,4-5' });
    expect(several.status).toBe(206);
    expect(several.headers['content-type']).toMatch(/^multipart\/byteranges; boundary=[0-9a-f]{32}$/);
    const overlapping = await get({ range: 'bytes=0-15,5-19' });
    expect([overlapping.status, overlapping.text]).toEqual([200, CONTENT]);
  });

  it('answers 304 to a matching If-None-Match or a later If-Modified-Since; If-Range that changed gives it all', async () => {
    const { headers } = await get();
    const etag = String(headers.etag);
    const lastModified = String(headers['last-modified']);
    const notModified = await get({ 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.etag).toBe(etag);
    expect((await get({ 'if-none-match': `"other", ${etag}` })).status).toBe(304);
    expect((await get({ 'if-none-match': '"other"' })).status).toBe(200);
    expect((await get({ 'if-modified-since': lastModified })).status).toBe(304);
    expect((await get({ 'if-modified-since': new Date(Date.parse(lastModified) - 1000).toUTCString() })).status).toBe(200);
    // If-None-Match wins over If-Modified-Since
    expect((await get({ 'if-none-match': '"other"', 'if-modified-since': lastModified })).status).toBe(200);
    expect((await get({ range: 'bytes=0-1', 'if-range': etag })).status).toBe(206);
    const changed = await get({ range: 'bytes=0-1', 'if-range': '"old"' });
    expect([changed.status, changed.text]).toEqual([200, CONTENT]);
    expect((await get({ 'if-match': '"old"' })).status).toBe(412);
  });

  it('HEAD gives the headers without the content', async () => {
    const res = await h.req('HEAD', `/files/download/${file.id}`, { token });
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    expect(res.headers['content-length']).toBe('20');
    expect(res.headers.etag).toBe(`"${md5(CONTENT)}"`);
    const path = await h.req('HEAD', `/files/download?Path=${q('/Downloads/data.txt')}`, { token });
    expect([path.status, path.headers['content-length']]).toEqual([200, '20']);
    expect((await h.req('HEAD', `/files/download/${file.id}`, { token, headers: { range: 'bytes=0-4' } })).headers['content-range']).toBe('bytes 0-4/20');
  });

  it('serves an empty file, the latest content after a PUT, and no directory (422)', async () => {
    const empty = await upload(h, token, dirId, 'empty.txt', '');
    const e = await h.req('GET', `/files/download/${empty.id}`, { token });
    expect([e.status, e.text, e.headers['content-length']]).toEqual([200, '', '0']);
    expect((await h.req('GET', `/files/download/${empty.id}`, { token, headers: { range: 'bytes=0-' } })).status).toBe(416);
    const f = await upload(h, token, dirId, 'changing.txt', 'before');
    expect((await h.req('PUT', `/files/${f.id}`, { token, raw: 'after!' })).status).toBe(200);
    const after = await h.req('GET', `/files/download/${f.id}`, { token });
    expect([after.text, after.headers.etag]).toEqual(['after!', `"${md5('after!')}"`]);
    expect((await h.req('GET', `/files/download/${dirId}`, { token })).status).toBe(422);
    expect((await h.req('GET', '/files/download/missing', { token })).status).toBe(404);
  });

  it('keeps the MIME type of a JSON file (not rewritten as JSON-API)', async () => {
    const f = await upload(h, token, dirId, 'conf.json', '{"a":1}', { 'content-type': 'application/json' });
    const res = await h.req('GET', `/files/download/${f.id}`, { token });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ a: 1 });
  });
});
