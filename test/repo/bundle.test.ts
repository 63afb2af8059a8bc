/**
 * The bundle bin/hearth.js runs (scripts/bundle.mjs): what it loads at start. A package left out of the bundle is loaded
 * when the bundle starts if any module imports it statically, even a module that is itself loaded on first use; so the
 * packages of rare requests and of the scale-out engines must be imported dynamically or required on first use
 * (src/common/lazy-libs.ts), and only the native addons that every start needs may be imported statically.
 * Checked on the bundle's ES module form (an outfile ending in .js): the CommonJS one that bin/hearth.js runs
 * (hearth.cjs) requires a package where the module importing it is first evaluated, which is never earlier.
 */
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the bundle script is plain JavaScript (it runs after the compilation)
import { bundleOptions } from '../../scripts/bundle.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
let output: Metafile['outputs'][string];
beforeAll(async () => {
  // the sources themselves (esbuild reads TypeScript): the same modules as dist/main.js, without a compilation first
  const options = (bundleOptions as (entry: string, outfile: string) => object)(join(ROOT, 'src', 'main.ts'), join(ROOT, 'dist', 'bundle-test', 'hearth.js'));
  const result = await build({ ...options, write: false, metafile: true });
  output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)!;
}, 120_000);

describe('the bundled CLI', () => {
  it('imports at start only Node\'s own modules and the native addons every start needs', () => {
    const atStart = output.imports.filter((i) => i.kind === 'import-statement' && i.external && !i.path.startsWith('node:'));
    // a few CommonJS packages name Node's modules without the prefix
    const builtins = new Set(['crypto']);
    expect([...new Set(atStart.map((i) => i.path).filter((p) => !builtins.has(p)))].sort()).toEqual(['@node-rs/argon2', 'better-sqlite3']);
  });

  it('leaves the mail library and the scale-out engines\' clients to their first use, out of the start-up\'s code', () => {
    const dynamic = output.imports.filter((i) => i.kind === 'dynamic-import' && i.external).map((i) => i.path);
    expect(dynamic).toEqual(expect.arrayContaining(['nodemailer', 'sharp', '@fastify/swagger']));
    const packages = new Set(Object.keys(output.inputs).map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(f)?.[1]).filter(Boolean));
    expect(packages).toContain('fastify'); // the probe sees the bundled packages
    expect([...packages].filter((p) => /^(pg|pg-.*|ioredis|nodemailer|@aws-sdk\/.*|@smithy\/.*)$/.test(p!))).toEqual([]);
  });
});
