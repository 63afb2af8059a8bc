/**
 * Drive's load of a 1,000-file folder as Chromium traces it, with the CPU slowed down 4× and a phone's viewport (what
 * Lighthouse's mobile preset assumes): the main thread's long tasks, what each is made of (script, style, layout,
 * paint, garbage collection) and the functions that took its time (V8's sampling profiler, in the same trace).
 * The page is this tree's Drive built unminified and installed as `devdrive`, so that the functions keep their names
 * and each is named with the source module esbuild wrote above it.
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
import { ROOT_DIR, folderOf, installBuilds, realisticContent, startBenchInstance } from './webapps-setup.js';

const RUNS = Number(process.env.BENCH_TRACE_RUNS ?? 1);
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
  await buildApp('drive', tmp, { minify: false });
  await installBuilds(b, tmp, ['drive'], 'dev');
  await realisticContent(b);
  const thousand = await folderOf(b, ROOT_DIR, 'A thousand notes', 1_000);
  const browser = await launchBrowser();
  const login = await openApp(browser, b.w, 'home');
  const state = await login.context.storageState();
  const totals: LoadTotals[] = [];
  await login.context.close();
  for (let run = 0; run < RUNS; run++) {
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
    await page.goto(b.w.appUrl('devdrive', `#/folder/${thousand}`), { waitUntil: 'commit' });
    // polled through the protocol with a one-line expression: Playwright's locators would run its injected script on
    // the page's main thread (tens of milliseconds at 4×), in the trace being measured
    const until = async (expression: string) => {
      for (const end = Date.now() + 120_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
        const r = await cdp.send('Runtime.evaluate', { expression, returnByValue: true }).catch(() => null);
        if (r?.result.value === true) return;
      }
      throw new Error(`not seen: ${expression}; ${problems.join('; ')}`);
    };
    await until(`!!document.querySelector('[role=grid] [role=row][data-file-id]') && !document.querySelector('.more')`);
    const listed = Date.now() - started;
    await page.waitForTimeout(4000);
    await cdp.send('Tracing.end');
    await done;
    log(`run ${run + 1}: whole listing shown ${listed} ms after the navigation (4× CPU slow-down)`);
    const a = analyse(events, { minTask: MIN, sources: (url) => sources.get(url) });
    process.stdout.write(a.text);
    if (a.totals) totals.push(a.totals);
    if (process.env.BENCH_TRACE_OUT) writeFileSync(process.env.BENCH_TRACE_OUT, JSON.stringify({ traceEvents: events }));
    await context.close();
  }
  await browser.close();
  if (totals.length) {
    const med = (f: (t: LoadTotals) => number) => `${median(totals.map(f)).toFixed(0)} (${totals.map((t) => f(t).toFixed(0)).join(', ')})`;
    process.stdout.write(`medians of ${totals.length} loads (ms, 4× slow-down): tasks of 50 ms or more ${med((t) => t.long)}; blocking after FCP ${med((t) => t.blocking)}; scripting ${med((t) => t.scripting)}; style and layout ${med((t) => t.layout)}; paint ${med((t) => t.paint)}; all tasks ${med((t) => t.busy)}\n`);
    process.stdout.write(`the main thread's CPU time, medians (ms, not slowed down): all tasks ${med((t) => t.cpu.busy)}; tasks of 12.5 ms or more ${med((t) => t.cpu.long)}; scripting ${med((t) => t.cpu.scripting)}; style and layout ${med((t) => t.cpu.layout)}; paint ${med((t) => t.cpu.paint)}\n`);
  }
} finally {
  await b.close();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(0);
