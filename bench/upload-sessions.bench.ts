/**
 * `npm run bench`, upload-sessions: what a resumable upload (POST/PATCH /files/uploads, files/upload-sessions.ts) costs
 * beside the cozy upload of the same file (POST /files/:dir-id), on the local disk, in the same run: a 128 MiB file sent
 * whole, and through a session in 4, 8 (Drive's) and 16 MiB chunks, rounds alternated. The session writes
 * the bytes twice on the server (the chunks, then the file assembled from them). Writes bench/RESULTS-upload-sessions.md.
 * BENCH_QUICK=1: 32 MiB, two rounds, no results file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { startTestHearth } from '../test/helpers/hearth.js';
import { BENCH_DIR, fmtMs, gitInfo, log, machine } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const MiB = 1024 * 1024;
const SIZE = (QUICK ? 32 : 128) * MiB;
const ROUNDS = QUICK ? 2 : 5;
const ROOT = 'io.cozy.files.root-dir';

const loadAvg = () => loadavg().map((l) => l.toFixed(1)).join(', ');
const loadStart = loadAvg();
const h = await startTestHearth();
const token = await h.cliToken('io.cozy.files');
const body = randomBytes(SIZE);
const md5 = createHash('md5').update(body).digest('base64');
let n = 0;

async function whole(): Promise<void> {
  const res = await h.req('POST', `/files/${ROOT}?Type=file&Name=whole-${n++}.bin`, { token, raw: body, headers: { 'content-md5': md5, 'content-type': 'application/octet-stream' } });
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${res.text}`);
}

async function chunked(chunk: number): Promise<void> {
  const open = await h.req('POST', `/files/uploads?Name=chunked-${n++}.bin&Size=${SIZE}`, { token, headers: { 'content-md5': md5 } });
  if (open.status !== 201) throw new Error(`open: ${open.status} ${open.text}`);
  const id = open.body.data.id as string;
  for (let at = 0; at < SIZE; at += chunk) {
    const res = await h.req('PATCH', `/files/uploads/${id}`, { token, raw: body.subarray(at, Math.min(SIZE, at + chunk)), headers: { 'upload-offset': String(at) } });
    if (res.status !== (at + chunk >= SIZE ? 201 : 204)) throw new Error(`chunk at ${at}: ${res.status} ${res.text}`);
  }
}

const kinds: Array<[string, () => Promise<void>]> = [['whole (POST /files/:dir-id)', whole], ['session, 4 MiB chunks', () => chunked(4 * MiB)], ['session, 8 MiB chunks (Drive\'s)', () => chunked(8 * MiB)], ['session, 16 MiB chunks', () => chunked(16 * MiB)]];
const times = new Map<string, number[]>(kinds.map(([k]) => [k, []]));
try {
  await whole(); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [kind, run] of kinds) {
      const t0 = performance.now();
      await run();
      times.get(kind)!.push(performance.now() - t0);
    }
    // the trash emptied between rounds: the disk holds one round at a time
    for (const f of ((await h.req('GET', `/files/${ROOT}?page[limit]=100`, { token })).body.included ?? []) as Array<{ id: string; attributes: { type: string } }>) {
      if (f.attributes.type === 'file') await h.req('DELETE', `/files/${f.id}`, { token });
    }
    await h.req('DELETE', '/files/trash', { token });
  }
} finally {
  await h.close();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const base = median(times.get(kinds[0]![0])!);
const rows = kinds.map(([kind]) => {
  const m = median(times.get(kind)!);
  log(`upload-sessions ${kind}: p50 ${fmtMs(m)} ms`);
  return `| ${kind} | ${fmtMs(m)} ms | ${((SIZE / MiB) / (m / 1000)).toFixed(0)} MiB/s | ${(m / base).toFixed(2)}× |`;
});
const loadEnd = loadAvg();
if (!QUICK) {
  writeFileSync(join(BENCH_DIR, 'RESULTS-upload-sessions.md'), `# Resumable uploads beside the cozy upload

Written by \`node --import tsx bench/upload-sessions.bench.ts\` (\`BENCH_SUITES=upload-sessions npm run bench\`) on ${new Date().toISOString()}.
${machine()}; ${gitInfo()}. Load average (1, 5, 15 min) ${loadStart} at the start, ${loadEnd} at the end (the 2 cores are shared).

A ${SIZE / MiB} MiB file of random bytes with its Content-MD5, to a Hearth in this process (SQLite, local disk), over
loopback: sent whole to POST /files/:dir-id, and through an upload session (POST /files/uploads, then PATCH chunks one
after the other; the last one assembles the file). ${ROUNDS} rounds, the kinds alternated; median of the rounds.

| upload | p50 | throughput | / whole |
|---|---:|---:|---:|
${rows.join('\n')}
`);
}
process.exit(0);
