/**
 * `npm run bench`, suite apps-install (issue 14, "Install"): a 5 MB web app with one service installed through the
 * whole installer (src/apps/install, as `POST /apps/:slug` runs it) on 1,000 instances of one Hearth (createHearth,
 * SQLite engines), from a local folder registry (`apps.registries: file://…`, filled by `hearth apps publish`).
 * Each install writes the app's doc (`installing`, then `ready`: two writes and two realtime events), its permission
 * document, the trigger of its service (jobs.sqlite) and the code store's reference; the code itself is stored once.
 *   - first install: time and bytes written to disk (/proc/self/io write_bytes, every thread of the process);
 *   - then 1,000 more instances one after the other, in blocks of 100 alternating with the reference: the code store's
 *     part alone (`registry://` resolved by the same registries, one reference per instance), so that both sides see
 *     the same load; time (mean, p50, p99) and bytes written per instance, and the ratio;
 *   - then 100 of them uninstalled and installed again: the install on an instance whose databases already hold what
 *     a first install creates there.
 * Every instance is checked at the end: doc `ready`, permission document, one trigger.
 * Writes bench/RESULTS-apps-install.md. BENCH_QUICK=1: 100 instances, no results file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { fetchPackage } from '../src/apps/code/sources.js';
import { publish } from '../src/apps/registry/publish.js';
import { registriesFromConfig } from '../src/apps/registry/index.js';
import { findApp } from '../src/apps/repo.js';
import { DEFAULTS } from '../src/config/schema.js';
import type { Instance } from '../src/instances/types.js';
import { createHearth } from '../src/server/compose.js';
import { makeTarball } from '../test/helpers/app-tarball.js';
import { testConfig } from '../test/helpers/hearth.js';
import { bigAppEntries } from './big-app.js';
import { BENCH_DIR, fmtMs, gitInfo, log, machine, percentile, tempDir } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const INSTANCES = QUICK ? 100 : 1000;
const BLOCK = QUICK ? 20 : 100;
const SOURCE = 'registry://bigapp/stable';
const SERVICE = { sync: { type: 'node', file: 'services/sync.js', trigger: '@event io.cozy.files:CREATED' } };

const written = (): number => Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
const mb = (n: number) => (n / 1e6).toFixed(2);
const kb = (n: number) => (n / 1e3).toFixed(1);
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

interface Side { times: number[]; bytes: number; ms: number }
const side = (): Side => ({ times: [], bytes: 0, ms: 0 });

/** Runs `op` for each i in [from, to) one after the other, adding its times and bytes to `s`. */
async function block(s: Side, from: number, to: number, op: (i: number) => Promise<void>): Promise<void> {
  const w = written();
  const t = performance.now();
  for (let i = from; i < to; i++) {
    const t0 = performance.now();
    await op(i);
    s.times.push(performance.now() - t0);
  }
  s.ms += performance.now() - t;
  s.bytes += written() - w;
}

function row(label: string, s: Side): string {
  const sorted = Float64Array.from(s.times).sort();
  const n = s.times.length;
  return `| ${label} | ${fmtMs(s.ms / n)} ms | ${fmtMs(percentile(sorted, 0.5))} / ${fmtMs(percentile(sorted, 0.99))} ms | ${kb(s.bytes / n)} KB |`;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const dir = tempDir('hearth-bench-appinstall-');
  const entries = bigAppEntries({ services: SERVICE });
  entries.push({ name: 'services/sync.js', body: 'console.log("sync")\n' });
  const tarball = join(dir, 'bigapp.tar.gz');
  await makeTarball(tarball, entries);
  const limits = { maxEntries: DEFAULTS.apps.maxEntries, maxUnpackedBytes: DEFAULTS.apps.maxUnpackedBytes };
  const folder = join(dir, 'registry');
  await publish(tarball, { dir: folder, limits });
  const unpacked = entries.reduce((n, e) => n + Buffer.byteLength(e.body ?? ''), 0);
  log(`app: ${entries.length} files, ${mb(unpacked)} MB unpacked, tarball ${mb(readFileSync(tarball).length)} MB`);

  const config = testConfig(join(dir, 'data'), { apps: { ...DEFAULTS.apps, registries: `file://${folder}`, builtinRegistry: null } });
  const logger = pino({ level: 'silent' });
  const hearth = await createHearth(config, logger);
  const tc = performance.now();
  const instances: Instance[] = [];
  for (let i = 0; i <= INSTANCES; i++) instances.push(await hearth.registry.create({ domain: `i${i}.bench.test` }));
  const createMs = (performance.now() - tc) / instances.length;
  log(`${instances.length} instances created, ${fmtMs(createMs)} ms each (load ${load()})`);

  const install = async (instance: Instance) => {
    const op = await hearth.installer.install(instance, 'webapp', 'bigapp', { source: SOURCE });
    const out = await op.done;
    if (out.error) throw out.error;
  };
  // the reference: the code store's part only, through the same registries (a reference per instance)
  const registries = registriesFromConfig(config, logger, { builtinDir: null });
  const codeOnly = async (i: number) => {
    await fetchPackage(hearth.appCode, SOURCE, 'webapp', {
      instanceId: `ref-${i}`, expectedSlug: 'bigapp', dev: false, limits,
      resolveRegistry: (slug, v) => registries.resolveVersion(slug, v),
      openRegistryTarball: (v) => registries.openTarball(v as Parameters<typeof registries.openTarball>[0]),
    });
  };

  const first = side();
  const cpu0 = process.cpuUsage();
  await block(first, 0, 1, (i) => install(instances[i]!));
  const cpu = process.cpuUsage(cpu0);
  log(`first install ${fmtMs(first.ms)} ms (${fmtMs((cpu.user + cpu.system) / 1000)} ms of CPU), ${mb(first.bytes)} MB written`);

  const whole = side();
  const ref = side();
  for (let from = 1; from <= INSTANCES; from += BLOCK) {
    const to = Math.min(INSTANCES + 1, from + BLOCK);
    await block(whole, from, to, (i) => install(instances[i]!));
    await block(ref, from, to, codeOnly);
  }
  log(`${INSTANCES} more: whole installer ${fmtMs(whole.ms / INSTANCES)} ms and ${kb(whole.bytes / INSTANCES)} KB each; code store only ${fmtMs(ref.ms / INSTANCES)} ms and ${kb(ref.bytes / INSTANCES)} KB each`);

  // the same install again on instances that had it (uninstalled first, not counted): what is left once an instance's
  // databases already hold the doctypes, the indexes and the pages an install writes
  const again = side();
  for (let i = 1; i <= BLOCK; i++) await hearth.installer.uninstall(instances[i]!, 'webapp', 'bigapp');
  await block(again, 1, BLOCK + 1, (i) => install(instances[i]!));
  log(`${BLOCK} reinstalls: ${fmtMs(again.ms / BLOCK)} ms and ${kb(again.bytes / BLOCK)} KB each`);

  let ok = 0;
  for (const instance of instances) {
    const doc = await findApp(hearth.storeOf(instance), 'webapp', 'bigapp');
    const perms = await hearth.perms.appPermissions(instance, 'app', 'bigapp');
    const triggers = await hearth.jobs.scheduler.list(instance.domain, {});
    if (doc?.state === 'ready' && perms && triggers.length === 1 && doc.services?.sync?.trigger_id === triggers[0]!._id) ok++;
  }
  const refs = (await hearth.appCode.refs({})).length;
  const loadEnd = load();
  await hearth.close();
  if (ok !== instances.length) throw new Error(`only ${ok} of ${instances.length} instances have the app, its permissions and its trigger`);

  const md = [
    '# Apps install benchmark (`npm run bench`, suite apps-install, bench/apps-install.bench.ts)',
    '',
    `Run ${new Date().toISOString()} on ${machine()}, load average ${loadEnd} at the end; ${gitInfo()}; ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
    '',
    `A ${mb(unpacked)} MB web app with one service (${entries.length} files) installed through the whole installer on ${instances.length} instances`,
    `of one Hearth (SQLite engines) from a local folder registry; ${instances.length} instances checked after: doc \`ready\`, permission`,
    `document, one trigger. Instances were created first (${fmtMs(createMs)} ms each, not counted). ${refs} code references in the end.`,
    'The reference (code store only: resolve the version, reference the stored code) ran in the same process, in blocks of',
    `${BLOCK} instances alternating with the installer's, so that both saw the same load.`,
    '',
    '| measure | time per instance (mean) | p50 / p99 | written to disk per instance |',
    '|---|---|---|---|',
    `| first install (store the code: unpack, brotli + gzip copies, fsync; documents, permissions, trigger) | ${fmtMs(first.ms)} ms | – | ${mb(first.bytes)} MB |`,
    row(`whole installer, each next instance, one at a time (${INSTANCES})`, whole),
    row(`reference: code store only, each next instance (${INSTANCES})`, ref),
    row(`whole installer again on an instance that had the app, uninstalled first (${BLOCK})`, again),
    `| ratio whole installer / code store only | ${(whole.ms / ref.ms).toFixed(2)}× | – | ${(whole.bytes / ref.bytes).toFixed(2)}× |`,
    '',
    'Target (issue 14): under 1 ms of disk writes per instance beyond the first. What the installer adds to the code',
    'store\'s reference row is written to the instance\'s own databases: the app doc twice (`installing`, then `ready`),',
    'the permission document, the service\'s trigger in jobs.sqlite and its copy for `/data/io.cozy.triggers`.',
    '',
  ].join('\n');
  if (!QUICK) {
    writeFileSync(join(BENCH_DIR, 'RESULTS-apps-install.md'), md);
    process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-apps-install.md')}\n`);
  } else process.stdout.write(md);
}

await main();
