/**
 * What the realtime WebSocket costs the built-in apps at start: for each app, this tree's build beside an older
 * commit's (BENCH_AB_REF, installed as `old<slug>`: webapps-old.ts) and beside this tree's build with no realtime
 * (its WebSocket closed by Chromium before it reaches the server: `routeWebSocket`), opened in turn in fresh Chromium
 * tabs (the order rotating), each tab logged in by its session cookie and watched for 6 s: the WebSockets it opens
 * and when (ms after the navigation began), its first contentful paint and its largest contentful paint (Chromium's
 * own timings, no throttling). The server's memory per connected socket is bench/realtime.bench.ts's (RESULTS-realtime.md).
 *
 *   BENCH_AB_REF=<commit> [BENCH_RT_RUNS=5] [BENCH_RT_APPS=home,drive,settings,store,accounts] node --import tsx bench/webapps-realtime.ts
 *
 * Writes bench/RESULTS-webapps-realtime.md, with the machine's load.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.js';
import { openApp } from '../test/helpers/webapps.js';
import { BENCH_DIR, log, startWatchdog } from './lib.js';
import { median } from './webapps-listing.js';
import { buildOld } from './webapps-old.js';
import { installBuilds, startBenchInstance } from './webapps-setup.js';

const REF = process.env.BENCH_AB_REF;
if (!REF) throw new Error('BENCH_AB_REF=<commit> names the build to compare with');
const RUNS = Number(process.env.BENCH_RT_RUNS ?? 5);
const APPS = (process.env.BENCH_RT_APPS ?? 'home,drive,settings,store,accounts').split(',');
const WATCH_MS = 6000;

interface Tab { sockets: number; firstSocket: number | null; fcp: number | null; lcp: number | null }

/** One tab of `url`: its sockets in its first WATCH_MS, and its paints. */
async function watch(browser: Browser, cookie: string, url: string, realtime: boolean): Promise<Tab> {
  const context = await browser.newContext({ extraHTTPHeaders: { Cookie: cookie }, viewport: { width: 412, height: 823 } });
  if (!realtime) await context.routeWebSocket(/\/realtime\//, (ws) => ws.close());
  const page = await context.newPage();
  const opened: number[] = [];
  page.on('websocket', () => opened.push(Date.now()));
  try {
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForTimeout(WATCH_MS);
    const t = await page.evaluate(`new Promise((done) => {
      const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null;
      new PerformanceObserver((l) => { const e = l.getEntries(); done({ origin: performance.timeOrigin, fcp, lcp: e[e.length - 1]?.startTime ?? null }); })
        .observe({ type: 'largest-contentful-paint', buffered: true });
      setTimeout(() => done({ origin: performance.timeOrigin, fcp, lcp: null }), 1000);
    })`) as { origin: number; fcp: number | null; lcp: number | null };
    return { sockets: opened.length, firstSocket: opened.length ? opened[0]! - t.origin : null, fcp: t.fcp, lcp: t.lcp };
  } finally {
    await context.close();
  }
}

startWatchdog(40 * 60_000);
const tmp = mkdtempSync(join(tmpdir(), 'hearth-webapps-rt-'));
const loads: number[] = [];
const b = await startBenchInstance({ label: 'bench' });
try {
  log(`building the apps of ${REF}`);
  await installBuilds(b, await buildOld(REF, APPS, tmp), APPS, 'old');
  const browser = await launchBrowser();
  const login = await openApp(browser, b.w, 'home');
  const cookie = (await login.context.cookies(b.w.appUrl('home'))).map((c) => `${c.name}=${c.value}`).join('; ');
  await login.context.close();
  const tabs = new Map<string, Tab[]>();
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const slug of APPS) {
        const variants: Array<[string, string, boolean]> = [[`old ${slug}`, `old${slug}`, true], [`new ${slug}`, slug, true], [`none ${slug}`, slug, false]];
        for (let k = 0; k < variants.length; k++) {
          const [label, s, realtime] = variants[(i + k) % variants.length]!;
          loads.push(loadavg()[0]!);
          const t = await watch(browser, cookie, b.w.appUrl(s), realtime);
          tabs.set(label, [...(tabs.get(label) ?? []), t]);
          log(`${label} run ${i + 1}: ${t.sockets} socket(s), first at ${t.firstSocket?.toFixed(0) ?? '-'} ms; FCP ${t.fcp?.toFixed(0) ?? '-'} LCP ${t.lcp?.toFixed(0) ?? '-'} ms`);
        }
      }
    }
  } finally {
    await browser.close();
  }
  const med = (xs: Array<number | null>) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? `${median(v).toFixed(0)}` : '–';
  };
  const rows = APPS.map((slug) => {
    const [o, n, z] = ['old', 'new', 'none'].map((v) => tabs.get(`${v} ${slug}`) ?? []) as [Tab[], Tab[], Tab[]];
    const cell = (f: (t: Tab) => number | null, none = true) => `${med(o.map(f))} | ${med(n.map(f))}${none ? ` | ${med(z.map(f))}` : ''}`;
    return `| ${slug} | ${cell((t) => t.sockets, false)} | ${cell((t) => t.firstSocket, false)} | ${cell((t) => t.fcp)} | ${cell((t) => t.lcp)} |`;
  });
  const out = `# The realtime WebSocket of the built-in apps at start (bench/webapps-realtime.ts)

Run ${new Date().toISOString()}, ${RUNS} tabs per app and variant, the three in rotating order; load average (1 min) during the
tabs ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on 2 cores shared with other work. Old: the apps of ${REF}, installed
beside as \`old<slug>\` (the live theme subscribed at the first render); new: this tree's (the live theme subscribed once
the page is idle); none: this tree's with its realtime WebSocket closed in Chromium before it reaches the server.
Chromium (no throttling), 412×823, each tab fresh and logged in, watched ${WATCH_MS / 1000} s. Medians.
The server's memory per connected socket: 12.5 KB of RSS (bare \`ws\`: 12.2 KB), RESULTS-realtime.md.

| app | sockets per tab, old | new | first socket opened (ms), old | new | FCP (ms), old | new | none | LCP (ms), old | new | none |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
  writeFileSync(join(BENCH_DIR, 'RESULTS-webapps-realtime.md'), out);
  process.stdout.write(out);
} finally {
  await b.close();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(0);
