/** GET /settings/disk-usage?include=categories on a real server: the files' bytes by category, the trash apart, and who may read them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, upload } from '../../../test/helpers/files.js';

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
  const token = await h.cliToken('io.cozy.files');
  const put = (name: string, size: number, type: string) => upload(h, token, ROOT, name, Buffer.alloc(size, 1), { 'content-type': type });
  await put('a.pdf', 100, 'application/pdf');
  await put('b.txt', 20, 'text/plain');
  await put('c.png', 300, 'image/png');
  await put('d.mp4', 4000, 'video/mp4');
  await put('e.mp3', 500, 'audio/mpeg');
  await put('f.bin', 60, 'application/octet-stream');
  const gone = await put('g.jpg', 7, 'image/jpeg');
  expect((await h.req('DELETE', `/files/${gone.id}`, { token })).status).toBe(200);
});
afterAll(() => h.close());

describe('disk usage by category', () => {
  it('adds the bytes of each category, the trashed files counted in the trash only, beside cozy-stack\'s attributes', async () => {
    const res = await h.req('GET', '/settings/disk-usage?include=trash,categories', { token: await h.cliToken('io.cozy.settings') });
    expect(res.status).toBe(200);
    const a = res.body.data.attributes;
    expect(a.categories).toEqual({ documents: '120', images: '300', videos: '4000', audio: '500', others: '60' });
    expect(a.trash).toBe('7');
    expect(a.used).toBe('4987');
    const plain = await h.req('GET', '/settings/disk-usage', { token: await h.cliToken('io.cozy.settings') });
    expect(plain.body.data.attributes.categories).toBeUndefined();
    expect(plain.body.data.attributes.trash).toBeUndefined();
  });

  it('is refused to a token without a right on the disk usage', async () => {
    const res = await h.req('GET', '/settings/disk-usage?include=categories', { token: await h.cliToken('io.cozy.files:GET') });
    expect(res.status).toBe(403);
    expect(res.text).not.toContain('categories');
  });
});
