/**
 * The litmus WebDAV compliance suite (Debian's litmus, neon-based) against a real Hearth:
 * basic, copymove, props and locks, every test passing, no warning. A CLI token for io.cozy.files
 * goes as the Basic password, as any WebDAV client sends it.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackage } from '../../../test/helpers/debian.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';

let h: TestHearth;
let token: string;
let cwd: string;

beforeAll(async () => {
  ensureDebianPackage('litmus');
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.files');
  cwd = mkdtempSync(join(tmpdir(), 'hearth-litmus-')); // litmus writes debug.log and child.log there
});
afterAll(async () => {
  await h?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

interface Summary {
  run: number;
  passed: number;
  failed: number;
  warnings: number;
  output: string;
}

/** Runs one litmus suite (it makes its own /litmus/ collection under the URL) and reads its summary. */
function litmus(suite: string): Promise<Summary> {
  return new Promise((resolve, reject) => {
    execFile('litmus', [`http://localhost:${h.port}/dav/files/`, 'user', token], { cwd, env: { ...process.env, TESTS: suite }, timeout: 120_000 }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`;
      const m = new RegExp(`summary for \`${suite}': of (\\d+) tests run: (\\d+) passed, (\\d+) failed`).exec(output);
      if (!m) {
        reject(new Error(`no litmus summary for ${suite} (${err?.message ?? 'exit 0'}):\n${output}`));
        return;
      }
      const issued = /(\d+) warnings? (was|were) issued/.exec(output);
      const warnings = Math.max(issued ? Number(issued[1]) : 0, output.split('WARNING:').length - 1);
      resolve({ run: Number(m[1]), passed: Number(m[2]), failed: Number(m[3]), warnings, output });
    });
  });
}

const debugTail = () => {
  try {
    return readFileSync(join(cwd, 'debug.log'), 'utf8').slice(-6000);
  } catch {
    return '(no debug.log)';
  }
};

describe('litmus', () => {
  it.each([
    ['basic', 16],
    ['copymove', 13],
    ['props', 30],
    ['locks', 41],
  ])('%s: every test passes', async (suite, count) => {
    const s = await litmus(suite);
    const why = `${s.output}\n--- debug.log (end) ---\n${debugTail()}`;
    expect(s.failed, why).toBe(0);
    expect(s.warnings, why).toBe(0);
    expect(s.run, why).toBe(count);
    expect(s.passed).toBe(count);
  });
});
