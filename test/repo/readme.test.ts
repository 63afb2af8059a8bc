/**
 * The README's shell examples, run as written against a fresh `hearth serve --dev` (built from this checkout, on
 * private ports and a private data directory), so that the README cannot drift from what Hearth does.
 * Each ```sh block runs alone in bash (`set -euo pipefail`, curl with --fail-with-body: an HTTP error fails it);
 * the only changes made to its text are the ports (8080 and 6060 become the test's). A block preceded by
 * `<!-- not run by the README test: <why> -->` is left out, with its reason. curl resolves *.localhost itself.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackage } from '../helpers/debian.js';
import { freePort } from '../helpers/ports.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SKIP = /<!-- not run by the README test: (.+?) -->\s*$/;

interface Block { line: number; code: string; skip: string | null }

/** The ```sh blocks of the README, with the line they start on and their skip reason, if any. */
export function shellBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const re = /^```sh\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    const before = markdown.slice(0, m.index);
    blocks.push({ line: before.split('\n').length, code: m[1] as string, skip: SKIP.exec(before)?.[1] ?? null });
  }
  return blocks;
}

const blocks = shellBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
let server: ChildProcess;
let work: string;
let env: Record<string, string>;
let port: number;
let adminPort: number;

beforeAll(async () => {
  ensureDebianPackage('rclone');
  // the examples run `node bin/hearth.js`: build what changed (tsc -b is quick when nothing did)
  const build = spawnSync('npx', ['tsc', '-b', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`the build failed:\n${build.stdout}${build.stderr}`);
  work = mkdtempSync(join(tmpdir(), 'hearth-readme-'));
  symlinkSync(join(ROOT, 'bin'), join(work, 'bin'));
  // what the examples read: a PDF, a photo, a folder to sync
  writeFileSync(join(work, 'bill.pdf'), `%PDF-1.4\n${'an invoice '.repeat(50)}\n%%EOF\n`);
  await sharp({ create: { width: 64, height: 48, channels: 3, background: '#0f766e' } }).jpeg().toFile(join(work, 'me.jpg'));
  mkdirSync(join(work, 'home', 'Documents'), { recursive: true });
  writeFileSync(join(work, 'home', 'Documents', 'notes.txt'), 'synced by rclone\n');
  [port, adminPort] = [await freePort(), await freePort()];
  env = { PATH: process.env.PATH as string, HOME: join(work, 'home'), LANG: 'C.UTF-8', HEARTH_ADMIN_PASSPHRASE: 'readme-admin-secret', HEARTH_ADMIN_PORT: String(adminPort) };
  server = spawn(process.execPath, [join(ROOT, 'bin/hearth.js'), 'serve', '--dev', '--port', String(port), '--data-dir', join(work, 'data')], {
    cwd: work, env: { ...env, HEARTH_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((ok, fail) => {
    const onData = (chunk: Buffer) => {
      output += String(chunk);
      if (output.includes('hearth is listening on')) ok();
    };
    server.stdout?.on('data', onData);
    server.stderr?.on('data', (c: Buffer) => (output += String(c)));
    server.once('exit', (code) => fail(new Error(`hearth serve exited with ${code}:\n${output}`)));
  });
}, 180_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((ok) => server.once('exit', ok));
    server.kill('SIGTERM');
    await exited;
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs one block in bash, in the work directory, with the test's ports; resolves with its exit code and output. */
function runBlock(code: string): Promise<{ status: number | null; output: string }> {
  const script = [
    'set -euo pipefail',
    'curl() { command curl --fail-with-body --max-time 30 "$@"; }',
    code.replaceAll('127.0.0.1:6060', `127.0.0.1:${adminPort}`).replaceAll(':8080', `:${port}`),
  ].join('\n');
  return new Promise((ok) => {
    const child = spawn('bash', ['-c', script], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += String(c)));
    child.stderr.on('data', (c: Buffer) => (output += String(c)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', (status) => {
      clearTimeout(timer);
      ok({ status, output });
    });
  });
}

describe('npm start', () => {
  it('does not rebuild when nothing changed (the build above is up to date)', () => {
    const again = spawnSync('npm', ['run', 'build', '--', '--verbose'], { cwd: ROOT, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/Project 'tsconfig\.build\.json' is up to date/);
  });
});

describe('README shell examples', () => {
  it('are found, and every one left out says why', () => {
    expect(blocks.length).toBeGreaterThan(10);
    for (const b of blocks.filter((x) => x.skip !== null)) expect(b.skip?.length, `README.md:${b.line}`).toBeGreaterThan(10);
  });

  for (const block of blocks) {
    const title = `README.md:${block.line}: ${block.code.split('\n')[0]?.slice(0, 70)}`;
    if (block.skip !== null) continue;
    it(title, async () => {
      const { status, output } = await runBlock(block.code);
      expect(status, `${title}\n--- output ---\n${output}`).toBe(0);
    }, 120_000);
  }
});
