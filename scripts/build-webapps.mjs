/**
 * Builds the built-in web apps (webapps/<slug>/) as app packages and publishes them into the built-in local registry.
 *
 * For each app: esbuild bundles src/main.tsx (and every src/*.entry.tsx, for pages of their own such as an intent)
 * for the browser (and every src/*.early.ts as a script of its own, which a page loads before its bundle), with Preact and the shared foundation (webapps/shared); each output is named by its content
 * (`main.<10 hex>.js`, which the stack serves as immutable) and the HTML files of the app folder are rewritten to those
 * names; the manifest, the HTML, icon.svg and assets/ are copied beside. The folder is packed as a .tar.gz with fixed
 * dates, owners and order, so that the same sources give the same bytes (and the same sha256) on every machine.
 * Beside the content-named bundles (not in the package: the code store compresses at install), a brotli (`.br`) and a
 * gzip (`.gz`) copy of each, which the stack sends to the browsers that accept them when `apps.devDirs` serves the
 * built folder. Then each package is published, as `hearth apps publish` does, into a fresh registry folder.
 *
 *   node scripts/build-webapps.mjs [registryDir]     (default dist/registry; npm run build runs it)
 *
 * `buildWebapps` is also what the tests call, with the publish function of the sources.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import tar from 'tar-stream';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const WEBAPPS = join(ROOT, 'webapps');
/** The built-in apps, in the order they are installed. */
export const BUILTIN = ['home', 'drive', 'settings', 'store', 'accounts'];

function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/**
 * Packages of cozy-client's dependency tree replaced in the browser bundles by smaller equivalents (scripts/webapps-shims/):
 * polyfills of what every targeted browser has, and side-channel's chain (qs's cycle detection). About 27 KB of minified
 * JavaScript (9 KB gzip) of the 532 KB each app shipped (bench/RESULTS-webapps-tuning.md).
 */
const SHIMS = {
  'side-channel': join(ROOT, 'scripts', 'webapps-shims', 'side-channel.cjs'),
  jsonify: join(ROOT, 'scripts', 'webapps-shims', 'jsonify.cjs'),
  'url-search-params-polyfill': join(ROOT, 'scripts', 'webapps-shims', 'empty.cjs'),
};

/**
 * cozy-realtime's lodash (isEqual, has, pick, pullAt, remove, uniqWith) resolved to scripts/webapps-shims/lodash-realtime.cjs
 * when cozy-realtime imports it; any other importer (cozy-client) keeps lodash's own modules.
 */
const LODASH_FOR_REALTIME = join(ROOT, 'scripts', 'webapps-shims', 'lodash-realtime.cjs');
export const realtimeLodash = {
  name: 'realtime-lodash',
  setup(b) {
    b.onResolve({ filter: /^lodash\/(isEqual|has|pick|pullAt|remove|uniqWith)$/ }, (args) => (
      /[\\/]node_modules[\\/]cozy-realtime[\\/]/.test(args.importer) ? { path: args.path, namespace: 'realtime-lodash' } : undefined
    ));
    b.onLoad({ filter: /.*/, namespace: 'realtime-lodash' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(LODASH_FOR_REALTIME)}).${args.path.slice('lodash/'.length)};`,
      resolveDir: ROOT,
      loader: 'js',
    }));
  },
};

/**
 * The page's own stylesheet inlined in its HTML (the apps' CSP allows inline styles): one render-blocking request less
 * before the first paint. Left as a link when the CSS holds what the stack's template or the HTML parser would read
 * (`{{`, `</style`).
 */
function inlineStylesheets(html, dir, renames) {
  let out = html;
  for (const [from, to] of renames) {
    if (!to.endsWith('.css')) continue;
    const css = readFileSync(join(dir, to), 'utf8').trim();
    if (css.includes('{{') || /<\/style/i.test(css)) continue;
    out = out.replace(new RegExp(`<link\\b[^>]*\\bhref="${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*>`), (link) => (/rel="stylesheet"/.test(link) ? `<style>${css}</style>` : link));
  }
  return out;
}

/**
 * Names every JavaScript and CSS output by its content (`main.<10 hex>.js`, `chunk.<10 hex>.js`: the stack serves such
 * names as immutable) and points the imports between them at those names. A name is the sha256 of the output as
 * esbuild wrote it, whose chunk imports name their chunks' own content hashes: a change anywhere renames what depends
 * on it. Returns the renames (esbuild's name → the content name) and, per entry, the chunks it imports statically
 * (transitively), to preload beside it.
 */
function contentNames(dir, metafile) {
  const outputs = Object.entries(metafile.outputs).map(([out, meta]) => ({ file: join(ROOT, out), base: relative(dir, join(ROOT, out)).split('\\').join('/'), meta }));
  const renames = new Map();
  for (const o of outputs) {
    const m = /^([^/]+)\.(js|css)$/.exec(o.base);
    if (!m) continue;
    const hash = createHash('sha256').update(readFileSync(o.file)).digest('hex').slice(0, 10);
    renames.set(o.base, `${m[1].replace(/^chunk-.*$/, 'chunk')}.${hash}.${m[2]}`);
  }
  const chunkRefs = [...renames].filter(([from]) => from.startsWith('chunk-'));
  for (const o of outputs) {
    const named = renames.get(o.base);
    if (!named) continue;
    let text = readFileSync(o.file, 'utf8');
    if (named.endsWith('.js')) for (const [from, to] of chunkRefs) text = text.split(`"./${from}"`).join(`"./${to}"`);
    writeFileSync(join(dir, named), text);
    rmSync(o.file);
  }
  const byBase = new Map(outputs.map((o) => [o.base, o]));
  const staticChunks = (base, seen = new Set()) => {
    for (const imp of byBase.get(base)?.meta.imports ?? []) {
      const to = relative(dir, join(ROOT, imp.path)).split('\\').join('/');
      if (imp.kind !== 'import-statement' || seen.has(to) || !renames.has(to)) continue;
      seen.add(to);
      staticChunks(to, seen);
    }
    return seen;
  };
  const preloads = new Map();
  for (const o of outputs) if (o.meta.entryPoint && o.base.endsWith('.js')) preloads.set(o.base, [...staticChunks(o.base)].map((b) => renames.get(b)));
  return { renames, preloads };
}

/**
 * `<script src="main.js" defer>` becomes `<script type="module" src="main.<hash>.js">` (deferred as well), with a
 * `<link rel="modulepreload">` in the head for each chunk it imports, fetched in parallel with it.
 */
function moduleScripts(html, renames, preloads) {
  const links = [];
  const out = html.replace(/<script src="([^"]+\.js)" defer><\/script>/g, (tag, src) => {
    if (!renames.has(src)) return tag;
    links.push(...(preloads.get(src) ?? []).map((c) => `  <link rel="modulepreload" href="${c}">\n`));
    return `<script type="module" src="${src}"></script>`;
  });
  return links.length ? out.replace(/<\/head>/i, `${links.join('')}</head>`) : out;
}

/** A deterministic .tar.gz of `dir` (entries sorted, mtime 0, owner 0, mode 644/755). */
async function pack(dir, tarball) {
  const p = tar.pack();
  const chunks = [];
  p.on('data', (c) => chunks.push(c));
  const ended = new Promise((done, fail) => { p.on('end', done); p.on('error', fail); });
  for (const file of filesUnder(dir)) {
    const name = relative(dir, file).split('\\').join('/');
    p.entry({ name, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' }, readFileSync(file));
  }
  p.finalize();
  await ended;
  writeFileSync(tarball, gzipSync(Buffer.concat(chunks), { level: 9 }));
}

const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/**
 * Writes `<file>.br` and `<file>.gz` beside each of `files`, in libuv's thread pool. Brotli at `brotliQuality`: 11, the
 * smallest, costs about 9 s for Drive's 600 KB bundle on a 2-core machine (9: 0.7 s for 8 % more bytes), so the package
 * build (`npm run build`) asks for it and the tests' builds keep the fast default.
 */
async function precompress(files, brotliQuality) {
  await Promise.all(files.map(async (file) => {
    const raw = readFileSync(file);
    const params = { [zlib.BROTLI_PARAM_QUALITY]: brotliQuality, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT };
    const [br, gz] = await Promise.all([brotliAsync(raw, { params }), gzipAsync(raw, { level: 9 })]);
    writeFileSync(`${file}.br`, br);
    writeFileSync(`${file}.gz`, gz);
  }));
}

/** Bundles and packs one app into `outDir/<slug>/` and `outDir/<slug>-<version>.tar.gz`, its bundles' `.br` and `.gz` beside them. */
export async function buildApp(slug, outDir, { minify = true, brotliQuality = 5 } = {}) {
  const src = join(WEBAPPS, slug);
  const manifest = JSON.parse(readFileSync(join(src, 'manifest.webapp'), 'utf8'));
  if (manifest.slug !== slug) throw new Error(`webapps/${slug}/manifest.webapp names the slug "${manifest.slug}"`);
  const dir = join(outDir, slug);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const entries = readdirSync(join(src, 'src')).filter((f) => f === 'main.tsx' || f.endsWith('.entry.tsx')).map((f) => join(src, 'src', f));
  const common = { outdir: dir, entryNames: '[name]', bundle: true, minify, metafile: true, platform: 'browser', target: ['chrome109', 'firefox115', 'safari15.4'], logLevel: 'error' };
  const result = await build({
    ...common,
    entryPoints: entries,
    // ES modules, so that what the first paint does not need (dialogs, views, cozy-realtime…) is split into chunks
    // loaded by import() when first used; the code shared by the entries and those chunks is a chunk of its own
    format: 'esm',
    splitting: true,
    chunkNames: 'chunk-[hash]',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    alias: { react: 'preact/compat', 'react-dom': 'preact/compat', ...SHIMS },
    plugins: [realtimeLodash],
    define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
    // cozy-client and its dependencies still read `process` here and there (webpack's polyfill gave it to them)
    banner: { js: 'var process = { env: { NODE_ENV: "production" }, browser: true, nextTick: function (f) { Promise.resolve().then(f); } };' },
    loader: { '.svg': 'file', '.png': 'file', '.woff2': 'file' },
    assetNames: 'assets/[name].[hash]',
    legalComments: 'linked',
  });
  // a page's early scripts (src/*.early.ts): each one file of its own with nothing to import (no chunk to wait for),
  // which the page names before its bundle (deferred, it runs first: Drive's first request, first-page.early.ts)
  const earlies = readdirSync(join(src, 'src')).filter((f) => f.endsWith('.early.ts')).map((f) => join(src, 'src', f));
  const early = earlies.length ? await build({ ...common, entryPoints: earlies, format: 'iife', banner: undefined }) : null;
  const { renames, preloads } = contentNames(dir, { outputs: { ...result.metafile.outputs, ...early?.metafile.outputs } });
  const copied = readdirSync(src).filter((f) => f.endsWith('.html') || f === 'icon.svg' || f === 'assets' || f === 'screenshots');
  for (const f of copied) cpSync(join(src, f), join(dir, f), { recursive: true });
  for (const html of readdirSync(dir).filter((f) => f.endsWith('.html'))) {
    let text = readFileSync(join(dir, html), 'utf8');
    text = inlineStylesheets(text, dir, renames);
    text = moduleScripts(text, renames, preloads);
    for (const [from, to] of renames) text = text.split(`"${from}"`).join(`"${to}"`);
    writeFileSync(join(dir, html), text);
  }
  writeFileSync(join(dir, 'manifest.webapp'), JSON.stringify(manifest, null, 2) + '\n');
  const tarball = join(outDir, `${slug}-${manifest.version}.tar.gz`);
  await pack(dir, tarball);
  await precompress([...renames.values()].map((f) => join(dir, f)), brotliQuality);
  const bytes = readFileSync(tarball);
  const gzipOf = (files) => files.reduce((n, f) => n + gzipSync(readFileSync(join(dir, f))).length, 0);
  const jsGzip = gzipOf([...renames.values()].filter((f) => f.endsWith('.js')));
  // what the main page loads before it runs: its entry and the chunks it imports statically
  const mainJs = renames.get('main.js');
  const startJsGzip = mainJs ? gzipOf([mainJs, ...(preloads.get('main.js') ?? [])]) : 0;
  return { slug, version: manifest.version, dir, tarball, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length, jsGzip, startJsGzip, manifest };
}

/**
 * Builds every built-in app (or `slugs`) into `outDir` and publishes them into `registryDir` (emptied first: it holds
 * the built-in apps of this build only). `publish` is src/apps/registry/publish.ts's.
 */
export async function buildWebapps({ outDir, registryDir, publish, slugs = BUILTIN, minify = true, brotliQuality }) {
  mkdirSync(outDir, { recursive: true });
  const apps = [];
  for (const slug of slugs) apps.push(await buildApp(slug, outDir, { minify, brotliQuality }));
  if (registryDir) {
    rmSync(registryDir, { recursive: true, force: true });
    for (const app of apps) await publish(app.tarball, { dir: registryDir, limits: { maxEntries: 5_000, maxUnpackedBytes: 200_000_000 } });
  }
  return { registryDir, apps };
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const registryDir = process.argv[2] ?? join(ROOT, 'dist', 'registry');
  const publishJs = join(ROOT, 'dist', 'apps', 'registry', 'publish.js');
  if (!existsSync(publishJs)) throw new Error('dist/apps/registry/publish.js is missing: run `npm run build` (tsc first)');
  const { publish } = await import(pathToFileURL(publishJs).href);
  const started = Date.now();
  const { apps } = await buildWebapps({ outDir: join(ROOT, 'dist', 'webapps'), registryDir, publish, brotliQuality: 11 });
  for (const a of apps) console.log(`built ${a.slug} ${a.version}: ${(a.bytes / 1024).toFixed(0)} KiB package, ${(a.jsGzip / 1024).toFixed(0)} KiB of JavaScript (gzip)`);
  console.log(`built-in registry: ${registryDir} (${Date.now() - started} ms)`);
  mkdirSync(dirname(registryDir), { recursive: true });
}
