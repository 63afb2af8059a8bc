import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'hearth-bundle-loader-'));
const main = join(dir, 'main.mjs');
// the fixture in plain JavaScript: each process starts in ~50 ms, not the ~700 of tsx
beforeAll(() => build({ entryPoints: ['test/fixtures/bundle-loader-main.ts'], outfile: main, bundle: true, platform: 'node', format: 'esm', logLevel: 'error' }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A bundle with enough functions for a cache worth the name, answering `answer` with CommonJS's own variables. */
const bundle = (answer: string) => [
  '(function (exports, require, module, __filename, __dirname) {', // as scripts/bundle.mjs writes it
  "require('node:zlib');",
  ...Array.from({ length: 200 }, (_, i) => `function f${i}(x) { return x + ${i}; }`),
  `exports.run = () => ({ answer: ${JSON.stringify(answer)}, sum: [${Array.from({ length: 200 }, (_, i) => `f${i}(1)`).join(', ')}].reduce((a, b) => a + b),`,
  "  file: require('node:path').basename(__filename), dir: __dirname, same: module.exports === exports });",
  '})',
].join('\n');

const run = (file: string, flag?: string) => JSON.parse(execFileSync(process.execPath, [main, file, ...(flag ? [flag] : [])], { encoding: 'utf8' })) as
  { cache: string; preloaded: boolean; result: { answer: string; sum: number; file: string; dir: string; same: boolean }; saved: boolean };

describe('the bundle loader (bin/hearth.js)', () => {
  it("runs a CommonJS bundle with its own require, module and file names, and keeps V8's code for the next process", () => {
    const file = join(dir, 'a', 'hearth.cjs');
    mkdirSync(join(dir, 'a'));
    writeFileSync(file, bundle('first'));
    const first = run(file);
    expect(first).toEqual({ cache: 'none', preloaded: false, saved: true, result: { answer: 'first', sum: 200 + 199 * 100, file: 'hearth.cjs', dir: join(dir, 'a'), same: true } });
    const [stamp, builtins] = readFileSync(`${file}.cache`, 'latin1').split('\n');
    expect(stamp).toBe(`hearth-code-cache v2 ${statSync(file).size} ${statSync(file).mtimeMs} ${statSync(file).ino}`);
    expect(JSON.parse(builtins!)).toContain('zlib');
    // the next process compiles nothing V8 already had: the cache is used, nothing is written again, and the Node modules
    // the bundle loads at start were loaded before the V8 flags changed (Node's own code cache is refused after)
    expect(run(file)).toEqual({ ...first, cache: 'accepted', preloaded: true, saved: false });
    expect(readdirSync(join(dir, 'a')).sort()).toEqual(['hearth.cjs', 'hearth.cjs.cache']);
  }, 15_000);

  it('never runs the code of another bundle: a rebuilt one of the same length is compiled from its source, and its cache written', () => {
    const file = join(dir, 'b', 'hearth.cjs');
    mkdirSync(join(dir, 'b'));
    writeFileSync(file, bundle('old'));
    expect(run(file).cache).toBe('none');
    // V8's own check compares the source's length only: the same length, other code, as a rebuild writes it
    writeFileSync(`${file}.new`, bundle('new'));
    renameSync(`${file}.new`, file);
    expect(run(file)).toMatchObject({ cache: 'stale', saved: true, result: { answer: 'new' } });
    expect(run(file)).toMatchObject({ cache: 'accepted', saved: false, result: { answer: 'new' } });
  }, 15_000);

  it("writes the cache again when V8 refuses it (other V8 flags), and starts without one where it cannot write", () => {
    const file = join(dir, 'c', 'hearth.cjs');
    mkdirSync(join(dir, 'c'));
    writeFileSync(file, bundle('c'));
    expect(run(file).cache).toBe('none');
    expect(run(file, '--no-turbofan')).toMatchObject({ cache: 'rejected', saved: true, result: { answer: 'c' } });
    expect(run(file, '--no-turbofan').cache).toBe('accepted');
    // a cache that cannot be written (here a directory in its place): the bundle runs, no temporary file is left
    const other = join(dir, 'd', 'hearth.cjs');
    mkdirSync(`${other}.cache`, { recursive: true });
    writeFileSync(other, bundle('d'));
    expect(run(other)).toMatchObject({ cache: 'none', saved: false, result: { answer: 'd' } });
    expect(readdirSync(join(dir, 'd')).sort()).toEqual(['hearth.cjs', 'hearth.cjs.cache']);
  }, 15_000);
  it('runs from the source when the cache file is damaged (its list of modules, or V8\'s data cut short), and writes it again', () => {
    const file = join(dir, 'e', 'hearth.cjs');
    mkdirSync(join(dir, 'e'));
    writeFileSync(file, bundle('e'));
    expect(run(file).cache).toBe('none');
    const [stamp, , ...rest] = readFileSync(`${file}.cache`, 'latin1').split('\n');
    writeFileSync(`${file}.cache`, [stamp, '["zlib", {oops', ...rest].join('\n'), 'latin1');
    expect(run(file)).toMatchObject({ cache: 'stale', saved: true, result: { answer: 'e' } });
    const whole = readFileSync(`${file}.cache`);
    writeFileSync(`${file}.cache`, whole.subarray(0, whole.length - Math.floor(whole.length / 3)));
    expect(run(file)).toMatchObject({ cache: 'rejected', saved: true, result: { answer: 'e' } });
    expect(run(file).cache).toBe('accepted');
  }, 15_000);
});
