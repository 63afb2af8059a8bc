/**
 * A process's memory by kind, for bench/farm.bench.ts (BENCH_IDLE_USED): what the kernel counts (/proc/<pid>/smaps:
 * RSS, its file-backed part, malloc's main heap and its thread arenas) and the process's own account (bench/hearth-main.ts
 * writes it on SIGUSR2: V8's spaces, V8's code, glibc's mallinfo2).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';

const ARENA = 64 * 1024 * 1024; // glibc's thread arenas are 64 MB-aligned mappings (HEAP_MAX_SIZE on 64-bit)

interface Mapping { start: number; size: number; perm: string; name: string; rss: number; anon: number }

function mappings(pid: number): Mapping[] {
  const out: Mapping[] = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (m) out.push({ start: parseInt(m[1]!, 16), size: parseInt(m[2]!, 16) - parseInt(m[1]!, 16), perm: m[3]!, name: m[4]!, rss: 0, anon: 0 });
    const r = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (r && out.length) out[out.length - 1]![r[1] === 'Rss' ? 'rss' : 'anon'] += Number(r[2]) * 1024;
  }
  return out;
}

const mb = (n: number) => (n / 1048576).toFixed(1);
const sum = (ms: Mapping[], key: 'rss' | 'anon' = 'rss') => ms.reduce((s, m) => s + m[key], 0);

/** What the kernel counts, by kind, in MB. */
export function kernelView(pid: number): { rss: number; anon: number; file: number; heap: number; arenas: number; other: number } {
  const ms = mappings(pid);
  const heap = sum(ms.filter((m) => m.name === '[heap]'));
  const arenas = sum(ms.filter((m) => !m.name && m.perm === 'rw-p' && m.start % ARENA === 0 && m.size <= ARENA && m.size !== 256 * 1024 && m.start > 2 ** 46));
  const rss = sum(ms);
  const anon = sum(ms, 'anon');
  return { rss, anon, file: rss - anon, heap, arenas, other: anon - heap - arenas };
}

interface Own {
  usage: Record<string, number>; spaces: Record<string, number>; used: Record<string, number>;
  code: Record<string, number>; malloc: Record<string, number> | null;
  stallMs?: number; stallCpuMs?: number; gcPauseMs?: number;
}

/** The memory of a process as one line; with `file` (bench/hearth-main.ts's BENCH_MEMORY_FILE), its own account too. */
export async function memoryOf(pid: number, file: string | null): Promise<string> {
  const k = kernelView(pid);
  const head = `RSS ${mb(k.rss)} MB (file-backed ${mb(k.file)}; anonymous ${mb(k.anon)}: malloc's main heap ${mb(k.heap)}, thread arenas ${mb(k.arenas)}, other ${mb(k.other)}`;
  const tail = `${readdirSync(`/proc/${pid}/fd`).length} descriptors, ${readdirSync(`/proc/${pid}/task`).length} threads`;
  if (!file) return `${head}), ${tail}`; // a build without bench/hearth-main.js's SIGUSR2
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let t = 0; t < 100 && !existsSync(file); t++) await new Promise((r) => setTimeout(r, 20));
  const own = JSON.parse(readFileSync(file, 'utf8')) as Own;
  const space = (name: string, short: string) => `${short} ${mb(own.spaces[name] ?? 0)}/${mb(own.used[name] ?? 0)}`;
  const malloc = own.malloc ? `; malloc in use ${mb(own.malloc.uordblks! + own.malloc.hblkhd!)} (mmapped ${mb(own.malloc.hblkhd!)}), free in arenas ${mb(own.malloc.fordblks!)}` : '';
  const trimmed = process.env.BENCH_IDLE_TRIM_PROBE === '1' ? `; after one more malloc_trim: RSS ${mb(await trimNow(pid, file))}` : '';
  const stall = own.stallMs === undefined ? '' : `; since the last reading: longest event-loop stall ${own.stallMs.toFixed(1)} ms, most time on a core in one ${own.stallCpuMs!.toFixed(1)} ms, longest GC pause ${own.gcPauseMs!.toFixed(1)} ms`;
  return `${head}${trimmed}${stall}; V8 heap ${mb(own.usage.heapTotal!)}, used ${mb(own.usage.heapUsed!)} [${space('new_space', 'new')}, ${space('old_space', 'old')}, ` +
    `${space('code_space', 'code')}, ${space('large_object_space', 'large')}; bytecode ${mb(own.code.bytecode_and_metadata_size ?? 0)}]; external ${mb(own.usage.external!)}${malloc}), ${tail}`;
}

/** BENCH_IDLE_TRIM_PROBE=1: the RSS after one malloc_trim(0) at this moment (bench/hearth-main.ts, SIGWINCH). */
async function trimNow(pid: number, file: string): Promise<number> {
  rmSync(file, { force: true });
  process.kill(pid, 'SIGWINCH');
  for (let t = 0; t < 100 && !existsSync(file); t++) await new Promise((r) => setTimeout(r, 20));
  return kernelView(pid).rss;
}
