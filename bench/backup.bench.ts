/**
 * `npm run bench` (suite `backup`): `hearth backup` and `hearth restore` (src/backup) of a data directory of a running
 * server with ~500 MB of blobs (2,000 files of 100 kB and 6 of 50 MB) and 3,000 documents: a full snapshot copied
 * (--copy), a full one hard-linked from dataDir (the default on the same file system), an incremental run with nothing
 * changed, one after 10 new files, and a restore; MB/s over the data directory's bytes. Reference in the same run:
 * `cp -a` of the same data directory (the disk's own copy speed). The backup folders are on the data's disk.
 * Writes bench/RESULTS-backup.md. BENCH_QUICK=1: a tenth of the data, no results file.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULTS } from '../src/config/schema.js';
import type { HearthConfig } from '../src/config/types.js';
import { createHearth } from '../src/server/compose.js';
import { restoreBackup } from '../src/backup/restore.js';
import { takeBackup, type BackupSummary } from '../src/backup/snapshot.js';
import { BENCH_DIR, gitInfo, log, machine, tempDir } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const SCALE = QUICK ? 0.1 : 1;
const dir = tempDir('hearth-bench-backup-');
const dataDir = join(dir, 'data');
const d = structuredClone(DEFAULTS);
const config: HearthConfig = { ...d, dataDir, server: { ...d.server, port: 0 }, admin: { ...d.admin, port: 0 }, log: { ...d.log, level: 'silent' }, apps: { ...d.apps, builtinRegistry: null } };
const hearth = await createHearth(config, pino({ level: 'silent' }));
await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
const port = (hearth.publicApp.server.address() as AddressInfo).port;
const domain = `localhost:${port}`;
const instance = await hearth.registry.create({ domain });
const token = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'bench', scope: 'io.cozy.files' });

const upload = (name: string, body: Buffer) => new Promise<void>((resolve, reject) => {
  const r = request({ host: '127.0.0.1', port, method: 'POST', path: `/files/io.cozy.files.root-dir?Type=file&Name=${name}`, headers: {
    host: domain, authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(body.length),
  } }, (res) => {
    res.resume();
    res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`upload ${name}: ${res.statusCode}`))));
  });
  r.on('error', reject);
  r.end(body);
});

log('filling the data directory');
const store = hearth.storeOf(instance);
const docs = Math.round(3000 * SCALE);
for (let i = 0; i < docs; i += 500) {
  await store.bulkDocs('io.cozy.bench', Array.from({ length: Math.min(500, docs - i) }, (_, k) => ({ n: i + k, text: randomBytes(200).toString('hex') })), true);
}
const small = Math.round(2000 * SCALE);
for (let i = 0; i < small; i += 8) await Promise.all(Array.from({ length: Math.min(8, small - i) }, (_, k) => upload(`s${i + k}`, randomBytes(100_000))));
for (let i = 0; i < 6; i++) await upload(`big${i}`, randomBytes(Math.round(50e6 * SCALE)));
const du = (p: string) => Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]);
const dataBytes = du(dataDir);
log(`data directory: ${(dataBytes / 1e6).toFixed(0)} MB`);

const rows: string[] = [];
const loadBefore = loadavg()[0]?.toFixed(1);
const mbps = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(0);
const row = (name: string, s: BackupSummary) => {
  rows.push(`| ${name} | ${(s.elapsed_ms / 1000).toFixed(2)} | ${mbps(s.bytes, s.elapsed_ms)} | ${s.copied_files} (${(s.copied_bytes / 1e6).toFixed(1)} MB) | ${s.linked_files} | ${s.data_linked_files} |`);
  log(rows.at(-1) as string);
};
const drop = () => execFileSync('sync');

const cpStart = performance.now();
execFileSync('cp', ['-a', dataDir, join(dir, 'cp-copy')]);
drop();
const cpMs = performance.now() - cpStart;
const engines = { docs: 'sqlite', coordination: 'memory', blobs: 'local' };
const backup = (target: string, copy: boolean) => takeBackup({ dataDir, target: join(dir, target), hearthVersion: 'bench', engines, copy });
row('full, copied (--copy)', await backup('copied', true));
row('incremental, nothing changed', await backup('copied', true));
for (let i = 0; i < 10; i++) await upload(`new${i}`, randomBytes(100_000));
row('incremental, 10 new files of 100 kB', await backup('copied', true));
row('full, hard links from dataDir (default)', await backup('linked', false));
const restoreStart = performance.now();
const r = await restoreBackup({ source: join(dir, 'copied'), dataDir: join(dir, 'restored') });
const restoreMs = performance.now() - restoreStart;
await hearth.close();

const report = `# Backups (bench/backup.bench.ts)

${gitInfo()}; ${machine()}.

A data directory of ${(dataBytes / 1e6).toFixed(0)} MB (${docs} documents, ${small} files of 100 kB, 6 of ${Math.round(50 * SCALE)} MB)
of a running server (idle), backed up into folders of the same disk. MB/s: the bytes of the snapshot over the run's time.
Load average (1 min) ${loadBefore} before the runs, ${loadavg()[0]?.toFixed(1)} after: on a loaded machine, the hashing (SHA-256 on the event loop) and the disk are shared.

| run | seconds | MB/s | copied | linked to the previous snapshot | linked from dataDir |
|---|---|---|---|---|---|
${rows.join('\n')}

Restore (every file copied and checked against the manifest): ${(restoreMs / 1000).toFixed(2)} s, ${mbps(r.bytes, restoreMs)} MB/s.
Reference, \`cp -a\` of the data directory then \`sync\`: ${(cpMs / 1000).toFixed(2)} s, ${mbps(dataBytes, cpMs)} MB/s.
`;
process.stdout.write(report);
if (!QUICK) writeFileSync(join(BENCH_DIR, 'RESULTS-backup.md'), report);
process.exit(0);
