/**
 * `npm run bench`, built-in apps part (issue 15), on one Hearth whose registry is a fresh build of webapps/:
 *   1. JavaScript and CSS shipped per app (gzip), from the build;
 *   2. time to the first 20 rows of a 10,000-file folder in Drive (`#/folder/<id>`, rows `[data-file-id]`), side by
 *      side with `bare`, a static page of the same instance fetching `GET /files/:id` with its token (median of runs,
 *      alternating the two, each in a fresh browser context);
 *   3. Lighthouse 12 (performance, accessibility, best practices; mobile and desktop presets) on Home, Drive showing a
 *      folder of 1,000 files, and Settings, logged in;
 *   4. screenshots of the five apps, light and dark, 1280 and 375 px wide, into docs/screenshots/.
 * Writes bench/RESULTS-webapps.md and bench/RESULTS-webapps.json. Exits 1 (after writing them) when Drive shows no row.
 *   BENCH_SUITES=webapps npm run bench     or     node --import tsx bench/webapps.bench.ts
 * BENCH_QUICK=1: 1,000 files, 1 listing run, mobile preset only, no results file and no screenshots.
 * BENCH_LH_RUNS=n: n Lighthouse runs per page and preset (default 1), the run of median performance reported.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { launchBrowser } from '../test/helpers/browser.js';
import { BUILTIN_SLUGS, builtWebapps, openApp } from '../test/helpers/webapps.js';
import { BENCH_DIR, ROOT, gitInfo, log, machine, pkgVersion, startWatchdog } from './lib.js';
import { CATEGORIES, TARGETS, startLighthouse, type LhScores, type Preset } from './webapps-lighthouse.js';
import { NoRows, firstRows, median } from './webapps-listing.js';
import { ROOT_DIR, folderOf, realisticContent, startBenchInstance } from './webapps-setup.js';
import { bundleSizes, pieceSizes, type BundleSizes } from './webapps-sizes.js';

const QUICK = process.env.BENCH_QUICK === '1';
const BIG = QUICK ? 1_000 : 10_000;
const RUNS = QUICK ? 1 : 5;
const ROWS = 20;
const LH_RUNS = Number(process.env.BENCH_LH_RUNS ?? 1);
const PRESETS: Preset[] = QUICK ? ['mobile'] : ['mobile', 'desktop'];
const SHOTS = join(ROOT, 'docs', 'screenshots');

startWatchdog(15 * 60_000);
const started = Date.now();
log('building the five apps');
const { apps } = await builtWebapps();
const sizes: BundleSizes[] = apps.map((a) => bundleSizes(a.slug, a.dir));
const pieces = await pieceSizes();

const b = await startBenchInstance({ label: 'bench' });
const browser = await launchBrowser();
const out: {
  listing: { rows: number; files: number; bare: number[]; drive: number[]; driveError?: string };
  lighthouse: Array<{ page: string; preset: Preset; result?: LhScores; performanceRuns?: number[]; error?: string }>;
  screenshots: string[];
} = { listing: { rows: ROWS, files: BIG, bare: [], drive: [] }, lighthouse: [], screenshots: [] };
try {
  log('content: folders, photos, notifications');
  await realisticContent(b);
  let t = Date.now();
  const thousand = await folderOf(b, ROOT_DIR, 'A thousand notes', 1_000);
  const big = BIG === 1_000 ? thousand : await folderOf(b, ROOT_DIR, 'Ten thousand notes', BIG);
  log(`folders of 1,000 and ${BIG} files created in ${((Date.now() - t) / 1000).toFixed(0)} s`);

  // one login, its session reused by every context
  const login = await openApp(browser, b.w, 'home');
  const state = await login.context.storageState();
  const cookie = (await login.context.cookies(b.w.appUrl('home'))).map((c) => `${c.name}=${c.value}`).join('; ');
  await login.context.close();

  log(`listing: first ${ROWS} rows of ${BIG} files, ${RUNS} runs each`);
  for (let i = 0; i < RUNS; i++) {
    out.listing.bare.push(await firstRows(browser, state, b.w.appUrl('bare', `#${big}`), { n: ROWS, what: 'the bare page', timeoutMs: 60_000 }));
    if (out.listing.driveError) continue;
    try {
      out.listing.drive.push(await firstRows(browser, state, b.w.appUrl('drive', `#/folder/${big}`), { n: ROWS, what: 'Drive', timeoutMs: 30_000 }));
    } catch (e) {
      if (!(e instanceof NoRows)) throw e;
      out.listing.driveError = e.message;
      log(e.message);
    }
  }

  const lh = await startLighthouse();
  try {
    const pages: Array<[string, string]> = [['Home', b.w.appUrl('home')], ['Drive (1,000 files)', b.w.appUrl('drive', `#/folder/${thousand}`)], ['Settings', b.w.appUrl('settings')]];
    for (const preset of PRESETS) {
      for (const [page, url] of pages) {
        log(`Lighthouse ${preset}: ${page}`);
        t = Date.now();
        try {
          const runs: LhScores[] = [];
          for (let i = 0; i < LH_RUNS; i++) runs.push(await lh.run(url, preset, cookie));
          // the run of median performance (Lighthouse's advice for noisy machines), with every run's scores
          const sorted = [...runs].sort((x, y) => x.scores.performance - y.scores.performance);
          out.lighthouse.push({ page, preset, result: sorted[Math.floor(sorted.length / 2)]!, performanceRuns: runs.map((r) => r.scores.performance) });
        } catch (e) {
          out.lighthouse.push({ page, preset, error: (e as Error).message });
        }
        log(`  ${((Date.now() - t) / 1000).toFixed(0)} s`);
      }
    }
  } finally {
    await lh.close();
  }

  if (!QUICK) {
    log('screenshots');
    mkdirSync(SHOTS, { recursive: true });
    for (const slug of BUILTIN_SLUGS) {
      for (const colorScheme of ['light', 'dark'] as const) {
        for (const width of [1280, 375]) {
          const context = await browser.newContext({ storageState: state, colorScheme, viewport: { width, height: width === 375 ? 812 : 800 }, deviceScaleFactor: 1 });
          try {
            const page = await context.newPage();
            await page.goto(b.w.appUrl(slug));
            await page.locator('header.appbar').waitFor({ timeout: 30_000 });
            await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => undefined);
            const file = `${slug}-${colorScheme}-${width}.png`;
            await page.screenshot({ path: join(SHOTS, file) });
            out.screenshots.push(file);
          } finally {
            await context.close();
          }
        }
      }
    }
  }
} finally {
  await browser.close();
  await b.close();
}

const md = report();
process.stdout.write(md);
if (!QUICK) {
  writeFileSync(join(BENCH_DIR, 'RESULTS-webapps.md'), md);
  writeFileSync(join(BENCH_DIR, 'RESULTS-webapps.json'), JSON.stringify({ git: gitInfo(), machine: machine(), node: process.version, sizes, pieces, ...out }, null, 2) + '\n');
  process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-webapps.md')} and RESULTS-webapps.json\n`);
}
process.exit(out.listing.driveError ? 1 : 0);

function report(): string {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  const ms = (xs: number[]) => (xs.length ? `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})` : '–');
  const { bare, drive, driveError } = out.listing;
  const ratio = drive.length && bare.length ? `${(median(drive) / median(bare)).toFixed(2)}×` : '–';
  const lhRows = out.lighthouse.map((r) => r.result
    ? `| ${r.page} | ${r.preset}${LH_RUNS > 1 ? ` (${r.performanceRuns?.join(', ')})` : ''} | ${CATEGORIES.map((c) => `${r.result!.scores[c]}${r.result!.scores[c] >= TARGETS[c] ? '' : ' ✗'}`).join(' | ')} | ${fmtMetrics(r.result)} |`
    : `| ${r.page} | ${r.preset} | error: ${r.error} | | | | |`);
  const meets = (p: Preset) => {
    const rs = out.lighthouse.filter((r) => r.preset === p);
    return rs.length > 0 && rs.every((r) => r.result && CATEGORIES.every((c) => r.result!.scores[c] >= TARGETS[c]));
  };
  const failing = out.lighthouse.filter((r) => r.result?.failing.length).map((r) =>
    `- **${r.page}, ${r.preset}**: ${r.result!.failing.slice(0, 12).map((f) => `${f.category} \`${f.id}\` (${f.title}${f.value ? `: ${f.value}` : ''}; score ${f.score.toFixed(2)}, weight ${f.weight})`).join('; ')}`);
  return `# Built-in apps: benchmark results

${gitInfo()}; ${machine()}; Node ${process.version}; Lighthouse ${pkgVersion(join(BENCH_DIR, 'node_modules', 'lighthouse', 'package.json'))} on
Debian's Chromium (headless); whole run ${((Date.now() - started) / 60_000).toFixed(1)} min; load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}
(2 cores shared with other work: times move with it).
Run alone with \`BENCH_SUITES=webapps npm run bench\` (or \`node --import tsx bench/webapps.bench.ts\`; \`BENCH_QUICK=1\` for a
short run that writes nothing; \`BENCH_LH_RUNS=3\` for the median of 3 Lighthouse runs). The raw numbers are in RESULTS-webapps.json.

## JavaScript and CSS shipped per app (gzip, from the build)

| app | JavaScript gzip | CSS gzip | JavaScript (minified) | CSS (minified) |
|---|---|---|---|---|
${sizes.map((s) => `| ${s.slug} | ${kb(s.jsGzip)} | ${kb(s.cssGzip)} | ${kb(s.jsBytes)} | ${kb(s.cssBytes)} |`).join('\n')}

What the shared pieces cost, each bundled alone (minified, gzip, without the build's shims; see RESULTS-webapps-tuning.md): ${Object.entries(pieces).map(([k, v]) => `${k} ${kb(v.gzip)}`).join('; ')}.

## Time to the first ${ROWS} rows of a ${BIG.toLocaleString('en')}-file folder

From the navigation's start to the first frame with ${ROWS} \`[data-file-id]\` elements, each run in a new browser context
(empty cache, the owner's session), ${RUNS} runs alternating the two pages: median (range).

| page | time | vs bare |
|---|---|---|
| bare static page: one \`GET /files/:id\` with its app token, names as \`<li>\` | ${ms(bare)} | 1× |
| Drive \`#/folder/<id>\` | ${driveError ? `not measured: ${driveError}` : ms(drive)} | ${ratio} |

## Lighthouse (${LH_RUNS > 1 ? `median of ${LH_RUNS} runs by performance, each run's performance after the preset; ` : ''}logged in; targets: performance ≥ ${TARGETS.performance}, accessibility ≥ ${TARGETS.accessibility}, best practices ≥ ${TARGETS['best-practices']})

| page | preset | performance | accessibility | best practices | FCP / LCP / TBT / CLS | JS execution / main thread |
|---|---|---|---|---|---|---|
${lhRows.join('\n')}

${PRESETS.map((p) => `- ${p} preset: ${meets(p) ? 'meets every target' : 'does not meet every target (✗)'}`).join('\n')}

${failing.length ? `Audits under 0.9 in the categories under target (highest weight first):\n\n${failing.join('\n')}\n` : 'No category under its target.\n'}
## Screenshots

${out.screenshots.length ? `${out.screenshots.length} files in docs/screenshots/ (<slug>-<light|dark>-<1280|375>.png), shown in the README.` : 'not taken in this run'}
`;
}

function fmtMetrics(r: LhScores): string {
  const m = r.metrics;
  const s = (v?: number) => (v === undefined ? '–' : `${(v / 1000).toFixed(1)} s`);
  const ms = (v?: number) => (v === undefined ? '–' : `${v.toFixed(0)} ms`);
  return `${s(m.fcp)} / ${s(m.lcp)} / ${ms(m.tbt)} / ${m.cls === undefined ? '–' : m.cls.toFixed(3)} | ${ms(m.bootup)} / ${ms(m.mainThread)}`;
}
