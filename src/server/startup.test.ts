import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'hearth-startup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('start-up', () => {
  it('serves without loading sharp (libvips, ~27 MB of idle RSS): images load it on first use', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/startup-main.ts', dir], { encoding: 'utf8' });
    const { status, libraries } = JSON.parse(out) as { status: number; libraries: string[] };
    expect(status).toBe(200);
    expect(libraries.some((l) => l.includes('better_sqlite3'))).toBe(true); // the probe sees native libraries
    expect(libraries.filter((l) => /sharp|vips/.test(l))).toEqual([]);
  }, 60_000);
});
