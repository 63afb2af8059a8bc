/** `hearth` as bin/hearth.js runs it, compiled with the other benchmark servers: start-up is timed on it (farm.bench.ts). */
import { setFlagsFromString } from 'node:v8';

// as bin/hearth.js, before anything is loaded (src/server/young-gen.ts)
setFlagsFromString('--semi-space-growth-factor=1');
if (process.argv[2] === 'serve') setFlagsFromString('--no-turbofan');
const { main } = await import('../src/main.js');
process.exitCode = await main(process.argv.slice(2));
