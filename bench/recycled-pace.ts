/**
 * Why the large upload's server CPU exceeds the raw disk's in recycled memory (bench/RESULTS-files.md, "recycled"): the
 * raw disk reference writes 1 GiB in about a second, while an upload at Hearth's pace takes several; this VM hands
 * freed pages back to its host within seconds (free page reporting), and a page the host must provide again costs
 * several times the CPU. This script writes the same 1 GiB + fsync as the reference (files.bench.ts's diskWrite: 1 MiB
 * writes, then fsync), each time right after the same recycling (a 1.1 GiB scratch file written, synced, deleted), at
 * full speed and paced to last a few seconds, and in fresh memory, the ways alternating; it prints the CPU per GiB
 * of each (this process's, all threads: the writes run in libuv's pool).
 *   node --import tsx bench/recycled-pace.ts [rounds=3] [paces in seconds=0,4,8,16]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePattern } from './pattern.js';

const GIB = 2 ** 30;
const CHUNK = 2 ** 20;
const rounds = Number(process.argv[2] ?? 3);
const paces = (process.argv[3] ?? '0,4,8,16').split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'bench-pace-'));
const REPORTED = '/sys/module/page_reporting/parameters/reported_kib';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function writeFile(file: string, size: number, seconds = 0, sync = true): Promise<void> {
  const fh = await open(file, 'w');
  try {
    await writePattern(fh, size, seconds);
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
}

async function recycled(): Promise<void> {
  const scratch = join(dir, 'scratch.bin');
  await writeFile(scratch, GIB + 128 * CHUNK, 0, false);
  execFileSync('sync');
  unlinkSync(scratch);
}

async function fresh(): Promise<void> {
  const read = () => readFileSync(REPORTED, 'utf8').trim();
  let [last, still] = [read(), 0];
  for (let waited = 0; waited < 45_000 && still < 3_000; waited += 500) {
    await sleep(500);
    const now = read();
    still = now === last ? still + 500 : 0;
    last = now;
  }
}

const results = new Map<string, number[]>();
console.log(`load average ${loadavg()[0]!.toFixed(1)}`);
for (let r = 0; r < rounds; r++) {
  for (const way of [...paces.map((p) => `recycled, ${p ? `paced to ${p} s` : 'full speed'}`), 'fresh, full speed']) {
    execFileSync('sync');
    if (way.startsWith('fresh')) await fresh();
    else await recycled();
    const pace = Number(/paced to (\d+)/.exec(way)?.[1] ?? 0);
    const file = join(dir, 'big.bin');
    const [c0, t0] = [process.cpuUsage(), performance.now()];
    await writeFile(file, GIB, pace);
    const c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;
    console.log(`${way}: ${((performance.now() - t0) / 1000).toFixed(1)} s, CPU ${cpu.toFixed(2)} s/GiB (system ${(c.system / 1e6).toFixed(2)})`);
    results.set(way, [...(results.get(way) ?? []), cpu]);
    unlinkSync(file);
  }
}
console.log(`load average ${loadavg()[0]!.toFixed(1)}`);
for (const [way, cpus] of results) {
  const sorted = [...cpus].sort((a, b) => a - b);
  console.log(`| ${way} | ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} (${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)}) |`);
}
rmSync(dir, { recursive: true, force: true });
