import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** test/fixtures/young-gen-cap-main.ts in a process of its own: the largest new space (MB) with the cap, then without. */
function run(maxMB: number): { capped: number; released: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/young-gen-cap-main.ts', String(maxMB)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { capped: number; released: number };
}

describe("V8's young generation kept within server.youngGenerationMB (server/young-gen.ts)", () => {
  it('stops the new space growing at the cap (one step beyond at most), and lets it grow again once stopped', () => {
    const { capped, released } = run(4);
    expect(capped).toBeGreaterThan(0);
    expect(capped).toBeLessThanOrEqual(8);
    // the same workload, the cap removed: V8 grows it to its own maximum again (32 MB on 64-bit)
    expect(released).toBeGreaterThan(8);
  }, 60_000);

  it('leaves V8 its own sizing with 0', () => {
    const { capped } = run(0);
    expect(capped).toBeGreaterThan(8);
  }, 60_000);
});
