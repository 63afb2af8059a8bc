/**
 * `hearth` as bin/hearth.js runs it, compiled with the other benchmark servers: start-up is timed on it (farm.bench.ts).
 * As bin/hearth.js, it sets V8's flags before anything is loaded (src/server/young-gen.ts), then imports the CLI bundled
 * in one file, which farm.bench.ts writes beside this build (<build>/dist/bundle/hearth.js, from src/main.js): bundled
 * with it, this file's flags came after the whole bundle was compiled, and the idle RSS measured ~13 MB above bin/hearth.js's.
 */
import { writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

setFlagsFromString('--semi-space-growth-factor=1');
if (process.argv[2] === 'serve') setFlagsFromString('--no-turbofan');
// farm.bench.ts (BENCH_IDLE_USED): on SIGUSR2, the process's memory by kind into this file
const memoryFile = process.env.BENCH_MEMORY_FILE;
if (memoryFile) {
  process.on('SIGUSR2', () => writeFileSync(memoryFile, JSON.stringify({
    usage: process.memoryUsage(), spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size])),
  })));
}
const bundle = new URL('../dist/bundle/hearth.js', import.meta.url).href;
const { main } = (await import(bundle)) as { main: (argv: string[]) => Promise<number> };
process.exitCode = await main(process.argv.slice(2));
