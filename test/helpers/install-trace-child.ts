/** One install traced (install-trace.ts) in a process of its own, to run under strace: `<dataDir> <markDir>`; prints its spans (JSON). */
import { traceOneInstall } from './install-trace.js';

const [dataDir, markDir] = process.argv.slice(2);
if (!dataDir || !markDir) throw new Error('usage: install-trace-child <dataDir> <markDir>');
process.stdout.write(`${JSON.stringify((await traceOneInstall({ dataDir, markDir })).spans)}\n`);
