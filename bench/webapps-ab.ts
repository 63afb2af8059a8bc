/**
 * Lighthouse's mobile performance of Home, Drive (1,000 files) and Settings, this tree's build against the build of
 * an older commit, in the same run on the same instance (runs alternate, old first then new first; the machine's load
 * moves both alike).
 * The older commit's sources are taken with `git archive` into a temporary folder and built with its own
 * scripts/build-webapps.mjs; its apps are installed beside the built-in ones as `old<slug>`.
 *
 *   BENCH_AB_REF=<commit> [BENCH_LH_RUNS=3] [BENCH_AB_PAGES=Home,Drive,Settings] node --import tsx bench/webapps-ab.ts
 *
 * Prints each run and the medians; writes nothing (the numbers go into a results file by hand, with the load).
 * A run that Lighthouse cannot measure (NO_FCP: "the page did not paint any content", which headless Chromium gives
 * now and then on a loaded machine, GoogleChrome/lighthouse#13524 and #15748) is logged with what the page does when
 * opened in Chromium (its first paint, its script errors and failed requests, to tell a page that really paints
 * nothing from a flake) and run again, up to RETRIES times; it never stops the comparison.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.js';
import { until } from '../test/helpers/jobs.js';
import { openApp } from '../test/helpers/webapps.js';
import { ROOT, log, startWatchdog } from './lib.js';
import { startLighthouse, type Lighthouse, type LhScores } from './webapps-lighthouse.js';
import { median } from './webapps-listing.js';
import { ROOT_DIR, folderOf, realisticContent, startBenchInstance, type BenchInstance } from './webapps-setup.js';

const REF = process.env.BENCH_AB_REF;
if (!REF) throw new Error('BENCH_AB_REF=<commit> names the build to compare with');
const RUNS = Number(process.env.BENCH_LH_RUNS ?? 3);
const PAGES = (process.env.BENCH_AB_PAGES ?? 'Home,Drive,Settings').split(',');
const SLUGS: Record<string, string> = { Home: 'home', Drive: 'drive', Settings: 'settings' };
const RETRIES = 2;

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

/** Publishes each old build as `old<slug>` to the bench's package server and installs it. */
async function installOld(b: BenchInstance, dir: string): Promise<void> {
  const token = await b.w.token('io.cozy.apps');
  for (const page of PAGES) {
    const slug = SLUGS[page]!;
    const files: Record<string, string | object> = {};
    for (const f of readdirSync(join(dir, slug))) if (statSync(join(dir, slug, f)).isFile() && !/\.(br|gz)$/.test(f)) files[f] = readFileSync(join(dir, slug, f), 'utf8');
    const manifest = JSON.parse(files['manifest.webapp'] as string) as Record<string, unknown>;
    delete manifest.intents;
    files['manifest.webapp'] = { ...manifest, slug: `old${slug}` };
    await b.packages.publish(files);
    const r = await b.w.api('POST', `/apps/old${slug}`, token);
    if (r.status !== 202) throw new Error(`installing old${slug}: ${r.status} ${r.text}`);
    await until(async () => (await b.w.api('GET', `/apps/old${slug}`, token)).body?.data?.attributes?.state === 'ready', 60_000);
  }
}

/** What `url` does in Chromium, logged in: its first contentful paint, script errors and failed requests. */
async function diagnose(browser: Browser, cookie: string, url: string): Promise<string> {
  const context = await browser.newContext({ extraHTTPHeaders: { Cookie: cookie } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`); });
  try {
    await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
    await page.waitForTimeout(2000);
    const fcp = await page.evaluate('performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null') as number | null;
    return `first contentful paint in Chromium: ${fcp === null ? 'none' : `${fcp.toFixed(0)} ms`}; ${problems.length ? problems.join('; ') : 'no script error, no failed request'}`;
  } finally {
    await context.close();
  }
}

/** A Lighthouse run of `url`, run again when Lighthouse could not measure it (logged with the page's diagnosis). */
async function measured(lh: Lighthouse, browser: Browser, cookie: string, url: string, label: string): Promise<LhScores | null> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await lh.run(url, 'mobile', cookie);
    } catch (e) {
      if (!/^Lighthouse: [A-Z_]+:/.test((e as Error).message)) throw e;
      log(`${label}: ${(e as Error).message}; ${await diagnose(browser, cookie, url)}`);
      if (attempt >= RETRIES) return null;
    }
  }
}

const b = await startBenchInstance({ label: 'bench' });
try {
  log(`building the apps of ${REF}`);
  await installOld(b, await buildOld());
  await realisticContent(b);
  const thousand = await folderOf(b, ROOT_DIR, 'A thousand notes', 1_000);
  const browser = await launchBrowser();
  const login = await openApp(browser, b.w, 'home');
  const cookie = (await login.context.cookies(b.w.appUrl('home'))).map((c) => `${c.name}=${c.value}`).join('; ');
  await login.context.close();
  const lh = await startLighthouse();
  const runs = new Map<string, LhScores[]>();
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const page of PAGES) {
        const path = page === 'Drive' ? `#/folder/${thousand}` : '';
        const pair: Array<[string, string]> = [[`old ${page}`, `old${SLUGS[page]!}`], [`new ${page}`, SLUGS[page]!]];
        for (const [label, slug] of i % 2 === 0 ? pair : pair.reverse()) {
          const r = await measured(lh, browser, cookie, b.w.appUrl(slug, path), label);
          if (!r) continue;
          runs.set(label, [...(runs.get(label) ?? []), r]);
          const m = r.metrics;
          log(`${label} run ${i + 1}: performance ${r.scores.performance}; FCP ${m.fcp?.toFixed(0)} LCP ${m.lcp?.toFixed(0)} TBT ${m.tbt?.toFixed(0)} SI ${m.si?.toFixed(0)} ms`);
        }
      }
    }
  } finally {
    await lh.close();
    await browser.close();
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
