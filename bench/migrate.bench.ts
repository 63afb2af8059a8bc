/**
 * `npm run bench`, the move of an instance between engines (src/instances/migrate.ts): an instance of 10,000 documents
 * (each with a second revision, 100 of them with a conflict) and 100 MB of files (20 of 4 MB, 200 of 100 kB), moved
 * between two real engines of each kind (two SQLite document factories, two local blob stores, in two folders of the
 * same disk): the copy speed (documents/s, MB/s over the whole run) and how long the instance stays blocked, first
 * idle, then back under a steady writer (the writes of the online pass are caught up while blocked).
 * Reference: `cp -r` of the same blob folders (the disk's own copy speed), in the same run.
 * Writes bench/RESULTS-migrate.md. BENCH_QUICK=1: 1,000 documents and 10 MB, no results file.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { InProcessBus } from '../src/common/bus.js';
import { InProcessInvalidation } from '../src/common/invalidation.js';
import { SqliteDocStoreFactory } from '../src/data/sqlite/factory.js';
import type { DocStoreFactory } from '../src/data/store.js';
import { LocalBlobStore } from '../src/files/blobs/local.js';
import { SqliteInstanceEngines } from '../src/instances/engines-sqlite.js';
import { Migrations, type MigrationSummary } from '../src/instances/migrate.js';
import { EngineRouter, type BlobEngine } from '../src/instances/routing.js';
import type { Instance } from '../src/instances/types.js';
import { BENCH_DIR, gitInfo, log, machine, tempDir } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const DOCS = QUICK ? 1000 : 10_000;
const SCALE = QUICK ? 0.1 : 1;
const t0 = Date.now();
const dir = tempDir('hearth-bench-migrate-');
const docs = new Map<string, DocStoreFactory>();
const blobs = new Map<string, BlobEngine>();
const engines = new SqliteInstanceEngines(join(dir, 'registry.sqlite'));
const router = new EngineRouter(engines, { docs, blobs }, new InProcessInvalidation());
const migrations = new Migrations(router);
const bus = new InProcessBus();
for (const side of ['a', 'b']) {
  docs.set(`sqlite-${side}`, new SqliteDocStoreFactory(join(dir, side), router.busFor(`sqlite-${side}`, bus), { attachmentMaxBytes: 8 << 20, groupCommitMs: 2 }));
  blobs.set(`local-${side}`, { files: new LocalBlobStore(join(dir, side, 'blobs')), thumbs: new LocalBlobStore(join(dir, side, 'blobs'), 'thumbs') });
}
const instance = { id: 'be0c0000000000000000000000000042', domain: 'bench.migrate.example' } as Instance;
const A = { docs: 'sqlite-a', blobs: 'local-a' };
const B = { docs: 'sqlite-b', blobs: 'local-b' };

async function fill(): Promise<number> {
  await engines.set(instance.id, A);
  const store = docs.get(A.docs)!.open(instance.domain, instance.id);
  for (let i = 0; i < DOCS; i += 500) {
    const batch = Array.from({ length: Math.min(500, DOCS - i) }, (_, j) => ({ _id: `doc-${i + j}`, n: i + j, name: `Person ${i + j}`, tags: ['a', 'b'], text: 'x'.repeat(200) }));
    const written = await store.bulkDocs('io.cozy.contacts', batch, true);
    await store.bulkDocs('io.cozy.contacts', written.map((w, j) => ({ ...batch[j]!, _rev: w.rev!, n: -1 })), true);
  }
  const conflicts = Array.from({ length: 100 }, (_, i) => ({ _id: `doc-${i}`, _rev: `2-${randomBytes(16).toString('hex')}`, conflict: true, _revisions: { start: 2, ids: [randomBytes(16).toString('hex'), 'f'.repeat(32)] } }));
  await store.bulkDocs('io.cozy.contacts', conflicts, false);
  let bytes = 0;
  const files = blobs.get(A.blobs)!.files;
  for (const [count, size] of [[Math.round(20 * SCALE), 4 << 20], [Math.round(200 * SCALE), 100_000]] as const) {
    for (let i = 0; i < count; i++) {
      await files.write(instance.id, Readable.from([randomBytes(size)]), { maxBytes: 1e10 });
      bytes += size;
    }
  }
  return bytes;
}

/** Moves the instance; with `writer`, a steady writer (as fast as one client in a loop) runs until the instance is blocked. */
async function move(to: typeof A, writer: boolean): Promise<MigrationSummary & { online_writes: number }> {
  let writing = writer;
  let n = 0;
  let last = '';
  const loop = (async () => {
    while (writing) {
      await router.storeOf(instance).put('io.cozy.notes', { _id: `w-${to.docs}-${n}`, n });
      n++;
    }
  })();
  const summary = await migrations.migrate(instance, { ...to, dropSource: true }, (p) => {
    if (p.step === 'blocked') writing = false;
    if (process.env.BENCH_STEPS && p.step !== last) log(`[migrate] ${p.step} at ${p.elapsed_ms} ms (${p.docs} docs, ${p.blobs} blobs)`);
    last = p.step;
  });
  writing = false;
  await loop;
  return { ...summary, online_writes: n };
}

function cpReference(): { ms: number } {
  const start = performance.now();
  execFileSync('cp', ['-r', join(dir, 'a', 'blobs'), join(dir, 'cp-ref')]);
  execFileSync('sync');
  return { ms: performance.now() - start };
}

log(`[migrate] filling an instance of ${DOCS} documents and ${100 * SCALE} MB of files`);
const bytes = await fill();
const ref = cpReference();
rmSync(join(dir, 'cp-ref'), { recursive: true, force: true });
log('[migrate] A → B, idle');
const idle = await move(B, false);
log('[migrate] B → A, with a writer during the online pass');
const busy = await move(A, true);
for (const f of docs.values()) await f.close();
for (const b of blobs.values()) await Promise.all([b.files.close(), b.thumbs.close()]);
router.close();
await engines.close();
rmSync(dir, { recursive: true, force: true });

const row = (name: string, s: MigrationSummary & { online_writes: number }) =>
  `| ${name} | ${s.docs} | ${(s.docs_ms / 1000).toFixed(1)} | ${s.docs_per_s} | ${(s.bytes / 1e6).toFixed(0)} | ${(s.blobs_ms / 1000).toFixed(1)} | ${s.mb_per_s} | ${(s.elapsed_ms / 1000).toFixed(1)} | ${s.blocked_ms} | ${s.catch_up_passes} | ${s.online_writes} |`;
const md = [
  '# Moving an instance between engines',
  '',
  `Generated by \`npm run bench\` (bench/migrate.bench.ts). Run ${new Date().toISOString()} on ${machine()}; ${gitInfo()}; ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
  '',
  `An instance of ${DOCS} documents (two revisions each, 100 conflicts) and ${(bytes / 1e6).toFixed(0)} MB of files, moved between two SQLite`,
  'document factories and two local blob stores on the same disk (the engine-neutral copy of src/instances/migrate.ts). docs/s and MB/s are over',
  'the time spent copying documents and blobs (all passes); "total" is the whole run (online pass, block, catch-up, verification, switch,',
  'removal of the source copy); "blocked" is the time the instance answered 503. Each blob is fsynced (file and folder) as an upload is.',
  '',
  '| run | documents copied | s | docs/s | MB copied | s | MB/s | total s | blocked ms | catch-up passes | writes during the online pass |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  row('A → B, idle instance', idle),
  row('B → A, one client writing until the block', busy),
  '',
  `Reference: \`cp -r\` + \`sync\` of the same blob folders: ${(ref.ms / 1000).toFixed(2)} s (${(bytes / 1e6 / (ref.ms / 1000)).toFixed(0)} MB/s).`,
  '',
].join('\n');
if (!QUICK) {
  writeFileSync(join(BENCH_DIR, 'RESULTS-migrate.md'), md);
  process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-migrate.md')}\n`);
} else process.stdout.write(md);
