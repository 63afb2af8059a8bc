/** cozy-stack-client's FileCollection (the npm package cozy apps use) against /files on a real server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import CozyStackClientModule from 'cozy-stack-client';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { ROOT, TRASH, md5 } from '../../../test/helpers/files.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const CozyStackClient: any = (CozyStackClientModule as any).default ?? CozyStackClientModule;

let h: TestHearth;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let files: any;

beforeAll(async () => {
  h = await startTestHearth();
  const token = await h.cliToken('io.cozy.files');
  files = new CozyStackClient({ uri: h.url, token }).collection('io.cozy.files');
});
afterAll(() => h.close());

describe('cozy-stack-client FileCollection', () => {
  it('creates a directory, uploads a file, stats them by id and by path', async () => {
    const { data: dir } = await files.createDirectory({ name: 'Client', dirId: ROOT, lastModifiedDate: '2021-03-04T05:06:07Z' });
    expect(dir).toMatchObject({ _id: expect.any(String), _type: 'io.cozy.files', type: 'directory', name: 'Client', path: '/Client', dir_id: ROOT, created_at: '2021-03-04T05:06:07.000Z' });
    expect(dir._rev).toMatch(/^1-/);

    const { data: file } = await files.createFile('Hello from cozy-stack-client', { name: 'hello.txt', dirId: dir._id, contentType: 'text/plain', checksum: md5('Hello from cozy-stack-client') });
    expect(file).toMatchObject({ type: 'file', name: 'hello.txt', dir_id: dir._id, size: '28', mime: 'text/plain', md5sum: md5('Hello from cozy-stack-client') });

    const byId = await files.statById(dir._id);
    expect(byId.data).toMatchObject({ _id: dir._id, name: 'Client' });
    expect(byId.included.map((f: { _id: string }) => f._id)).toEqual([file._id]);
    expect(byId.included[0]).toMatchObject({ name: 'hello.txt', _type: 'io.cozy.files' });
    const byPath = await files.statByPath('/Client/hello.txt');
    expect(byPath.data).toMatchObject({ _id: file._id, _rev: file._rev, name: 'hello.txt' });

    // upload() creates the missing directories on the way (statByPath answering 404, then createDirectory)
    const { data: deep } = await files.upload(new File(['deep content'], 'deep.txt', { type: 'text/plain' }), '/Client/a/b');
    expect(deep).toMatchObject({ name: 'deep.txt', size: '12', mime: 'text/plain' });
    expect((await files.statByPath('/Client/a/b/deep.txt')).data._id).toBe(deep._id);
  });

  it('uploads into a path, updates attributes, moves, renames and overwrites with If-Match', async () => {
    const { data: dir } = await files.createDirectory({ name: 'Work', dirId: ROOT });
    const { data: archive } = await files.createDirectory({ name: 'Archive', dirId: dir._id });
    const { data: file } = await files.createFile('v1', { name: 'report.md', dirId: dir._id });
    const { data: tagged } = await files.updateAttributes(file._id, { tags: ['q3'], name: 'report-q3.md' });
    expect(tagged).toMatchObject({ _id: file._id, name: 'report-q3.md', tags: ['q3'] });
    // update() sends the whole document back as attributes: only what may change is read
    const { data: moved } = await files.update({ ...tagged, dir_id: archive._id });
    expect(moved).toMatchObject({ dir_id: archive._id, name: 'report-q3.md' });
    expect((await files.statByPath('/Work/Archive/report-q3.md')).data._id).toBe(file._id);
    const { data: overwritten } = await files.updateFile('version 2', { fileId: file._id, name: 'report-q3.md' }, { ifMatch: moved._rev });
    expect(overwritten).toMatchObject({ _id: file._id, size: '9', md5sum: md5('version 2') });
    await expect(files.updateFile('version 3', { fileId: file._id, name: 'report-q3.md' }, { ifMatch: moved._rev })).rejects.toMatchObject({ status: 412 });
    await expect(files.updateAttributes(file._id, { name: 'x.md' }, { ifMatch: moved._rev })).rejects.toMatchObject({ status: 412 });
  });

  it('trashes, restores, destroys, empties the trash', async () => {
    const { data: dir } = await files.createDirectory({ name: 'Bin', dirId: ROOT });
    const { data: file } = await files.createFile('to trash', { name: 'old.txt', dirId: dir._id });
    const { data: trashed } = await files.destroy(file);
    expect(trashed).toMatchObject({ _id: file._id, dir_id: TRASH, trashed: true });
    const { data: restored } = await files.restore(file._id);
    expect(restored).toMatchObject({ _id: file._id, dir_id: dir._id, trashed: false });
    await files.destroy(restored);
    await files.deleteFilePermanently(file._id);
    expect((await files.statByPath('/Bin')).included).toEqual([]);
    await expect(files.statById(file._id)).rejects.toMatchObject({ status: 404 });
    const { data: other } = await files.createFile('also', { name: 'also.txt', dirId: dir._id });
    await files.destroy(other);
    await files.emptyTrash();
    await expect(files.statById(other._id)).rejects.toMatchObject({ status: 404 });
  });

  it('downloads the content', async () => {
    const { data: file } = await files.createFile('downloaded bytes', { name: 'dl.txt', dirId: ROOT });
    const res = await files.fetchFileContentById(file._id);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.headers.get('etag')).toBe(`"${md5('downloaded bytes')}"`);
    expect(await res.text()).toBe('downloaded bytes');
  });

  it('surfaces Hearth errors as cozy-stack-client FetchErrors (409, 422)', async () => {
    await files.createDirectory({ name: 'Twice', dirId: ROOT });
    await expect(files.createDirectory({ name: 'Twice', dirId: ROOT })).rejects.toMatchObject({ status: 409 });
    await expect(files.createDirectory({ name: 'Bad', dirId: 'missing-dir' })).rejects.toMatchObject({ status: 404 });
    await expect(files.createDirectory({ name: 'x'.repeat(300), dirId: ROOT })).rejects.toMatchObject({ status: 422 });
  });
});
