import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/helpers/ports.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-young-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("V8's optimizing compiler during hearth serve's start", () => {
  it('is paused while the server loads and wires itself, and works again once it listens', async () => {
    const [port, adminPort] = [await freePort(), await freePort()];
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'test/fixtures/serve-optimizer-main.ts', dir, String(port), String(adminPort)], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, HEARTH_ADMIN_PASSPHRASE: 'a long enough admin passphrase', HEARTH_MAIL_MODE: 'outbox' },
    });
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { paused: boolean; released: boolean; status: number; flags: string[]; afterStart: boolean };
    // what the two calls do: no TurboFan code for a hot function while paused; TurboFan again after the start
    expect(result.paused).toBe(false);
    expect(result.released).toBe(true);
    // hearth serve pauses it before loading the server, and gives it back once it listens
    expect(result.status).toBe(200);
    expect(result.flags.indexOf('--no-turbofan')).toBeGreaterThanOrEqual(0);
    expect(result.flags.lastIndexOf('--turbofan')).toBeGreaterThan(result.flags.indexOf('--no-turbofan'));
    expect(result.afterStart).toBe(true);
  }, 90_000);
});
