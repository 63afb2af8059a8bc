/**
 * axe-core (npm) in a Playwright page: injects axe's own source, runs it on the whole document and fails with a
 * readable list when a serious or critical violation is found. Every page of every built-in app goes through it.
 */
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const axe = require('axe-core') as { source: string };

interface Violation { id: string; impact: string | null; help: string; nodes: { target: unknown[]; failureSummary?: string }[] }

/** The serious and critical violations on `page` now (the page as it is: open dialogs, current theme). */
export async function axeViolations(page: Page, opts: { exclude?: string[] } = {}): Promise<Violation[]> {
  // evaluated through the DevTools protocol, which the page's CSP does not govern (a script tag would be refused)
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(`${axe.source};0`);
  const result = await page.evaluate(async (exclude: string[]) => {
    // runs in the page (no DOM types in the Node project)
    const w = globalThis as unknown as { document: unknown; axe: { run(ctx: unknown, o: unknown): Promise<{ violations: Violation[] }> } };
    const r = await w.axe.run(exclude.length ? { exclude: exclude.map((s) => [s]) } : w.document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  }, opts.exclude ?? []);
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Throws, naming each rule and element, when `page` has a serious or critical violation. */
export async function expectAccessible(page: Page, what: string, opts: { exclude?: string[] } = {}): Promise<void> {
  const v = await axeViolations(page, opts);
  if (v.length === 0) return;
  const lines = v.map((x) => `- [${x.impact}] ${x.id}: ${x.help}\n${x.nodes.slice(0, 5).map((n) => `    ${JSON.stringify(n.target)} ${n.failureSummary?.split('\n').join(' ') ?? ''}`).join('\n')}`);
  throw new Error(`${what}: ${v.length} serious or critical accessibility violation(s)\n${lines.join('\n')}`);
}
