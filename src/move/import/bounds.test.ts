/**
 * What an import holds while a slow disk writes (issue 17: the peak RSS grew with the machine's load). The writer here
 * is slower than the reader: the documents' store holds each write for as long as the reader still makes progress (new
 * contents keep coming), so any batch the reader can fill meanwhile shows as a second write under way. The import must
 * wait for the write instead: one write at a time, each of at most BATCH documents (plus one per content in flight),
 * whatever the writer's speed; and everything is imported all the same. Counts, not times: the hold ends when the
 * reader stops, not after a fixed delay. And a small entry, read whole, holds no more memory than its own size (zlib's
 * default output buffer kept 16 KiB behind each document of a few dozen bytes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../../test/helpers/hearth.js';
import { doc, file, writeZip } from '../../../test/helpers/move-archive.js';
import type { DocStore } from '../../data/store.js';
import type { FileSystem } from '../../files/fs.js';
import type { Instance } from '../../instances/types.js';
import { createHearth, type Hearth } from '../../server/compose.js';
import { eachEntry } from './archive.js';
import { BATCH, IN_FLIGHT, Importer } from './importer.js';
import { emptyReport } from './report.js';
import { DEFAULT_IMPORT_LIMITS } from './service.js';

const DOCS = 600;
const FILES = 2200;
const ROOT = 'io.cozy.files.root-dir';

/** `target` with `overrides` in place of some of its methods (the others bound to it). */
function wrap<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (prop in overrides) return overrides[prop as keyof T];
      const v: unknown = Reflect.get(t, prop, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

describe('import with a writer slower than its reader', () => {
  let hearth: Hearth;
  let inst: Instance;
  let work: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'hearth-import-bounds-'));
    hearth = await createHearth(testConfig(join(work, 'data')), pino({ level: 'silent' }));
    inst = await hearth.registry.create({ domain: 'bounds.localhost' });
  }, 60_000);
  afterAll(async () => {
    await hearth?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('writes one batch at a time, each bounded, and imports everything', async () => {
    const archive = join(work, 'part0.zip');
    await writeZip(archive, [
      ...Array.from({ length: DOCS }, (_, i) => doc('io.cozy.bounds.things', { _id: `t${i}`, _rev: '1-a', i })),
      ...Array.from({ length: FILES }, (_, i) => file(`f${i}`, '', ROOT, `f${i}.txt`, `content of file ${i}`)).flat(),
    ]);

    // the reader's progress: contents handed to the blob store
    let contents = 0;
    const real = hearth.vfs.fs;
    const blobs = wrap(real.blobs, { write: (...a: Parameters<FileSystem['blobs']['write']>) => (contents++, real.blobs.write(...a)) });
    const fs = wrap(real, { blobs } as Partial<FileSystem>);
    const store = hearth.storeOf(inst);
    const seen = { writes: 0, active: 0, maxActive: 0, maxDocs: 0 };
    const slowStore = wrap<DocStore>(store, {
      bulkDocs: async (doctype, docs, newEdits) => {
        seen.writes++;
        seen.maxActive = Math.max(seen.maxActive, ++seen.active);
        seen.maxDocs = Math.max(seen.maxDocs, docs.length);
        try {
          // held while the reader goes on (another write starting meanwhile is what the import must not do)
          for (let last = -1; last !== contents;) {
            last = contents;
            await new Promise((r) => setTimeout(r, 100));
          }
          return await store.bulkDocs(doctype, docs, newEdits);
        } finally {
          seen.active--;
        }
      },
    });

    const report = emptyReport();
    const importer = new Importer(inst, {
      store: slowStore, fs, limits: DEFAULT_IMPORT_LIMITS, move: false,
      createTrigger: async () => undefined, install: async () => 'kept',
    }, report);
    await importer.readPart(archive, 0);
    await importer.finish();

    expect(seen.maxActive).toBe(1);
    expect(seen.maxDocs).toBeLessThanOrEqual(BATCH + IN_FLIGHT);
    expect(seen.writes).toBeGreaterThanOrEqual(Math.ceil((DOCS + FILES) / (BATCH + IN_FLIGHT)));
    expect(report).toMatchObject({ docs: DOCS, files: FILES, skipped_count: 0 });
    expect(contents).toBe(FILES);
    const things = await store.allDocs('io.cozy.bounds.things', {});
    expect(things.total_rows).toBe(DOCS);
    const f = await hearth.vfs.fs.stat(inst, `f${FILES - 1}`);
    expect(f.size).toBe(String(Buffer.byteLength(`content of file ${FILES - 1}`)));
  }, 120_000);

  it('reads a small entry into a buffer of its own size', async () => {
    const archive = join(work, 'small.zip');
    const content = Buffer.alloc(5000, 'y');
    await writeZip(archive, [doc('io.cozy.bounds.things', { _id: 'a', n: 1 }), ...file('s', '', ROOT, 's.txt', content)]);
    const held: Array<{ size: number; bytes: number }> = [];
    await eachEntry(archive, { maxEntries: 10, maxEntryBytes: 1e6 }, async (entry) => {
      const data = await entry.whole!();
      held.push({ size: data.length, bytes: data.buffer.byteLength });
    });
    expect(held.map((h) => h.size)).toEqual([expect.any(Number), expect.any(Number), content.length]);
    // its own buffer, or for under 4 KiB a slice of Buffer's shared 8 KiB pool (as Buffer.allocUnsafe gives)
    for (const h of held) expect(h.bytes <= Math.max(64, h.size + 1) || (h.size < Buffer.poolSize >>> 1 && h.bytes === Buffer.poolSize)).toBe(true);
  });
});
