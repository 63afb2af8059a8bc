/**
 * What the file contents of an import leave behind for the garbage collector (issue 17: 25-68 MB of array buffers at
 * the server's peak during the contents). Counted, not timed: the memory behind each chunk a large entry gives, zlib's
 * part-filled output buffers freed (detached) once zlib moved on, the output buffers held at once with a slow reader,
 * and the small contents' buffers freed once written; and the zip's windows, whose memory is
 * reused, never change bytes already handed out.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflateRaw, deflateRawSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { testConfig } from '../../../test/helpers/hearth.js';
import { doc, file, writeZip } from '../../../test/helpers/move-archive.js';
import type { FileSystem } from '../../files/fs.js';
import type { Instance } from '../../instances/types.js';
import { createHearth, type Hearth } from '../../server/compose.js';
import { eachEntry, ownChunks } from './archive.js';
import { Importer } from './importer.js';
import { emptyReport } from './report.js';
import { DEFAULT_IMPORT_LIMITS } from './service.js';

const ROOT = 'io.cozy.files.root-dir';
const limits = { maxEntries: 1000, maxEntryBytes: 1e9 };
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
/** Compressible, but not too much: zlib's output comes in many part-filled buffers. */
const content = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919) % 251 ^ (i >> 9) & 0xff));
const nextTurn = () => new Promise((r) => setImmediate(r));

describe('the memory an import leaves to the collector', () => {
  let work: string;
  let hearth: Hearth;
  let inst: Instance;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'hearth-import-memory-'));
    hearth = await createHearth(testConfig(join(work, 'data')), pino({ level: 'silent' }));
    inst = await hearth.registry.create({ domain: 'memory.localhost' });
  }, 60_000);
  afterAll(async () => {
    await hearth?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('frees each of zlib\'s part-filled output buffers once zlib moved on, one held at a time', async () => {
    const data = content(3 * 1024 * 1024 + 123);
    const raw = deflateRawSync(data);
    const inflate = createInflateRaw({ chunkSize: 16 * 1024 });
    // the output buffers zlib handed over part-filled (a slice of them), seen before ownChunks
    const parts = new Set<ArrayBuffer>();
    const spy = new Transform({
      transform(chunk: Buffer, _e, done) {
        if (chunk.byteOffset !== 0 || chunk.length !== chunk.buffer.byteLength) parts.add(chunk.buffer as ArrayBuffer);
        done(null, chunk);
      },
    });
    const held = { buffers: 0 };
    const out: Buffer[] = [];
    let maxHeld = 0;
    const slowReader = async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        maxHeld = Math.max(maxHeld, held.buffers);
        out.push(chunk);
        await nextTurn();
      }
    };
    const feed = Readable.from((function* () {
      for (let at = 0; at < raw.length; at += 5000) yield raw.subarray(at, at + 5000);
    })());
    await pipeline(feed, inflate, spy, ownChunks(held), slowReader);
    expect(Buffer.concat(out).equals(data)).toBe(true);
    expect(parts.size).toBeGreaterThan(10);
    // every part-filled buffer freed (its memory detached), none left for the collector
    for (const memory of parts) expect(memory.byteLength).toBe(0);
    expect(maxHeld).toBeLessThanOrEqual(1);
    expect(held.buffers).toBe(0);
    // what was handed on owns exactly its bytes: no memory behind it beyond them
    for (const chunk of out) expect(chunk.buffer.byteLength).toBe(chunk.length);
  });

  it('gives a large entry\'s bytes in chunks with no more memory behind them than their own', async () => {
    const archive = join(work, 'large.zip');
    const data = content(2 * 1024 * 1024 + 77);
    await writeZip(archive, [{ name: 'big.bin', data }]);
    const chunks: Buffer[] = [];
    await eachEntry(archive, limits, async (entry) => {
      for await (const chunk of await entry.open()) {
        chunks.push(chunk as Buffer);
        await nextTurn();
      }
    });
    expect(md5(Buffer.concat(chunks))).toBe(md5(data));
    expect(chunks.reduce((n, c) => n + c.buffer.byteLength, 0)).toBe(data.length);
  });

  it('frees the small contents\' buffers once written', async () => {
    const archive = join(work, 'small.zip');
    const FILES = 30;
    const contents = Array.from({ length: FILES }, (_, i) => randomBytes(4096 + i * 500));
    const big = { _id: 'big', text: 'x'.repeat(6000) };
    await writeZip(archive, [doc('io.cozy.memory.things', big), ...contents.flatMap((c, i) => file(`m${i}`, '', ROOT, `m${i}.bin`, c))]);
    // the chunks each content reached the blob store with
    const seen: Buffer[] = [];
    const real = hearth.vfs.fs;
    const blobs = new Proxy(real.blobs, {
      get(t, prop) {
        if (prop === 'write') {
          return (ns: string, body: Readable, opts: Parameters<FileSystem['blobs']['write']>[2]) =>
            t.write(ns, body.pipe(new Transform({ transform: (c: Buffer, _e, done) => done(null, (seen.push(c), c)) })), opts);
        }
        const v: unknown = Reflect.get(t, prop, t);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const fs = new Proxy(real, { get: (t, prop) => (prop === 'blobs' ? blobs : Reflect.get(t, prop, t)) as unknown });
    const store = hearth.storeOf(inst);
    const report = emptyReport();
    const importer = new Importer(inst, { store, fs, limits: DEFAULT_IMPORT_LIMITS, move: false, createTrigger: async () => undefined, install: async () => 'kept' }, report);
    await importer.readPart(archive, 0);
    await importer.finish();
    expect(report).toMatchObject({ docs: 1, files: FILES, skipped_count: 0 });
    expect(seen).toHaveLength(FILES);
    for (const chunk of seen) expect(chunk.buffer.byteLength).toBe(0);
    const back = await hearth.vfs.fs.stat(inst, `m${FILES - 1}`);
    const read: Buffer[] = [];
    for await (const c of await hearth.vfs.fs.open(inst, back)) read.push(c as Buffer);
    expect(md5(Buffer.concat(read))).toBe(md5(contents[FILES - 1]!));
    expect((await store.get('io.cozy.memory.things', 'big')).text).toBe(big.text);
  });

  it('never changes the bytes of a small entry already read when the zip\'s windows are reused', async () => {
    const archive = join(work, 'windows.zip');
    const zip = new yazl.ZipFile();
    const entries = Array.from({ length: 48 }, (_, i) => randomBytes(90_000 + i * 1000));
    for (const [i, e] of entries.entries()) zip.addBuffer(e, `e${i}.bin`, { compress: i % 3 === 0 });
    zip.end();
    await pipeline(zip.outputStream, createWriteStream(archive));
    const got: Buffer[] = [];
    await eachEntry(archive, limits, async (entry) => {
      got.push(await entry.whole!());
    });
    expect(got.map(md5)).toEqual(entries.map(md5));
  });
});
