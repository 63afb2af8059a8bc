/**
 * Hearth in its own process for the benchmark (modelled on test/helpers/server-main.ts):
 * `node --import tsx bench/hearth-server.ts <dataDir> [json]` (data.bench.ts runs it compiled; `json` turns off the serialization
 * of answers by their response schemas). Same config as the tests
 * (testConfig: loopback, group commit on the next tick, fsync on commit, logs silent),
 * one instance `localhost:<port>`, a CLI token for every `io.cozy.bench.*` doctype and one for
 * `io.cozy.files` (files.bench.ts), one for `io.cozy.contacts` (realtime.bench.ts). Prints one JSON line
 * {port, domain, token, filesToken, contactsToken}; SIGTERM closes it cleanly (so that
 * `--cpu-prof` can write its profile).
 */
import { setFlagsFromString } from 'node:v8';
import type { AddressInfo } from 'node:net';
import { fixMallocThresholds } from '../src/common/malloc-trim.js';

// as bin/hearth.js: the young generation keeps its initial size until the server listens (src/server/young-gen.ts)
setFlagsFromString('--semi-space-growth-factor=1');
const [{ pino }, { createHearth }, { testConfig }, { releaseYoungGeneration }] = await Promise.all([
  import('pino'), import('../src/server/compose.js'), import('../test/helpers/hearth.js'), import('../src/server/young-gen.js'),
]);

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: hearth-server.ts <dataDir> [json]');
const config = testConfig(dataDir);
// `json`: answers serialized with JSON.stringify instead of the routes' response schemas (data.bench.ts compares both)
if (process.argv[3] === 'json') config.server = { ...config.server, serializeResponses: false };
// data.bench.ts's hearth-pg: the documents (and the server's state) on this PostgreSQL (docs.engine postgres)
if (process.env.BENCH_DOCS_URL) config.docs = { engine: 'postgres', url: process.env.BENCH_DOCS_URL, poolSize: 10 };
// for experiments only (the reported run uses the default, 0 = flush on the next tick)
if (process.env.BENCH_GROUP_COMMIT_MS) config.data.groupCommitMs = Number(process.env.BENCH_GROUP_COMMIT_MS);
const hearth = await createHearth(config, pino({ level: 'silent' }));
await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
const port = (hearth.publicApp.server.address() as AddressInfo).port;
const domain = `localhost:${port}`;
const instance = (await hearth.registry.get(domain)) ?? (await hearth.registry.create({ domain }));
// cli tokens live 30 minutes: far longer than a bench run
const token = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'bench', scope: 'io.cozy.bench.*' });
const filesToken = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'bench', scope: 'io.cozy.files' });
const contactsToken = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'bench', scope: 'io.cozy.contacts' });
releaseYoungGeneration();
// bench/malloc-ab.bench.ts: glibc's malloc thresholds fixed 1 s after listening, as `hearth serve` does (common/malloc-trim.ts),
// at 128 KiB or at BENCH_MALLOC_THRESHOLD (mmap) and BENCH_MALLOC_TRIM bytes
if (process.env.BENCH_MALLOC_FIX === '1') {
  const mmap = Number(process.env.BENCH_MALLOC_THRESHOLD ?? 128 * 1024);
  setTimeout(() => process.stderr.write(`malloc thresholds fixed: ${fixMallocThresholds(process.env, mmap, Number(process.env.BENCH_MALLOC_TRIM ?? mmap))}\n`), 1000);
}
process.stdout.write(JSON.stringify({ port, domain, token, filesToken, contactsToken }) + '\n');
process.on('SIGTERM', () => void hearth.close().then(() => process.exit(0)));
