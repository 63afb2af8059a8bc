/**
 * Drive's load of a 1,000-file folder (or Home's load: BENCH_TRACE_APP=home) as Chromium traces it, with the CPU slowed down 4× and a phone's viewport (what
 * Lighthouse's mobile preset assumes): the main thread's long tasks, what each is made of (script, style, layout,
 * paint, garbage collection) and the functions that took its time (V8's sampling profiler, in the same trace).
 * The page is this tree's app built unminified and installed as `dev<slug>`, so that the functions keep their names
 * and each is named with the source module esbuild wrote above it. BENCH_TRACE_REF=<commit> also builds that commit's
 * app unminified (`olddev<slug>`) and alternates the loads of the two (old first, then new first), for a side by side.
 *
 *   node --import tsx bench/webapps-trace.ts            (BENCH_TRACE_RUNS=n: n loads; BENCH_TRACE_MIN=ms: tasks shown)
 *   BENCH_TRACE_OUT=/tmp/drive.json keeps the last trace (chrome://tracing, DevTools' Performance panel)
 * Prints each load's long tasks, then the medians of its totals (ms of the slowed-down main thread: tasks of 50 ms or
 * more, blocking time after FCP, scripting, style and layout, paint); writes nothing else.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { launchBrowser } from '../test/helpers/browser.js';
import { openApp } from '../test/helpers/webapps.js';
import { ROOT, log, startWatchdog } from './lib.js';
import { analyse, type LoadTotals, type TraceEvent } from './trace-tasks.js';
import { median } from './webapps-listing.js';
import { buildOld } from './webapps-old.js';
import { ROOT_DIR, folderOf, installBuilds, realisticContent, startBenchInstance } from './webapps-setup.js';

const RUNS = Number(process.env.BENCH_TRACE_RUNS ?? 1);
const APP = process.env.BENCH_TRACE_APP ?? 'drive';
const REF = process.env.BENCH_TRACE_REF;
/** When the load is done: Drive's whole listing shown; Home's parts all there (none loading). */
const DONE: Record<string, string> = {
  drive: `!!document.querySelector('[role=grid] [role=row][data-file-id]') && !document.querySelector('.more')`,
  home: `!!document.querySelector('.home-grid') && !document.querySelector('.home .loading')`,
};
const MIN = Number(process.env.BENCH_TRACE_MIN ?? 50);
const CATEGORIES = [
  'toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'v8.execute', 'blink.user_timing', 'loading',
  'disabled-by-default-v8.cpu_profiler', 'disabled-by-default-devtools.timeline.frame',
].join(',');

startWatchdog(20 * 60_000);
const tmp = mkdtempSync(join(tmpdir(), 'hearth-webapps-trace-'));
const b = await startBenchInstance({ label: 'bench' });
try {
  const { buildApp } = (await import(pathToFileURL(join(ROOT, 'scripts', 'build-webapps.mjs')).href)) as { buildApp(slug: string, out: string, o: { minify: boolean }): Promise<unknown> };
  await buildApp(APP, tmp, { minify: false });
  await installBuilds(b, tmp, [APP], 'dev');
  if (REF) await installBuilds(b, await buildOld(REF, [APP], tmp, { minify: false }), [APP], 'olddev');
  await realisticContent(b);
  const hash = APP === 'drive' ? `#/folder/${await folderOf(b, ROOT_DIR, 'A thousand notes', 1_000)}` : '';
  const builds = REF ? ['olddev', 'dev'] : ['dev'];
  const totals: Record<string, LoadTotals[]> = Object.fromEntries(builds.map((x) => [x, []]));
  const browser = await launchBrowser();
  const login = await openApp(browser, b.w, 'home');
  const state = await login.context.storageState();
  await login.context.close();
  for (let run = 0; run < RUNS; run++) for (const build of run % 2 ? [...builds].reverse() : builds) {
    const context = await browser.newContext({ storageState: state, viewport: { width: 412, height: 823 }, deviceScaleFactor: 1.75, isMobile: true, hasTouch: true, locale: 'en-US' });
    const page = await context.newPage();
    const sources = new Map<string, string>();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`); });
    page.on('response', (r) => { if (r.url().endsWith('.js')) void r.text().then((t) => sources.set(r.url(), t), () => undefined); });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    const events: TraceEvent[] = [];
    cdp.on('Tracing.dataCollected', (d) => { events.push(...(d.value as unknown as TraceEvent[])); });
    const done = new Promise<void>((resolve) => cdp.once('Tracing.tracingComplete', () => resolve()));
    await cdp.send('Tracing.start', { traceConfig: { includedCategories: CATEGORIES.split(','), recordMode: 'recordAsMuchAsPossible' }, transferMode: 'ReportEvents' });
    const started = Date.now();
    await page.goto(b.w.appUrl(`${build}${APP}`, hash), { waitUntil: 'commit' });
    // polled through the protocol with a one-line expression: Playwright's locators would run its injected script on
    // the page's main thread (tens of milliseconds at 4×), in the trace being measured
    const until = async (expression: string) => {
      for (const end = Date.now() + 120_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
        const r = await cdp.send('Runtime.evaluate', { expression, returnByValue: true }).catch(() => null);
        if (r?.result.value === true) return;
      }
      throw new Error(`not seen: ${expression}; ${problems.join('; ')}`);
    };
    await until(DONE[APP]!);
    const listed = Date.now() - started;
    await page.waitForTimeout(4000);
    await cdp.send('Tracing.end');
    await done;
    log(`run ${run + 1}, ${build}${APP}: whole page shown ${listed} ms after the navigation (4× CPU slow-down)`);
    const a = analyse(events, { minTask: MIN, page: APP === 'drive' ? '#/folder/' : `//${build}${APP}.`, sources: (url) => sources.get(url) });
    process.stdout.write(a.text);
    if (a.totals) totals[build]!.push(a.totals);
    if (process.env.BENCH_TRACE_OUT) writeFileSync(process.env.BENCH_TRACE_OUT, JSON.stringify({ traceEvents: events }));
    await context.close();
  }
  await browser.close();
  for (const [build, list] of Object.entries(totals)) {
    if (!list.length) continue;
    const med = (f: (t: LoadTotals) => number) => `${median(list.map(f)).toFixed(0)} (${list.map((t) => f(t).toFixed(0)).join(', ')})`;
    process.stdout.write(`${build}${APP}, medians of ${list.length} loads (ms, 4× slow-down): tasks of 50 ms or more ${med((t) => t.long)}; blocking after FCP ${med((t) => t.blocking)}; scripting ${med((t) => t.scripting)}; style and layout ${med((t) => t.layout)}; paint ${med((t) => t.paint)}; all tasks ${med((t) => t.busy)}\n`);
    process.stdout.write(`${build}${APP}, the main thread's CPU time, medians (ms, not slowed down): all tasks ${med((t) => t.cpu.busy)}; tasks of 12.5 ms or more ${med((t) => t.cpu.long)}; scripting ${med((t) => t.cpu.scripting)}; style and layout ${med((t) => t.cpu.layout)}; paint ${med((t) => t.cpu.paint)}\n`);
  }
} finally {
  await b.close();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(0);
