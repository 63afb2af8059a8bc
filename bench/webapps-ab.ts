/**
 * Lighthouse's mobile performance of Home, Drive (1,000 files) and Settings, this tree's build against the build of
 * an older commit, in the same run on the same instance (runs alternate, old first then new first; the machine's load
 * moves both alike).
 * The older commit's apps are built and installed beside the built-in ones as `old<slug>` (webapps-old.ts).
 *
 *   BENCH_AB_REF=<commit> [BENCH_LH_RUNS=3] [BENCH_AB_PAGES=Home,Drive,Settings] node --import tsx bench/webapps-ab.ts
 * BENCH_AB_TASKS=1 also prints each run's long tasks as Lighthouse simulated them.
 *
 * Prints each run and the medians; writes nothing (the numbers go into a results file by hand, with the load).
 * A run that Lighthouse cannot measure (NO_FCP: "the page did not paint any content", which headless Chromium gives
 * now and then on a loaded machine, GoogleChrome/lighthouse#13524 and #15748) is logged with what the page does when
 * opened in Chromium (its first paint, its script errors and failed requests, to tell a page that really paints
 * nothing from a flake) and run again, up to RETRIES times; it never stops the comparison.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.js';
import { openApp } from '../test/helpers/webapps.js';
import { log, startWatchdog } from './lib.js';
import { startLighthouse, type Lighthouse, type LhScores } from './webapps-lighthouse.js';
import { median } from './webapps-listing.js';
import { buildOld } from './webapps-old.js';
import { ROOT_DIR, folderOf, installBuilds, realisticContent, startBenchInstance } from './webapps-setup.js';

const REF = process.env.BENCH_AB_REF;
if (!REF) throw new Error('BENCH_AB_REF=<commit> names the build to compare with');
const RUNS = Number(process.env.BENCH_LH_RUNS ?? 3);
const PAGES = (process.env.BENCH_AB_PAGES ?? 'Home,Drive,Settings').split(',');
const SLUGS: Record<string, string> = { Home: 'home', Drive: 'drive', Settings: 'settings' };
const RETRIES = 2;

startWatchdog(40 * 60_000);
const tmp = mkdtempSync(join(tmpdir(), 'hearth-webapps-ab-'));

/** What `url` does in Chromium, logged in: its first contentful paint, script errors and failed requests. */
async function diagnose(browser: Browser, cookie: string, url: string): Promise<string> {
  const context = await browser.newContext({ extraHTTPHeaders: { Cookie: cookie } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`); });
  try {
    await page.goto(url, { waitUntil: 'load', timeout: 60_000 }).catch((e: Error) => problems.push(`navigation: ${e.message.split('\n')[0]}`));
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
  const slugs = PAGES.map((p) => SLUGS[p]!);
  await installBuilds(b, await buildOld(REF, slugs, tmp), slugs, 'old');
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
          log(`${label} run ${i + 1}: performance ${r.scores.performance} (accessibility ${r.scores.accessibility}, best practices ${r.scores['best-practices']}); FCP ${m.fcp?.toFixed(0)} LCP ${m.lcp?.toFixed(0)} TBT ${m.tbt?.toFixed(0)} SI ${m.si?.toFixed(0)} ms`);
          if (process.env.BENCH_AB_TASKS) log(`  long tasks (simulated): ${r.longTasks.map((t) => `${t.duration} ms at ${t.start} (${t.url})`).join(', ')}`);
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
