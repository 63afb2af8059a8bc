/**
 * bench/webapps-lighthouse.ts's reading of a Lighthouse result: the three scores out of 100, and, for a category under
 * its target only, the audits to fix (weighted ones under 0.9 by weight, then performance opportunities at 0).
 */
import { describe, expect, it } from 'vitest';
import { scoresOf } from '../../bench/webapps-lighthouse.js';

const audit = (id: string, score: number | null, mode = 'numeric', displayValue?: string) => ({ id, title: `title of ${id}`, score, scoreDisplayMode: mode, ...(displayValue ? { displayValue } : {}), numericValue: 1234 });
const lhr = (perf: number, a11y: number) => ({
  categories: {
    performance: { score: perf, auditRefs: [{ id: 'total-blocking-time', weight: 30 }, { id: 'largest-contentful-paint', weight: 25 }, { id: 'first-contentful-paint', weight: 10 }, { id: 'unused-javascript', weight: 0 }, { id: 'diagnostics', weight: 0 }] },
    accessibility: { score: a11y, auditRefs: [{ id: 'color-contrast', weight: 7 }, { id: 'label', weight: 0 }] },
    'best-practices': { score: 1, auditRefs: [{ id: 'errors-in-console', weight: 1 }] },
  },
  audits: {
    'total-blocking-time': audit('total-blocking-time', 0.4, 'numeric', '600 ms'),
    'largest-contentful-paint': audit('largest-contentful-paint', 0.7),
    'first-contentful-paint': audit('first-contentful-paint', 0.95),
    'unused-javascript': audit('unused-javascript', 0, 'metricSavings', '80 KiB'),
    diagnostics: audit('diagnostics', null, 'informative'),
    'color-contrast': audit('color-contrast', 0, 'binary'),
    label: audit('label', 0, 'binary'),
    'errors-in-console': audit('errors-in-console', 0, 'binary'),
  },
  runWarnings: ['a warning'],
});

describe('a Lighthouse result read by the benchmark', () => {
  it('gives the scores out of 100 and the audits to fix in the categories under target, heaviest first', () => {
    const r = scoresOf(lhr(0.72, 0.93));
    expect(r.scores).toEqual({ performance: 72, accessibility: 93, 'best-practices': 100 });
    expect(r.failing.map((f) => `${f.category}:${f.id}`)).toEqual([
      'performance:total-blocking-time', 'performance:largest-contentful-paint', 'accessibility:color-contrast', 'performance:unused-javascript',
    ]);
    expect(r.failing[0]).toMatchObject({ title: 'title of total-blocking-time', score: 0.4, weight: 30, value: '600 ms' });
    expect(r.metrics.tbt).toBe(1234);
    expect(r.warnings).toEqual(['a warning']);
  });

  it('lists nothing to fix when every category meets its target', () => {
    expect(scoresOf(lhr(0.9, 0.95)).failing).toEqual([]);
  });

  it('fails with Lighthouse\'s own error when the run failed', () => {
    expect(() => scoresOf({ ...lhr(0, 0), runtimeError: { code: 'NO_FCP', message: 'The page did not paint any content.' } }))
      .toThrow('Lighthouse: NO_FCP: The page did not paint any content.');
  });
});
