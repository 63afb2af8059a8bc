/**
 * The README's shell examples, run as written against a fresh `hearth serve --dev` (built from this checkout, on
 * private ports and a private data directory), so that the README cannot drift from what Hearth does.
 * Each ```sh block runs alone in bash (`set -euo pipefail`, curl with --fail-with-body: an HTTP error fails it);
 * the only changes made to its text are the ports (8080 and 6060 become the test's). A block preceded by
 * `<!-- not run by the README test: <why> -->` is left out, with its reason. curl resolves *.localhost itself.
 * The ```js block (PouchDB) runs in Node with the ports changed likewise and a check appended (the live sync
 * carries a document each way); its `pouchdb` is PouchDB's core with the http, memory and replication plugins
 * (the devDependencies), since the full `pouchdb` package brings native LevelDB bindings.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDebianPackage } from '../helpers/debian.js';
import { freePort } from '../helpers/ports.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SKIP = /<!-- not run by the README test: (.+?) -->\s*$/;

interface Block { line: number; code: string; skip: string | null }

/** The ```sh (or ```js…) blocks of the README, with the line they start on and their skip reason, if any. */
export function shellBlocks(markdown: string, lang = 'sh'): Block[] {
  const blocks: Block[] = [];
  const re = new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\`$`, 'gm');
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) {
    const before = markdown.slice(0, m.index);
    blocks.push({ line: before.split('\n').length, code: m[1] as string, skip: SKIP.exec(before)?.[1] ?? null });
  }
  return blocks;
}

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = shellBlocks(README);
let server: ChildProcess;
let work: string;
let env: Record<string, string>;
let port: number;
let adminPort: number;

beforeAll(async () => {
  ensureDebianPackage('rclone');
  // the examples run `node bin/hearth.js`: build what changed as `npm start` does (quick when nothing did)
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`the build failed:\n${build.stdout}${build.stderr}`);
  work = mkdtempSync(join(tmpdir(), 'hearth-readme-'));
  symlinkSync(join(ROOT, 'bin'), join(work, 'bin'));
  // what the examples read: a PDF, a photo, a folder to sync
  writeFileSync(join(work, 'bill.pdf'), `%PDF-1.4\n${'an invoice '.repeat(50)}\n%%EOF\n`);
  await sharp({ create: { width: 64, height: 48, channels: 3, background: '#0f766e' } }).jpeg().toFile(join(work, 'me.jpg'));
  mkdirSync(join(work, 'home', 'Documents'), { recursive: true });
  writeFileSync(join(work, 'home', 'Documents', 'notes.txt'), 'synced by rclone\n');
  [port, adminPort] = [await freePort(), await freePort()];
  env = { PATH: process.env.PATH as string, HOME: join(work, 'home'), LANG: 'C.UTF-8', HEARTH_ADMIN_PASSPHRASE: 'readme-admin-secret', HEARTH_ADMIN_PORT: String(adminPort), HEARTH_DATA_DIR: 'data' };
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

/** A README example with the test's ports instead of 6060 and 8080. */
const withPorts = (code: string) => code.replaceAll('127.0.0.1:6060', `127.0.0.1:${adminPort}`).replaceAll(':8080', `:${port}`);

/** Runs one block in bash, in the work directory, with the test's ports; resolves with its exit code and output. */
function runBlock(code: string): Promise<{ status: number | null; output: string }> {
  const script = ['set -euo pipefail', 'curl() { command curl --fail-with-body --max-time 30 "$@"; }', withPorts(code)].join('\n');
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

  it('runs the compiled CLI bundled in one file (scripts/bundle.mjs), which the examples use through bin/hearth.js', () => {
    const [bundled, compiled] = [join(ROOT, 'dist', 'bundle', 'hearth.cjs'), join(ROOT, 'dist', '.tsbuildinfo')];
    expect(statSync(bundled).mtimeMs).toBeGreaterThanOrEqual(statSync(compiled).mtimeMs); // bin/hearth.js's freshness check
    const source = readFileSync(bundled, 'utf8');
    expect(source).toMatch(/function addServeCommand/);
    // a script compiled by vm.Script cannot import() (src/server/bundle-loader.ts): the packages left out are required
    expect(source).not.toMatch(/[^\w$.]import\(/);
    // the server started above, once listening, left V8's code cache for this bundle beside it (server/bundle-loader.ts)
    const st = statSync(bundled);
    expect(readFileSync(`${bundled}.cache`, 'latin1').split('\n')[0]).toBe(`hearth-code-cache v2 ${st.size} ${st.mtimeMs} ${st.ino}`);
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

/** What the test appends to the README's PouchDB example: it waits until the live sync carried a document each way, then ends. */
const POUCH_CHECK = `
await local.put({ _id: 'readme-pouch-local', fullname: 'From PouchDB' });
const has = (db, id) => db.get(id).then(() => true, () => false);
for (let i = 0; !((await has(local, 'readme-pouch-server')) && (await has(remote, 'readme-pouch-local'))); i++) {
  if (i === 300) throw new Error('the live sync did not carry the documents within 30 s');
  await new Promise((r) => setTimeout(r, 100));
}
console.log('synced both ways');
process.exit(0);
`;

describe('README PouchDB example', () => {
  it('syncs the local database with the instance, live, both ways', async () => {
    const js = shellBlocks(README, 'js');
    expect(js.map((b) => b.code)).toEqual([expect.stringContaining("import PouchDB from 'pouchdb';")]);
    // `pouchdb` for the example: PouchDB's core and the plugins this repository has (test/helpers/pouch.ts has the same)
    const shim = join(work, 'node_modules', 'pouchdb');
    mkdirSync(shim, { recursive: true });
    writeFileSync(join(shim, 'package.json'), JSON.stringify({ name: 'pouchdb', type: 'module', main: 'index.js' }));
    writeFileSync(join(shim, 'index.js'), [
      "import { createRequire } from 'node:module';",
      `const require = createRequire(${JSON.stringify(join(ROOT, 'package.json'))});`,
      "export default require('pouchdb-core').plugin(require('pouchdb-adapter-http')).plugin(require('pouchdb-adapter-memory')).plugin(require('pouchdb-replication'));",
    ].join('\n'));
    writeFileSync(join(work, 'pouch-example.mjs'), withPorts(js[0]!.code) + POUCH_CHECK);
    const { status, output } = await runBlock([
      'TOKEN=$(node bin/hearth.js instances token-cli hearth.localhost:8080 io.cozy.contacts)',
      `curl -s -X PUT -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"fullname":"From the server"}' http://hearth.localhost:8080/data/io.cozy.contacts/readme-pouch-server`,
      'TOKEN=$TOKEN node pouch-example.mjs',
    ].join('\n'));
    expect(status, output).toBe(0);
    expect(output).toContain('synced both ways');
  }, 120_000);
});
