/**
 * Lighthouse 12 (bench/node_modules, installed by bench/run.sh; 13 needs Node 22) on Debian's Chromium, started by
 * chrome-launcher with the test flags: performance, accessibility and best practices of a logged-in app page (the
 * session cookie sent with `extraHeaders`), with the mobile (default) or the desktop preset.
 * Loaded from bench/node_modules at run time, so that the project's type-check does not need the bench's packages.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/helpers/browser.js';
import { BENCH_DIR } from './lib.js';

export type Preset = 'mobile' | 'desktop';
export const CATEGORIES = ['performance', 'accessibility', 'best-practices'] as const;
export type Category = (typeof CATEGORIES)[number];

interface LhAuditRef { id: string; weight: number }
interface LhAudit { id: string; title: string; score: number | null; scoreDisplayMode: string; displayValue?: string; numericValue?: number; details?: { items?: unknown[] } }
interface Lhr {
  categories: Record<Category, { score: number | null; auditRefs: LhAuditRef[] }>;
  audits: Record<string, LhAudit>;
  runtimeError?: { code: string; message: string };
  runWarnings: string[];
}
type LighthouseFn = (url: string, flags: Record<string, unknown>, config?: unknown) => Promise<{ lhr: Lhr } | undefined>;
interface LaunchedChrome { port: number; kill(): void | Promise<void> }

export interface Failing { category: Category; id: string; title: string; score: number; weight: number; value?: string }
export interface LhScores {
  scores: Record<Category, number>;
  /** ms (cls: unitless); bootup: JavaScript execution, mainThread: all main-thread work, both as measured (before the simulated slow-down) */
  metrics: { fcp?: number; lcp?: number; tbt?: number; cls?: number; si?: number; bootup?: number; mainThread?: number };
  /**
   * In a category under its target, the audits under 0.9 that weigh in its score, highest weight first, then (for
   * performance) the opportunities and insights that score 0 (weight 0: what to fix to get there).
   */
  failing: Failing[];
  warnings: string[];
  /** the main thread's long tasks as Lighthouse simulated them (ms; the script they are attributed to) */
  longTasks: Array<{ url: string; start: number; duration: number }>;
}
export const TARGETS: Record<Category, number> = { performance: 90, accessibility: 95, 'best-practices': 95 };

const mod = (path: string) => import(pathToFileURL(join(BENCH_DIR, 'node_modules', path)).href);

export interface Lighthouse {
  run(url: string, preset: Preset, cookie: string): Promise<LhScores>;
  close(): Promise<void>;
}

export async function startLighthouse(): Promise<Lighthouse> {
  const lighthouse = (await mod('lighthouse/core/index.js')).default as LighthouseFn;
  const desktop = (await mod('lighthouse/core/config/desktop-config.js')).default as unknown;
  const launcher = await mod('chrome-launcher/dist/index.js') as { launch(o: Record<string, unknown>): Promise<LaunchedChrome> };
  const chrome = await launcher.launch({ chromePath: CHROMIUM, chromeFlags: ['--headless=new', ...CHROMIUM_ARGS], logLevel: 'silent' });
  return {
    async run(url, preset, cookie) {
      const flags = { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: [...CATEGORIES], extraHeaders: { Cookie: cookie }, maxWaitForLoad: 60_000 };
      const result = await lighthouse(url, flags, preset === 'desktop' ? desktop : undefined);
      if (!result) throw new Error(`Lighthouse gave no result for ${url}`);
      return scoresOf(result.lhr);
    },
    async close() {
      await chrome.kill();
    },
  };
}

export function scoresOf(lhr: Lhr): LhScores {
  if (lhr.runtimeError) throw new Error(`Lighthouse: ${lhr.runtimeError.code}: ${lhr.runtimeError.message}`);
  const scores = Object.fromEntries(CATEGORIES.map((c) => [c, Math.round((lhr.categories[c].score ?? 0) * 100)])) as Record<Category, number>;
  const failing: Failing[] = [];
  for (const c of CATEGORIES) {
    if (scores[c] >= TARGETS[c]) continue;
    for (const ref of lhr.categories[c].auditRefs) {
      const a = lhr.audits[ref.id];
      if (!a || a.score === null || a.score >= 0.9 || a.scoreDisplayMode === 'informative' || a.scoreDisplayMode === 'notApplicable') continue;
      if (ref.weight === 0 && (c !== 'performance' || a.score > 0)) continue;
      failing.push({ category: c, id: a.id, title: a.title, score: a.score, weight: ref.weight, ...(a.displayValue ? { value: a.displayValue } : {}) });
    }
  }
  failing.sort((a, b) => b.weight - a.weight);
  const n = (id: string) => lhr.audits[id]?.numericValue;
  return {
    scores,
    metrics: { fcp: n('first-contentful-paint'), lcp: n('largest-contentful-paint'), tbt: n('total-blocking-time'), cls: n('cumulative-layout-shift'), si: n('speed-index'), bootup: n('bootup-time'), mainThread: n('mainthread-work-breakdown') },
    failing,
    warnings: lhr.runWarnings,
    longTasks: ((lhr.audits['long-tasks']?.details?.items ?? []) as Array<{ url?: string; startTime?: number; duration?: number }>)
      .map((t) => ({ url: (t.url ?? '').split('/').pop() ?? '', start: Math.round(t.startTime ?? 0), duration: Math.round(t.duration ?? 0) })),
  };
}
