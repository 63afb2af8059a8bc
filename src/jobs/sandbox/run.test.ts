import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crashSummary, measureStartupOverhead, runSandboxed, sandboxArgs, type SandboxLine, type SandboxOptions } from './run.js';

const SAMPLE = fileURLToPath(new URL('../../../test/fixtures/konnectors/sample', import.meta.url));
let secretDir: string;
let secret: string;

beforeAll(() => {
  secretDir = mkdtempSync(join(tmpdir(), 'hearth-stack-data-'));
  secret = join(secretDir, 'secret.txt');
  writeFileSync(secret, 'TOP-SECRET-VALUE');
});
afterAll(() => rmSync(secretDir, { recursive: true, force: true }));

async function sample(fields: Record<string, unknown>, extra: Partial<SandboxOptions> = {}) {
  const lines: SandboxLine[] = [];
  const res = await runSandboxed({
    codeDir: SAMPLE, entry: 'index.js', env: { COZY_FIELDS: JSON.stringify(fields) }, timeoutMs: 20_000, memoryMb: 128, outputBytes: 1 << 20,
    onLine: (l) => lines.push(l), ...extra,
  });
  const text = lines.map((l) => JSON.stringify(l.event)).join('\n');
  return { res, lines, text };
}

describe('the sandbox refuses', () => {
  it('to read outside the code and work dirs (the stack data dir)', async () => {
    const { res, text } = await sample({ mode: 'read-data-dir', path: secret });
    expect(res.exitCode).toBe(1);
    expect(crashSummary(res.stderrTail)).toContain('ERR_ACCESS_DENIED');
    expect(text).not.toContain('LEAK');
    expect(text + res.stderrTail).not.toContain('TOP-SECRET');
  });

  it('to write outside the work dir', async () => {
    const target = join(secretDir, 'written.txt');
    const { res } = await sample({ mode: 'write-outside', path: target });
    expect(res.exitCode).toBe(1);
    expect(res.stderrTail).toContain('ERR_ACCESS_DENIED');
    expect(existsSync(target)).toBe(false);
  });

  it('to spawn a child process', async () => {
    const { res, text } = await sample({ mode: 'spawn' });
    expect(res.exitCode).toBe(1);
    expect(res.stderrTail).toContain('ERR_ACCESS_DENIED');
    expect(text).not.toContain('LEAK');
  });

  it('to create a symlink in the work dir (to read through it)', async () => {
    const { res, text } = await sample({ mode: 'symlink', path: secret });
    expect(res.exitCode).toBe(1);
    expect(res.stderrTail).toMatch(/fs\.symlink API requires full fs\.read and fs\.write permissions/);
    expect(text).not.toContain('TOP-SECRET');
  });

  it('to signal its parent (process.kill is removed by the preload)', async () => {
    const { res, text } = await sample({ mode: 'kill-parent' });
    expect(res.exitCode).toBe(1);
    expect(crashSummary(res.stderrTail)).toMatch(/process\.kill is refused in the Hearth sandbox.*ERR_ACCESS_DENIED/);
    expect(text).not.toContain('LEAK');
  });

  it('to run code whose directory holds a symlink leading outside, which the permission model alone would follow', async () => {
    const code = mkdtempSync(join(tmpdir(), 'hearth-code-'));
    try {
      writeFileSync(join(code, 'index.js'), "import fs from 'node:fs'; console.log(fs.readFileSync(new URL('./data/secret.txt', import.meta.url), 'utf8'));");
      symlinkSync(secretDir, join(code, 'data'));
      await expect(runSandboxed({ codeDir: code, entry: 'index.js', env: {}, timeoutMs: 10_000, memoryMb: 64, outputBytes: 4096 })).rejects.toThrow(/symlink that leads outside/);
      // the finding behind that check: with the same flags but no scan, the pre-existing link is followed
      const work = mkdtempSync(join(tmpdir(), 'hearth-work-'));
      const raw = spawnSync(process.execPath, [...sandboxArgs(code, work, 64), join(code, 'index.js')], { cwd: work, env: {}, encoding: 'utf8' });
      rmSync(work, { recursive: true, force: true });
      expect(raw.stdout).toContain('TOP-SECRET-VALUE');
    } finally {
      rmSync(code, { recursive: true, force: true });
    }
  });
});

describe('runSandboxed', () => {
  it('parses NDJSON lines as events and keeps other lines as system lines', async () => {
    const { res, lines } = await sample({ mode: 'plain-lines' });
    expect(res).toMatchObject({ exitCode: 0, timedOut: false, outputExceeded: false, aborted: false });
    expect(lines).toContainEqual({ event: { type: 'info', message: 'a plain line' }, system: true, stream: 'stdout' });
    expect(lines).toContainEqual({ event: { type: 'info', message: 'a line on stderr' }, system: true, stream: 'stderr' });
    expect(lines).toContainEqual({ event: { type: 'warning', message: 'careful' }, system: false, stream: 'stdout' });
  });

  it('passes only the given variables, runs in a fresh work dir and removes it', async () => {
    process.env.HEARTH_TEST_SECRET = 'must-not-leak';
    try {
      const { lines } = await sample({ mode: 'env' });
      const env = lines.find((l) => l.event.message === 'env')?.event as unknown as { keys: string[]; cwd: string };
      expect(env.keys.sort()).toEqual(['COZY_FIELDS', 'HOME', 'LANG', 'PATH', 'TMPDIR']);
      expect(env.cwd).toMatch(/hearth-sandbox-/);
      // the work dir is also HOME and TMPDIR: the only directory a run makes, gone after it (a scan of the system's
      // temporary folder would see the runs of other test files in progress)
      expect(existsSync(env.cwd)).toBe(false);
    } finally {
      delete process.env.HEARTH_TEST_SECRET;
    }
    await expect(runSandboxed({ codeDir: SAMPLE, entry: 'index.js', env: { HEARTH_X: '1' }, timeoutMs: 1000, memoryMb: 64, outputBytes: 1 })).rejects.toThrow(/only COZY_/);
  });

  it('resolves localhost and *.localhost to loopback (Debian\'s resolver does not), keeping the Host, for fetch and node:http', async () => {
    const server = createServer((req, res) => res.end(`host ${String(req.headers.host)}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const urls = [`http://alice.hearth.localhost:${port}/`, `http://localhost:${port}/`, `http://Konn.LOCALHOST.:${port}/`];
      const { res, lines } = await sample({ mode: 'reach', urls });
      expect(res.exitCode, res.stderrTail).toBe(0);
      const reached = lines.filter((l) => l.event.message === 'reached').map((l) => [l.event.fetch, l.event.http]);
      expect(reached).toEqual([
        [`host alice.hearth.localhost:${port}`, `host alice.hearth.localhost:${port}`],
        [`host localhost:${port}`, `host localhost:${port}`],
        [`host konn.localhost.:${port}`, `host konn.localhost.:${port}`],
      ]);
      expect(lines.find((l) => l.event.message === 'resolved')?.event).toMatchObject({
        all: [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }], v6: { address: '::1', family: 6 },
        // any other name goes to the system's resolver, untouched: not found, or a resolver that could not answer in time
        // on a busy or offline machine, never loopback
        other: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN|EAI_FAIL)$/),
      });
    } finally {
      server.close();
    }
  });

  it('refuses an entry outside the code dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hearth-code-'));
    mkdirSync(join(dir, 'code'));
    writeFileSync(join(dir, 'outside.js'), '');
    try {
      await expect(runSandboxed({ codeDir: join(dir, 'code'), entry: '../outside.js', env: {}, timeoutMs: 1000, memoryMb: 64, outputBytes: 1 })).rejects.toThrow(/not inside/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops a process past its timeout, with SIGKILL when it ignores SIGTERM', async () => {
    const { res } = await sample({ mode: 'sleep', stubborn: true }, { timeoutMs: 1000, killGraceMs: 300 });
    expect(res.timedOut).toBe(true);
    expect(res.signal).toBe('SIGKILL');
    expect(res.durationMs).toBeLessThan(15_000);
  });

  it('stops a process that writes too much', async () => {
    const { res, lines } = await sample({ mode: 'spam-output' }, { outputBytes: 256 * 1024 });
    expect(res.outputExceeded).toBe(true);
    expect(res.exitCode).not.toBe(0);
    expect(lines.length).toBeLessThan(10);
  });

  it('kills a process whose Buffers take it over its memory cap (RSS)', async () => {
    const { res, text } = await sample({ mode: 'hog-buffers' }, { memoryMb: 128 });
    expect(text).toMatch(/allocating/);
    expect(res).toMatchObject({ memoryExceeded: true, signal: 'SIGKILL', timedOut: false });
  });

  it('stops a process whose JS heap outgrows its share of the cap', async () => {
    const { res } = await sample({ mode: 'hog-heap' }, { memoryMb: 96 });
    expect(res.exitCode === 0 && res.signal === null).toBe(false);
    expect(res.memoryExceeded || /heap out of memory/i.test(res.stderrTail)).toBe(true);
  });

  it('honours an AbortSignal', async () => {
    const ctl = new AbortController();
    const run = sample({ mode: 'sleep' }, { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 300);
    const { res } = await run;
    expect(res).toMatchObject({ aborted: true, timedOut: false, signal: 'SIGTERM' });
  });

  it('ends a process whose stack is gone (killed with -9): no konnector runs on, orphaned, past its time limit', async () => {
    const code = mkdtempSync(join(tmpdir(), 'hearth-orphan-code-'));
    const work = mkdtempSync(join(tmpdir(), 'hearth-orphan-work-'));
    writeFileSync(join(code, 'index.js'), 'setInterval(() => undefined, 1000);\n');
    // a shell stands for the stack: it starts the sandboxed process, says its pid, and is killed with -9
    const stack = spawn('sh', ['-c', '"$@" & echo $!; wait', 'sh', process.execPath, ...sandboxArgs(code, work, 128), join(code, 'index.js')], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = await new Promise<number>((resolve) => stack.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    /** Running: neither gone nor a zombie (a container's init may not reap it). */
    const running = () => { try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };
    try {
      expect(running()).toBe(true);
      await new Promise((r) => setTimeout(r, 700));
      expect(running()).toBe(true);
      stack.kill('SIGKILL');
      const end = Date.now() + 10_000;
      while (running() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(running()).toBe(false);
    } finally {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      rmSync(code, { recursive: true, force: true });
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('measures the start-up overhead (printed for the benchmarks)', async () => {
    const m = await measureStartupOverhead(5);
    console.log(`sandbox start-up (median of 5): node -e '' ${m.plainMs.toFixed(1)} ms, an empty sandboxed run ${m.sandboxedMs.toFixed(1)} ms`);
    expect(m.plainMs).toBeGreaterThan(0);
    expect(m.sandboxedMs).toBeGreaterThan(0);
  });
});
