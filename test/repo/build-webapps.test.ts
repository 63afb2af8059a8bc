/**
 * What scripts/build-webapps.mjs does for the apps' load time: each page's stylesheet inlined in its HTML (one
 * render-blocking request less), and cozy-client's polyfill chain replaced by the small equivalents of
 * scripts/webapps-shims/, which still do what qs and json-stable-stringify need from them; the bundles' brotli and gzip
 * copies beside them.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { build } from 'esbuild';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the build script is plain JavaScript (it runs before any compilation)
import { buildApp } from '../../scripts/build-webapps.mjs';

const SHIMS = join(import.meta.dirname, '..', '..', 'scripts', 'webapps-shims');
let out: string;
let app: { dir: string; tarball: string };
beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'hearth-build-webapps-'));
  app = await buildApp('home', out);
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** `require(name)` of a module bundled by esbuild with the shims' aliases, as the apps' bundles see it. */
async function bundled(name: string): Promise<unknown> {
  const r = await build({
    stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: process.cwd() },
    bundle: true, write: false, format: 'cjs', platform: 'browser', logLevel: 'error',
    alias: { 'side-channel': join(SHIMS, 'side-channel.cjs'), jsonify: join(SHIMS, 'jsonify.cjs') },
  });
  const module = { exports: {} as unknown };
  new Function('module', 'exports', r.outputFiles[0]!.text)(module, module.exports);
  return module.exports;
}

describe('the built-in apps build', () => {
  it('inlines the page stylesheet in index.html, the theme templated by the stack ({{.ThemeStyle}}: inline, then a link)', () => {
    const html = readFileSync(join(app.dir, 'index.html'), 'utf8');
    const css = readdirSync(app.dir).find((f) => /^main\.[0-9a-f]{10}\.css$/.test(f))!;
    expect(html).toContain(`<style>${readFileSync(join(app.dir, css), 'utf8').trim()}</style>`);
    expect(html).not.toMatch(/<link[^>]*main\.[0-9a-f]{10}\.css/);
    expect(html).toContain('{{.ThemeStyle}}');
    expect(html).toMatch(/<script type="module" src="main\.[0-9a-f]{10}\.js"><\/script>/);
  });

  it('splits the bundle into content-named ES modules: the page preloads what its script imports, cozy-realtime comes later', () => {
    const html = readFileSync(join(app.dir, 'index.html'), 'utf8');
    const files = readdirSync(app.dir);
    const js = files.filter((f) => /^(main|chunk)\.[0-9a-f]{10}\.js$/.test(f));
    const text = (f: string) => readFileSync(join(app.dir, f), 'utf8');
    // every import between the outputs names an output by its content name; esbuild's own names are gone
    const imported = new Set(js.flatMap((f) => [...text(f).matchAll(/["']\.\/([^"']+\.js)["']/g)].map((m) => m[1]!)));
    expect(imported.size).toBeGreaterThan(0);
    for (const f of imported) expect(js).toContain(f);
    expect(js.some((f) => /["']\.\/chunk-[A-Z0-9]+\.js["']/.test(text(f)))).toBe(false);
    // the page's script and the chunks it imports statically (preloaded, in parallel with it)
    const main = /<script type="module" src="(main\.[0-9a-f]{10}\.js)">/.exec(html)![1]!;
    const preloaded = [...html.matchAll(/<link rel="modulepreload" href="(chunk\.[0-9a-f]{10}\.js)">/g)].map((m) => m[1]!);
    const staticImports = (f: string): string[] => [...text(f).matchAll(/(?:^|[;}\s])import\s*(?:[\w$*{},\s]+from\s*)?["']\.\/([^"']+)["']/g)].map((m) => m[1]!);
    const graph = new Set<string>();
    const walk = (f: string) => { for (const c of staticImports(f)) if (!graph.has(c)) { graph.add(c); walk(c); } };
    walk(main);
    expect(new Set(preloaded)).toEqual(graph);
    const atStart = [main, ...graph].map(text).join('\n');
    expect(atStart).not.toContain('cozy-realtime');
    expect(js.map(text).join('\n')).toContain('cozy-realtime');
  });

  it('writes a brotli and a gzip copy beside each content-named bundle, and leaves them out of the package', async () => {
    const bundles = readdirSync(app.dir).filter((f) => /^main\.[0-9a-f]{10}\.(js|css)$/.test(f));
    expect(bundles).toHaveLength(2);
    for (const f of bundles) {
      const raw = readFileSync(join(app.dir, f));
      const br = readFileSync(join(app.dir, `${f}.br`));
      const gz = readFileSync(join(app.dir, `${f}.gz`));
      expect(brotliDecompressSync(br).equals(raw)).toBe(true);
      expect(gunzipSync(gz).equals(raw)).toBe(true);
      expect(br.length).toBeLessThan(raw.length / 2);
    }
    const names: string[] = [];
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => { names.push(header.name); stream.resume(); stream.on('end', next); });
    await new Promise<void>((done, fail) => { extract.on('finish', done); extract.on('error', fail); extract.end(gunzipSync(readFileSync(app.tarball))); });
    expect(names).toEqual(expect.arrayContaining(bundles));
    expect(names.filter((n) => n.endsWith('.br') || n.endsWith('.gz'))).toEqual([]);
  });

  it('leaves object-inspect, jsonify and the URLSearchParams polyfill out of the bundle', () => {
    const js = readdirSync(app.dir).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(app.dir, f), 'utf8')).join('\n');
    const has = (marker: string) => js.includes(marker);
    expect(has('cozy-realtime')).toBe(true); // the bundle is cozy-client's
    expect(has('[Circular]')).toBe(false); // object-inspect
    expect(has('Bad string')).toBe(false); // jsonify
    expect(has('__URLSearchParams__')).toBe(false); // url-search-params-polyfill
  });

  it('keeps qs working with the side-channel shim, cycles refused as before', async () => {
    const qs = await bundled('qs') as { stringify(o: unknown, opts?: unknown): string };
    expect(qs.stringify({ a: { b: [1, 2] }, c: 'x y' }, { encode: false })).toBe('a[b][0]=1&a[b][1]=2&c=x y');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => qs.stringify(cyclic)).toThrow(RangeError);
  });

  it('keeps json-stable-stringify working with JSON as jsonify', async () => {
    const stable = await bundled('json-stable-stringify') as (o: unknown) => string;
    expect(stable({ b: 'é"', a: [1, { d: null, c: true }] })).toBe('{"a":[1,{"c":true,"d":null}],"b":"é\\""}');
  });
});
