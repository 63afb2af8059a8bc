/**
 * `npm run bench`, suite apps-install (issue 14, "Install"): a 5 MB web app with one service installed through the
 * whole installer (src/apps/install, as `POST /apps/:slug` runs it) on 1,000 instances of one Hearth (createHearth,
 * SQLite engines), from a local folder registry (`apps.registries: file://…`, filled by `hearth apps publish`).
 * The instances are made as a server makes them: a new instance gets the built-in apps, so each one first gets a small
 * app with a service and permissions (`starter`, not counted): its database, the doctypes an install writes (apps,
 * permissions, triggers) and the trigger tables exist before the measured install, as in production.
 * Each install writes the app's doc, its permission document, the trigger of its service (jobs.sqlite, mirrored into
 * the instance's io.cozy.triggers) and the code store's reference; the code itself is stored once.
 *   - first install: time and bytes written to disk (/proc/self/io write_bytes, every thread of the process);
 *   - then 1,000 more instances one after the other, in blocks of 100 alternating with the reference: the code store's
 *     part alone (`registry://` resolved by the same registries, one reference per instance), so that both sides see
 *     the same load; time (mean, p50, p99) and bytes written per instance, and the ratio;
 *   - then 100 of them uninstalled and installed again;
 *   - then the breakdown: each write an install makes, alone, on 100 instances (wall time of the call: its commit and
 *     the wait for its fsync; bytes written), so that the installer's bytes and its time in disk writes add up.
 * Every instance is checked at the end: doc `ready`, permission document, one trigger of bigapp.
 * Writes bench/RESULTS-apps-install.md. BENCH_QUICK=1: 100 instances, no results file; BENCH_INSTANCES=N: N instances.
 */
import fs, { readFileSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { fetchPackage } from '../src/apps/code/sources.js';
import { appCodeOf } from '../src/apps/install/code.js';
import { Installer } from '../src/apps/install/installer.js';
import { publish } from '../src/apps/registry/publish.js';
import { registriesFromConfig } from '../src/apps/registry/index.js';
import { findApp } from '../src/apps/repo.js';
import { InProcessLocks } from '../src/common/locks.js';
import { DEFAULTS } from '../src/config/schema.js';
import type { Doc } from '../src/data/store.js';
import { triggerMirrorDoc } from '../src/jobs/mirror.js';
import { TRIGGERS_DOCTYPE, type TriggerDoc } from '../src/jobs/types.js';
import type { Instance } from '../src/instances/types.js';
import { createHearth } from '../src/server/compose.js';
import { makeTarball } from '../test/helpers/app-tarball.js';
import { testConfig } from '../test/helpers/hearth.js';
import { bigAppEntries } from './big-app.js';
import { BENCH_DIR, fmtMs, gitInfo, log, machine, percentile, tempDir } from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const INSTANCES = Number(process.env.BENCH_INSTANCES) || (QUICK ? 100 : 1000);
const BLOCK = Math.max(1, Math.min(QUICK ? 20 : 100, Math.floor(INSTANCES / 5)));
const SOURCE = 'registry://bigapp/stable';
const AT_ONCE = 10;
const SERVICE = { sync: { type: 'node', file: 'services/sync.js', trigger: '@event io.cozy.files:CREATED' } };

const written = (): number => Number(/write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1] ?? NaN);
/** fsync and fdatasync calls made through node:fs (what each durable commit waits for: data/sqlite/wal-sync.ts). */
let fsyncs = 0;
/** The same calls by file: an instance's database files as `<instance>/…`, the others by name. */
const fsyncsOf = new Map<string, number>();
function fileOf(fd: unknown): string {
  try {
    const path = fs.readlinkSync(`/proc/self/fd/${String(fd)}`);
    return /\/instances\/[^/]+\//.test(path) ? `<instance>/${path.split('/').pop()!}` : path.split('/').pop()!;
  } catch {
    return '?';
  }
}
/** Wall time from the call of each fsync to its end (the asynchronous ones: their callback), added up. */
let fsyncMs = 0;
for (const name of ['fsync', 'fdatasync', 'fsyncSync', 'fdatasyncSync'] as const) {
  const real = fs[name] as (...a: unknown[]) => void;
  (fs as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
    fsyncs++;
    const file = fileOf(a[0]);
    fsyncsOf.set(file, (fsyncsOf.get(file) ?? 0) + 1);
    const t = performance.now();
    const cb = a[a.length - 1];
    if (typeof cb !== 'function') {
      try {
        return real(...a);
      } finally {
        fsyncMs += performance.now() - t;
      }
    }
    return real(...a.slice(0, -1), (...r: unknown[]) => {
      fsyncMs += performance.now() - t;
      (cb as (...r: unknown[]) => void)(...r);
    });
  };
}
syncBuiltinESMExports();
const mb = (n: number) => (n / 1e6).toFixed(2);
const kb = (n: number) => (n / 1e3).toFixed(1);
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

interface Side { times: number[]; bytes: number; ms: number; writeMs: number; syncs: number; syncMs: number; count: number }
const side = (): Side => ({ times: [], bytes: 0, ms: 0, writeMs: 0, syncs: 0, syncMs: 0, count: 0 });

/**
 * Wall time during which at least one of the installer's writing calls was running (their commits and their wait for
 * the fsync; calls that overlap, as the permission document's read and the trigger's write do, are counted once).
 */
let inWrites = 0;
let running = 0;
let since = 0;
/** `o` with its methods `names` timed into `inWrites`. */
function timed<T extends object>(o: T, names: string[]): T {
  return new Proxy(o, {
    get(target, key) {
      const v = Reflect.get(target, key, target) as unknown;
      if (typeof v !== 'function') return v;
      const f = v as (...a: unknown[]) => unknown;
      if (!names.includes(String(key))) return f.bind(target);
      return async (...a: unknown[]) => {
        if (running++ === 0) since = performance.now();
        try {
          return await f.apply(target, a);
        } finally {
          if (--running === 0) inWrites += performance.now() - since;
        }
      };
    },
  });
}

/** Runs `op` for each i in [from, to) one after the other, adding its times and bytes to `s`. */
async function block(s: Side, from: number, to: number, op: (i: number) => Promise<unknown>, per = 1): Promise<void> {
  const w = written();
  const f = fsyncs;
  const t = performance.now();
  const iw = inWrites;
  const sm = fsyncMs;
  for (let i = from; i < to; i++) {
    const t0 = performance.now();
    await op(i);
    s.times.push(performance.now() - t0);
  }
  s.ms += performance.now() - t;
  s.writeMs += inWrites - iw;
  s.bytes += written() - w;
  s.syncs += fsyncs - f;
  s.syncMs += fsyncMs - sm;
  s.count += (to - from) * per;
}

function row(label: string, s: Side): string {
  const sorted = Float64Array.from(s.times).sort();
  const n = s.count;
  return `| ${label} | ${fmtMs(s.ms / n)} ms | ${fmtMs(percentile(sorted, 0.5))} / ${fmtMs(percentile(sorted, 0.99))} ms | ${s.writeMs ? `${fmtMs(s.writeMs / n)} ms` : '–'} | ${kb(s.bytes / n)} KB | ${(s.syncs / n).toFixed(2)} |`;
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
  // the built-in apps' stand-in: every instance gets it when it is made
  const starter = join(dir, 'starter.tar.gz');
  await makeTarball(starter, [
    { name: 'manifest.webapp', body: JSON.stringify({ slug: 'starter', name: 'Starter', version: '1.0.0', type: 'webapp', permissions: { apps: { type: 'io.cozy.apps' } }, services: { tidy: { type: 'node', file: 'services/tidy.js', trigger: '@cron 0 0 3 * * *' } } }) },
    { name: 'index.html', body: '<!DOCTYPE html><html><body data-cozy="{{.CozyData}}"></body></html>' },
    { name: 'services/tidy.js', body: 'console.log("tidy")\n' },
  ]);
  await publish(starter, { dir: folder, limits });
  const unpacked = entries.reduce((n, e) => n + Buffer.byteLength(e.body ?? ''), 0);
  log(`app: ${entries.length} files, ${mb(unpacked)} MB unpacked, tarball ${mb(readFileSync(tarball).length)} MB`);

  const config = testConfig(join(dir, 'data'), { apps: { ...DEFAULTS.apps, registries: `file://${folder}`, builtinRegistry: null } });
  const logger = pino({ level: 'silent' });
  const hearth = await createHearth(config, logger);
  const tc = performance.now();
  const instances: Instance[] = [];
  const registries = registriesFromConfig(config, logger, { builtinDir: null });
  // the server's installer (compose.ts), its writing calls timed: the code reference, the permission document, the
  // service's trigger, the app's doc
  const code = appCodeOf(hearth.appCode, { dev: false, limits, resolveRegistry: (slug, v) => registries.resolveVersion(slug, v), openRegistryTarball: (v) => registries.openTarball(v as Parameters<typeof registries.openTarball>[0]) });
  const installer = new Installer({
    storeOf: (instance) => timed(hearth.storeOf(instance), ['put', 'putInOrder']), locks: new InProcessLocks(), skipPermissionsCheck: false,
    perms: timed(hearth.perms, ['setAppPermissions', 'appPermissionsWrite']), triggers: timed(hearth.jobs.scheduler, ['create', 'delete']),
    triggerCopy: (t) => ({ doctype: TRIGGERS_DOCTYPE, doc: triggerMirrorDoc(t as TriggerDoc) }),
    code: { ...timed(code, ['begin']), prepare: async (...a) => {
      const prepared = await code.prepare(...a);
      return { stored: prepared.stored, sha256: prepared.sha256, fetch: timed(prepared, ['fetch']).fetch };
    } },
  });
  const install = async (instance: Instance, slug = 'bigapp') => {
    const op = await installer.install(instance, 'webapp', slug, { source: `registry://${slug}/stable` });
    const out = await op.done;
    if (out.error) throw out.error;
  };
  for (let i = 0; i <= INSTANCES + 2 * BLOCK; i++) {
    const instance = await hearth.registry.create({ domain: `i${i}.bench.test` });
    await install(instance, 'starter');
    instances.push(instance);
  }
  const probes = instances.splice(INSTANCES + 1); // the breakdown's instances, made the same way
  const conc = probes.splice(BLOCK); // installed AT_ONCE at a time
  const createMs = (performance.now() - tc) / (instances.length + probes.length);
  log(`${instances.length + probes.length} instances created with the starter app, ${fmtMs(createMs)} ms each (load ${load()})`);
  // the reference: the code store's part only, through the same registries (a reference per instance)
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
  const byFile = new Map<string, number>();
  for (let from = 1; from <= INSTANCES; from += BLOCK) {
    const to = Math.min(INSTANCES + 1, from + BLOCK);
    const before = new Map(fsyncsOf);
    await block(whole, from, to, (i) => install(instances[i]!));
    for (const [file, n] of fsyncsOf) byFile.set(file, (byFile.get(file) ?? 0) + n - (before.get(file) ?? 0));
    await block(ref, from, to, codeOnly);
  }
  const syncsByFile = [...byFile].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]).map(([file, n]) => `${file} ${(n / INSTANCES).toFixed(2)}`).join(', ');
  log(`fsyncs per install, by file (one at a time, the process's other work included): ${syncsByFile}; ${fmtMs(whole.syncMs / INSTANCES)} ms in fsync calls per install`);
  log(`${INSTANCES} more: whole installer ${fmtMs(whole.ms / INSTANCES)} ms and ${kb(whole.bytes / INSTANCES)} KB each; code store only ${fmtMs(ref.ms / INSTANCES)} ms and ${kb(ref.bytes / INSTANCES)} KB each`);

  // the same install again on instances that had it (uninstalled first, not counted): what is left once an instance's
  // databases already hold the doctypes, the indexes and the pages an install writes
  const again = side();
  for (let i = 1; i <= BLOCK; i++) await installer.uninstall(instances[i]!, 'webapp', 'bigapp');
  await block(again, 1, BLOCK + 1, (i) => install(instances[i]!));
  // concurrent installs (a farm installing an app on its instances): commits of several installs may share an fsync
  const together = side();
  await block(together, 0, Math.ceil(conc.length / AT_ONCE), (g) => Promise.all(conc.slice(g * AT_ONCE, (g + 1) * AT_ONCE).map((x) => install(x))), AT_ONCE);
  instances.push(...conc);
  log(`${conc.length} installs ${AT_ONCE} at a time: ${fmtMs(together.ms / conc.length)} ms and ${kb(together.bytes / conc.length)} KB each`);
  log(`${BLOCK} reinstalls: ${fmtMs(again.ms / BLOCK)} ms and ${kb(again.bytes / BLOCK)} KB each`);

  // the breakdown: each write of an install alone, on instances that never had bigapp (a block each, one after the other)
  const model = (await findApp(hearth.storeOf(instances[1]!), 'webapp', 'bigapp'))!;
  const { _rev: _r, ...appDoc } = model;
  const rules = (await hearth.perms.appPermissions(instances[1]!, 'app', 'bigapp'))!.permissions as Record<string, unknown>;
  const putApp = (i: number, slug: string) => hearth.storeOf(probes[i]!).put('io.cozy.apps', { ...appDoc, _id: `io.cozy.apps/${slug}`, slug } as unknown as Doc);
  const putPerms = (i: number, slug: string) => hearth.perms.setAppPermissions(probes[i]!, 'app', slug, rules);
  const steps: Array<[string, (i: number) => Promise<unknown>]> = [
    ['opening the instance database again (a read; the store pool closed it since the instance was made)', (i) => hearth.storeOf(probes[i]!).get('io.cozy.apps', 'io.cozy.apps/starter')],
    ['code store reference (code-refs database; its fsync not waited for)', (i) => codeOnly(INSTANCES + 1 + i)],
    ['service trigger (jobs.sqlite; its io.cozy.triggers copy follows, asynchronously, in the next rows)', (i) => hearth.jobs.scheduler.create(probes[i]!.domain, {
      type: '@event', arguments: 'io.cozy.files:CREATED', worker: 'service', message: { slug: 'probe-t', name: 'sync' },
    })],
    ['app doc, one write (instance database)', (i) => putApp(i, 'probe-a')],
    ['app doc written again (its next state)', async (i) => {
      const store = hearth.storeOf(probes[i]!);
      await store.put('io.cozy.apps', { ...(await store.get('io.cozy.apps', 'io.cozy.apps/probe-a')), state: 'installed' });
    }],
    ['permission document alone (instance database)', (i) => putPerms(i, 'probe-p')],
    ['permission document and app doc in one commit (putInOrder, as the installer writes them; one transaction on either engine)', async (i) => {
      const write = (await hearth.perms.appPermissionsWrite(probes[i]!, 'app', 'probe-b', rules))!;
      await hearth.storeOf(probes[i]!).putInOrder([write, { doctype: 'io.cozy.apps', doc: { ...appDoc, _id: 'io.cozy.apps/probe-b', slug: 'probe-b' } as unknown as Doc }]);
    }],
  ];
  const breakdown: Array<[string, Side]> = [];
  await new Promise((r) => setTimeout(r, 1000)); // the triggers' mirror of the last installs
  for (const [label, op] of steps) {
    const s = side();
    await block(s, 0, probes.length, op);
    breakdown.push([label, s]);
  }
  log(`breakdown: ${breakdown.map(([l, s]) => `${l.split(' (')[0]} ${fmtMs(s.ms / probes.length)} ms ${kb(s.bytes / probes.length)} KB`).join('; ')}`);

  let ok = 0;
  for (const instance of instances) {
    const doc = await findApp(hearth.storeOf(instance), 'webapp', 'bigapp');
    const perms = await hearth.perms.appPermissions(instance, 'app', 'bigapp');
    const triggers = await hearth.jobs.scheduler.list(instance.domain, {});
    const mine = triggers.filter((t) => (t.message as { slug?: string } | null)?.slug === 'bigapp');
    if (doc?.state === 'ready' && perms && mine.length === 1 && doc.services?.sync?.trigger_id === mine[0]!._id) ok++;
  }
  const refs = (await hearth.appCode.refs({})).length;
  const open = hearth.openStores();
  const loadEnd = load();
  await installer.close();
  await hearth.close();
  if (ok !== instances.length) throw new Error(`only ${ok} of ${instances.length} instances have the app, its permissions and its trigger`);

  const md = [
    '# Apps install benchmark (`npm run bench`, suite apps-install, bench/apps-install.bench.ts)',
    '',
    `Run ${new Date().toISOString()} on ${machine()}, load average ${loadEnd} at the end; ${gitInfo()}; ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
    '',
    `A ${mb(unpacked)} MB web app with one service (${entries.length} files) installed through the whole installer on ${instances.length} instances`,
    `of one Hearth (SQLite engines) from a local folder registry; ${instances.length} instances checked after: doc \`ready\`, permission`,
    `document, one trigger of bigapp. Instances were created first, each with a small app with a service (\`starter\`, the`,
    `built-in apps' stand-in: a server's new instance gets its built-in apps, so its database, the doctypes of apps,`,
    `permissions and triggers exist before any other install), ${fmtMs(createMs)} ms each, not counted. ${refs} code references in the end.`,
    `${open} instance databases open at the end: the store pool keeps a bounded number open (data/sqlite/factory.ts), so with`,
    'more instances than that, an install finds its instance\'s database closed and opens it (the first row of the breakdown).',
    'The reference (code store only: resolve the version, reference the stored code) ran in the same process, in blocks of',
    `${BLOCK} instances alternating with the installer's, so that both saw the same load.`,
    '',
    '| measure | time per instance (mean) | p50 / p99 | of which in writing calls (mean) | written to disk per instance | fsyncs per instance |',
    '|---|---|---|---|---|---|',
    `| first install (store the code: unpack, brotli + gzip copies, fsync; documents, permissions, trigger) | ${fmtMs(first.ms)} ms | – | ${fmtMs(first.writeMs)} ms | ${mb(first.bytes)} MB | ${first.syncs} |`,
    row(`whole installer, each next instance, one at a time (${INSTANCES})`, whole),
    row(`reference: code store only, each next instance (${INSTANCES})`, ref),
    row(`whole installer again on an instance that had the app, uninstalled first (${BLOCK})`, again),
    row(`whole installer, ${AT_ONCE} instances at a time (${conc.length}; p50 / p99 of a group)`, together),
    `| ratio whole installer / code store only | ${(whole.ms / ref.ms).toFixed(2)}× | – | – | ${(whole.bytes / ref.bytes).toFixed(2)}× | – |`,
    '',
    '"Of which in writing calls": the wall time during which at least one of the installer\'s writing calls ran (the code',
    'reference, the permission document, the trigger, the app doc): their commits, their wait for the fsync, and the reads',
    'inside them; calls that overlap are counted once.',
    '',
    `fsyncs per install one at a time, by file (every fsync of the process while those installs ran, the job mirror's and`,
    `checkpoints' included): ${syncsByFile}. Time inside those fsync calls (from the call to its callback, thread pool`,
    `queueing included), added up: ${fmtMs(whole.syncMs / INSTANCES)} ms per install one at a time, ${fmtMs(together.syncMs / conc.length)} ms ten at a time.`,
    '',
    `Breakdown: each write an install makes, alone, on ${probes.length} more instances made the same way (a block per row, one after`,
    'the other). Its time is the call\'s: the commit and the wait for its fsync (off the event loop), plus waiting for a core.',
    '',
    '| write (alone) | time per instance (mean) | p50 / p99 | – | written to disk per instance | fsyncs per instance |',
    '|---|---|---|---|---|---|',
    ...breakdown.map(([label, s]) => row(label, s)),
    '',
    'Target (issue 14): under 1 ms of disk writes per instance beyond the first.',
    '',
  ].join('\n');
  if (!QUICK) {
    writeFileSync(join(BENCH_DIR, 'RESULTS-apps-install.md'), md);
    process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-apps-install.md')}\n`);
  } else process.stdout.write(md);
}

await main();
