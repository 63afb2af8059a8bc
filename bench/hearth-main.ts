/** `hearth` as bin/hearth.js runs it, compiled with the other benchmark servers: start-up is timed on it (farm.bench.ts). */
import { main } from '../src/main.js';

process.exitCode = await main(process.argv.slice(2));
