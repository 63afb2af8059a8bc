/**
 * Lighthouse's mobile performance of Home, Drive (1,000 files) and Settings, this tree's build against the build of
 * an older commit, in the same run on the same instance (runs alternate, old first then new first; the machine's load
 * moves both alike).
 * The older commit's sources are taken with `git archive` into a temporary folder and built with its own
 * scripts/build-webapps.mjs; its apps are installed beside the built-in ones as `old<slug>`.
 *
 *   BENCH_AB_REF=<commit> [BENCH_LH_RUNS=3] [BENCH_AB_PAGES=Home,Drive,Settings] node --import tsx bench/webapps-ab.ts
 * BENCH_AB_TASKS=1 also prints each run's long tasks as Lighthouse simulated them.
 *
 * Prints each run and the medians; writes nothing (the numbers go into a results file by hand, with the load).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchBrowser } from '../test/helpers/browser.js';
import { openApp } from '../test/helpers/webapps.js';
import { ROOT, log, startWatchdog } from './lib.js';
import { startLighthouse, type LhScores } from './webapps-lighthouse.js';
import { median } from './webapps-listing.js';
import { ROOT_DIR, folderOf, installBuilds, realisticContent, startBenchInstance } from './webapps-setup.js';

const REF = process.env.BENCH_AB_REF;
if (!REF) throw new Error('BENCH_AB_REF=<commit> names the build to compare with');
const RUNS = Number(process.env.BENCH_LH_RUNS ?? 3);
const PAGES = (process.env.BENCH_AB_PAGES ?? 'Home,Drive,Settings').split(',');
const SLUGS: Record<string, string> = { Home: 'home', Drive: 'drive', Settings: 'settings' };

startWatchdog(40 * 60_000);
const tmp = mkdtempSync(join(tmpdir(), 'hearth-webapps-ab-'));

/** Builds the apps of PAGES as `REF` had them; their output folders. */
async function buildOld(): Promise<string> {
  const src = join(tmp, 'src');
  execFileSync('sh', ['-c', `mkdir -p "${src}" && git -C "${ROOT}" archive "${REF}" | tar -x -C "${src}"`]);
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
  const { buildApp } = (await import(pathToFileURL(join(src, 'scripts', 'build-webapps.mjs')).href)) as { buildApp(slug: string, out: string): Promise<unknown> };
  for (const page of PAGES) await buildApp(SLUGS[page]!, join(tmp, 'old'));
  return join(tmp, 'old');
}

const b = await startBenchInstance({ label: 'bench' });
try {
  log(`building the apps of ${REF}`);
  await installBuilds(b, await buildOld(), PAGES.map((p) => SLUGS[p]!), 'old');
  await realisticContent(b);
  const thousand = await folderOf(b, ROOT_DIR, 'A thousand notes', 1_000);
  const browser = await launchBrowser();
  const login = await openApp(browser, b.w, 'home');
  const cookie = (await login.context.cookies(b.w.appUrl('home'))).map((c) => `${c.name}=${c.value}`).join('; ');
  await browser.close();
  const lh = await startLighthouse();
  const runs = new Map<string, LhScores[]>();
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const page of PAGES) {
        const path = page === 'Drive' ? `#/folder/${thousand}` : '';
        const pair: Array<[string, string]> = [[`old ${page}`, `old${SLUGS[page]!}`], [`new ${page}`, SLUGS[page]!]];
        for (const [label, slug] of i % 2 === 0 ? pair : pair.reverse()) {
          const r = await lh.run(b.w.appUrl(slug, path), 'mobile', cookie);
          runs.set(label, [...(runs.get(label) ?? []), r]);
          const m = r.metrics;
          log(`${label} run ${i + 1}: performance ${r.scores.performance} (accessibility ${r.scores.accessibility}, best practices ${r.scores['best-practices']}); FCP ${m.fcp?.toFixed(0)} LCP ${m.lcp?.toFixed(0)} TBT ${m.tbt?.toFixed(0)} SI ${m.si?.toFixed(0)} ms`);
          if (process.env.BENCH_AB_TASKS) log(`  long tasks (simulated): ${r.longTasks.map((t) => `${t.duration} ms at ${t.start} (${t.url})`).join(', ')}`);
        }
      }
    }
  } finally {
    await lh.close();
  }
  for (const [label, rs] of runs) {
    const med = (f: (r: LhScores) => number) => median(rs.map(f)).toFixed(0);
    process.stdout.write(`${label}: performance ${med((r) => r.scores.performance)} (${rs.map((r) => r.scores.performance).join(', ')}); FCP ${med((r) => r.metrics.fcp ?? 0)} LCP ${med((r) => r.metrics.lcp ?? 0)} TBT ${med((r) => r.metrics.tbt ?? 0)} SI ${med((r) => r.metrics.si ?? 0)} ms (medians)\n`);
  }
} finally {
  await b.close();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(0);
