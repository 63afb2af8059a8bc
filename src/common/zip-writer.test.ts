/**
 * The export's zip writer, read back by yauzl (what the import uses), Python's zipfile and Info-ZIP's `unzip -t`:
 * deflated and stored entries from buffers and streams, modes and times, zip64 records (forced, and for more than
 * 65,535 entries), and the errors that must destroy the stream (a size that lies, a failing source, a reader that stops).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { readZip } from '../../test/helpers/export.js';
import { alreadyCompressed, zipStream, type ZipEntry, type ZipOptions } from './zip-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-zip-writer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function* each(entries: ZipEntry[]): AsyncGenerator<ZipEntry> {
  yield* entries;
}
const collect = async (entries: AsyncIterable<ZipEntry>, opts?: ZipOptions): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of zipStream(entries, opts)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};
const methods = (zip: Buffer): Promise<Record<string, number>> => new Promise((resolve, reject) => {
  yauzl.fromBuffer(zip, { lazyEntries: false }, (err, z) => {
    if (err || !z) return reject(err ?? new Error('no zip'));
    const out: Record<string, number> = {};
    z.on('entry', (e: yauzl.Entry) => (out[e.fileName] = e.compressionMethod));
    z.on('end', () => resolve(out));
    z.on('error', reject);
  });
});
/** Python's zipfile: the names and a CRC check of every entry (testzip), on the zip written to disk. */
const python = (file: string): { names: string[]; bad: string | null } => JSON.parse(execFileSync('python3', ['-c',
  'import sys, json, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nprint(json.dumps({"names": z.namelist(), "bad": z.testzip()}))', file], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }));

const mtime = new Date('2024-05-06T07:08:10Z');
const random = randomBytes(300_000);
const textual = Buffer.from('a line of text\n'.repeat(20_000));
const long = Buffer.from('another line of text\n'.repeat(100_000));
const bigRandom = randomBytes(1_500_000);
const sample = (): ZipEntry[] => [
  { name: 'My Cozy/Data/io.cozy.contacts/c1.json', mtime, mode: 0o100640, deflate: true, body: Buffer.from('{"_id":"c1","fullname":"Élise"}') },
  { name: 'My Cozy/Files/photo é.jpg', mtime, mode: 0o100640, deflate: false, body: random },
  { name: 'My Cozy/Files/notes.txt', mtime, mode: 0o100750, deflate: true, body: { size: textual.length, open: async () => Readable.from([textual.subarray(0, 1000), textual.subarray(1000)]) } },
  { name: 'My Cozy/Files/video.mp4', mtime, mode: 0o100640, deflate: false, body: { size: random.length, open: async () => Readable.from([random]) } },
  { name: 'My Cozy/Files/empty', mtime, mode: 0o100640, deflate: true, body: { size: 0, open: async () => Readable.from([]) } },
  // past 1 MiB, streamed through zlib (the smaller ones are read whole)
  { name: 'My Cozy/Files/long.txt', mtime, mode: 0o100640, deflate: true, body: { size: long.length, open: async () => Readable.from([long.subarray(0, 65536), long.subarray(65536)]) } },
  { name: 'My Cozy/Files/long.mp4', mtime, mode: 0o100640, deflate: false, body: { size: bigRandom.length, open: async () => Readable.from([bigRandom.subarray(0, 100_000), bigRandom.subarray(100_000)]) } },
];

describe('the zip writer', () => {
  for (const forceZip64 of [false, true]) {
    it(`writes buffers and streams, deflated or stored, with modes and times${forceZip64 ? ', with zip64 records' : ''}`, async () => {
      const zip = await collect(each(sample()), { forceZip64 });
      const entries = await readZip(zip);
      expect(entries.map((e) => e.name)).toEqual(sample().map((e) => e.name));
      expect(entries[0]!.data.toString()).toBe('{"_id":"c1","fullname":"Élise"}');
      expect(entries[1]!.data.equals(random)).toBe(true);
      expect(entries[2]!.data.equals(textual)).toBe(true);
      expect(entries[3]!.data.equals(random)).toBe(true);
      expect(entries[4]!.data.length).toBe(0);
      expect(entries[5]!.data.equals(long)).toBe(true);
      expect(entries[6]!.data.equals(bigRandom)).toBe(true);
      expect(entries.map((e) => e.mode)).toEqual([0o640, 0o640, 0o750, 0o640, 0o640, 0o640, 0o640]);
      expect(entries[0]!.mtime.getTime()).toBe(mtime.getTime());
      expect(await methods(zip)).toEqual({ 'My Cozy/Data/io.cozy.contacts/c1.json': 8, 'My Cozy/Files/photo é.jpg': 0, 'My Cozy/Files/notes.txt': 8, 'My Cozy/Files/video.mp4': 0, 'My Cozy/Files/empty': 8, 'My Cozy/Files/long.txt': 8, 'My Cozy/Files/long.mp4': 0 });
      // the text was deflated, the random bytes stored as they are
      expect(zip.length).toBeLessThan(2 * random.length + bigRandom.length + (textual.length + long.length) / 10);
      const file = join(dir, `sample-${forceZip64}.zip`);
      writeFileSync(file, zip);
      expect(python(file)).toEqual({ names: sample().map((e) => e.name), bad: null });
      expect(execFileSync('unzip', ['-tq', file], { encoding: 'utf8' })).toMatch(/No errors detected/);
    });
  }

  it('writes zip64 end records past 65,535 entries, pulling each entry only when the output is read', async () => {
    let pulled = 0;
    async function* many(): AsyncGenerator<ZipEntry> {
      for (let i = 0; i < 70_000; i++) {
        pulled++;
        yield { name: `My Cozy/Data/io.cozy.notes/n${i}.json`, mtime, mode: 0o100640, deflate: true, body: Buffer.from(`{"_id":"n${i}"}`) };
      }
    }
    const reading = zipStream(many())[Symbol.asyncIterator]();
    const chunks: Buffer[] = [(await reading.next()).value as Buffer];
    await new Promise((r) => setTimeout(r, 100));
    // paced by the reader: a few entries ahead of what was read, not the 70,000
    expect(pulled).toBeLessThan(5000);
    for (let next = await reading.next(); !next.done; next = await reading.next()) chunks.push(next.value as Buffer);
    const zip = Buffer.concat(chunks);
    const file = join(dir, 'many.zip');
    writeFileSync(file, zip);
    const read = python(file);
    expect(read.bad).toBeNull();
    expect(read.names.length).toBe(70_000);
    expect(read.names[69_999]).toBe('My Cozy/Data/io.cozy.notes/n69999.json');
    // yauzl (the import's reader) finds the count in the zip64 end record
    const count = await new Promise<number>((resolve, reject) => yauzl.fromBuffer(zip, { lazyEntries: true }, (err, z) => (err || !z ? reject(err) : resolve(z.entryCount))));
    expect(count).toBe(70_000);
  }, 120_000);

  it('fails the stream when a content is not the size announced, or its source fails', async () => {
    const short: ZipEntry = { name: 'My Cozy/Files/short', mtime, mode: 0o100640, deflate: true, body: { size: 10, open: async () => Readable.from([Buffer.from('abc')]) } };
    await expect(collect(each([short]))).rejects.toThrow(/3 bytes read, 10 announced/);
    const failing = new Readable({ read() { this.destroy(new Error('the disk went away')); } });
    const broken: ZipEntry = { name: 'My Cozy/Files/broken', mtime, mode: 0o100640, deflate: true, body: { size: 10, open: async () => failing } };
    await expect(collect(each([broken]))).rejects.toThrow(/the disk went away/);
    await expect(collect(each([{ ...broken, deflate: false, body: { size: 10, open: async () => new Readable({ read() { this.destroy(new Error('gone too')); } }) } }]))).rejects.toThrow(/gone too/);
    // the same past 1 MiB, streamed (deflated or stored)
    const tooShort = (deflate: boolean): ZipEntry => ({ name: 'My Cozy/Files/long', mtime, mode: 0o100640, deflate, body: { size: 3_000_000, open: async () => Readable.from([long]) } });
    for (const deflate of [true, false]) await expect(collect(each([tooShort(deflate)]))).rejects.toThrow(`${long.length} bytes read, 3000000 announced`);
    const failsLate = (deflate: boolean): ZipEntry => ({ name: 'My Cozy/Files/late', mtime, mode: 0o100640, deflate, body: { size: 3_000_000, open: async () => Readable.from((async function* () { yield long; throw new Error('failed half way'); })()) } });
    for (const deflate of [true, false]) await expect(collect(each([failsLate(deflate)]))).rejects.toThrow(/failed half way/);
  });

  it('closes the content being read when the reader stops', async () => {
    const source = new Readable({ read() { this.push(randomBytes(65536)); } });
    const big: ZipEntry = { name: 'My Cozy/Files/big', mtime, mode: 0o100640, deflate: true, body: { size: 2 ** 30, open: async () => source } };
    const stream = zipStream(each([big]));
    await new Promise((resolve) => stream.once('data', resolve));
    stream.destroy();
    await new Promise((resolve) => source.once('close', resolve));
    expect(source.destroyed).toBe(true);
  });

  it('stores contents whose type is already compressed, deflates the rest', async () => {
    expect(['image/jpeg', 'image/png', 'video/mp4', 'audio/mpeg', 'application/zip', 'application/pdf', 'application/gzip'].map((mime) => alreadyCompressed({ mime }))).toEqual(Array(7).fill(true));
    expect(alreadyCompressed({ mime: 'image/x-unknown-raw', class: 'image' })).toBe(true);
    expect(['text/plain', 'application/json', 'image/svg+xml', 'application/octet-stream'].map((mime) => alreadyCompressed({ mime, class: 'files' }))).toEqual(Array(4).fill(false));
    expect(alreadyCompressed({})).toBe(false);
  });
});
