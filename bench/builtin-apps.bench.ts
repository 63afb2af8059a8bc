/**
 * The built-in apps at start (issue 15, src/apps/builtin): how long a start's background pass takes to install the five
 * built-in apps on instances that lack them (an upgrade to the first Hearth with built-in apps), for 1 and 100
 * instances, 2 instances at a time as `hearth serve` does; how long the pass takes when nothing changed (the next
 * starts); how long a new instance waits for its apps; and the `/status` latency seen while the pass runs (the server
 * keeps answering). The apps are a fresh build of webapps/ (scripts/build-webapps.mjs).
 * `node --import tsx bench/builtin-apps.bench.ts` writes bench/RESULTS-builtin-apps.md (BENCH_QUICK=1: 1 and 10 instances, no file).
 */
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULTS } from '../src/config/schema.js';
import { createHearth } from '../src/server/compose.js';
import { rawRequest, testConfig } from '../test/helpers/hearth.js';
import { builtWebapps } from '../test/helpers/webapps.js';
import { BENCH_DIR, log, tempDir } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const SIZES = QUICK ? [1, 10] : [1, 100];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

const { registryDir } = await builtWebapps();
const rows: string[] = [];
for (const n of SIZES) {
  const dataDir = tempDir('hearth-bench-builtin-');
  const config = (builtinRegistry: string | null) => testConfig(dataDir, { apps: { ...DEFAULTS.apps, registries: '', builtinRegistry } });
  // instances from before the built-in apps
  let hearth = await createHearth(config(null), pino({ level: 'silent' }));
  for (let i = 0; i < n; i++) await hearth.registry.create({ domain: `i${i}.bench.test` });
  await hearth.close();

  hearth = await createHearth(config(registryDir), pino({ level: 'silent' }));
  await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
  const port = (hearth.publicApp.server.address() as AddressInfo).port;
  const started = performance.now();
  const pass = hearth.builtinApps.upgradeAll();
  let done = false;
  void pass.then(() => (done = true));
  const latencies: number[] = [];
  while (!done) {
    const t = performance.now();
    await rawRequest(port, 'GET', '/status', { host: 'bench.test' });
    latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 50));
  }
  const first = await pass;
  const firstMs = performance.now() - started;
  const again = await hearth.builtinApps.upgradeAll();
  const t0 = performance.now();
  await hearth.builtinApps.ensure(await hearth.registry.create({ domain: 'fresh.bench.test' }));
  const freshMs = performance.now() - t0;
  await hearth.close();
  const row = `| ${n} | ${first.changed} | ${(firstMs / 1000).toFixed(2)} s | ${(firstMs / n).toFixed(0)} ms | ${again.ms.toFixed(1)} ms | ${freshMs.toFixed(0)} ms | ${pct(latencies, 50).toFixed(1)} / ${Math.max(...latencies).toFixed(1)} ms |`;
  log(row);
  rows.push(row);
}

const report = `# Built-in apps at start

\`node --import tsx bench/builtin-apps.bench.ts\` (src/apps/builtin): a start installs the five built-in apps (a fresh build of
webapps/) on every instance that lacks them, in the background, 2 instances at a time; the next starts find nothing to do.
Run on ${new Date().toISOString().slice(0, 10)}, load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (2 cores shared).

| instances | instances changed | first pass (5 installs each) | per instance | next pass (nothing changed) | a new instance's 5 apps | \`/status\` during the pass, p50 / max |
|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
if (QUICK) process.stdout.write(report);
else writeFileSync(join(BENCH_DIR, 'RESULTS-builtin-apps.md'), report);
