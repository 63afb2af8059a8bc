/** EXIF at upload, from the content's first 128 KiB only: the date taken becomes created_at, cozy-stack's metadata shape. */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestVfs, type TestVfs } from '../../../test/helpers/vfs.js';
import { corruptJpeg, jpegWithExif, png } from '../../../test/helpers/images.js';
import { ROOT_DIR_ID } from '../types.js';
import { EXIF_HEAD_BYTES, exifDate, imageFacts } from './exif.js';

let t: TestVfs;
beforeAll(() => {
  t = openTestVfs('b');
});
afterAll(() => t.close());

const upload = (name: string, content: Buffer, extra: { createdAt?: string; mime?: string } = {}) =>
  t.vfs.fs.upload(t.instance, { dirId: ROOT_DIR_ID, name, body: Readable.from([content]), ...extra });

describe('EXIF dates', () => {
  it('reads the EXIF date format, with its offset or as UTC, and refuses what is not a date', () => {
    expect(exifDate('2021:06:15 10:30:00', '+02:00')).toBe('2021-06-15T08:30:00.000Z');
    expect(exifDate('2021:06:15 10:30:00')).toBe('2021-06-15T10:30:00.000Z');
    expect(exifDate('2021:06:15 10:30:00', 'garbage')).toBe('2021-06-15T10:30:00.000Z');
    expect([exifDate('0000:00:00 00:00:00'), exifDate('    :  :     :  :  '), exifDate(42), exifDate(undefined)]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('finds everything in the head of a large JPEG (the rest is not needed)', async () => {
    const jpeg = await jpegWithExif(3000, 2000, { orientation: 8, taken: '2019:12:31 23:59:58', gps: true });
    expect(jpeg.length).toBeGreaterThan(4 * EXIF_HEAD_BYTES);
    expect(await imageFacts(jpeg.subarray(0, EXIF_HEAD_BYTES))).toEqual({
      takenAt: '2019-12-31T23:59:58.000Z',
      metadata: { extractor_version: 2, datetime: '2019-12-31T23:59:58.000Z', width: 3000, height: 2000, orientation: 8, gps: { lat: 48.85, long: 2.35 } },
    });
    expect(await imageFacts(Buffer.from('not an image at all'))).toEqual({ metadata: { extractor_version: 2 } });
  });
});

describe('upload of an image', () => {
  it('sets created_at from DateTimeOriginal and the metadata, the content stored whole', async () => {
    const jpeg = await jpegWithExif(2000, 1500, { orientation: 6, taken: '2020:02:13 16:35:47', offset: '+01:00', gps: true });
    const doc = await upload('IMG_0001.jpg', jpeg);
    expect(doc.created_at).toBe('2020-02-13T15:35:47.000Z');
    expect(doc.updated_at).not.toBe(doc.created_at);
    expect(doc.metadata).toEqual({ extractor_version: 2, datetime: '2020-02-13T15:35:47.000Z', width: 2000, height: 1500, orientation: 6, gps: { lat: 48.85, long: 2.35 } });
    expect(doc.size).toBe(String(jpeg.length));
  });

  it('keeps the CreatedAt the client gave, and dates an image without EXIF by its creation', async () => {
    const given = await upload('given.jpg', await jpegWithExif(100, 100, { taken: '2020:02:13 16:35:47' }), { createdAt: '2024-01-01T00:00:00.000Z' });
    expect(given.created_at).toBe('2024-01-01T00:00:00.000Z');
    expect(given.metadata).toMatchObject({ datetime: '2020-02-13T16:35:47.000Z' }); // no offset written: UTC
    const plain = await upload('plain.png', await png(640, 360));
    expect(plain.metadata).toEqual({ extractor_version: 2, datetime: plain.created_at, width: 640, height: 360 });
  });

  it('never fails an upload for an unreadable image, and reads no EXIF from what is not an image', async () => {
    const bad = corruptJpeg();
    const doc = await upload('broken.jpg', bad);
    expect(doc.metadata).toEqual({ extractor_version: 2, datetime: doc.created_at });
    expect(doc.size).toBe(String(bad.length));
    const text = await upload('photo.txt', await jpegWithExif(100, 100, { taken: '2001:01:01 00:00:00' }));
    expect(text.metadata).toBeUndefined();
  });
});
