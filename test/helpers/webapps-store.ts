/**
 * The Store's test registry: a local folder registry (src/apps/registry/local.ts) into which the test publishes
 * fixture apps and konnectors (packages built with tar-stream, published by src/apps/registry/publish.ts, as
 * `hearth apps publish` does), given to `startWithWebapps({config: {apps: {registries}}})`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { publish } from '../../src/apps/registry/publish.js';
import { makeTarball } from './app-tarball.js';
import { png } from './images.js';

export const FIXTURE_ICON = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="10" fill="#0a7"/></svg>';

export interface StoreRegistry {
  dir: string;
  /** `file:///…/` for apps.registries. */
  url: string;
  /** Publishes a version: the manifest (its `type` says web app or konnector) with an icon, a page or a script, and its screenshots as real PNGs. */
  publish(manifest: Record<string, unknown>, files?: Record<string, string | Buffer>): Promise<void>;
}

export function storeRegistry(): StoreRegistry {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-store-registry-'));
  let n = 0;
  return {
    dir,
    url: pathToFileURL(dir).href + '/',
    async publish(manifest, files = {}) {
      const konnector = manifest.type === 'konnector';
      const entries: Record<string, string | Buffer> = {
        [konnector ? 'manifest.konnector' : 'manifest.webapp']: JSON.stringify({ icon: 'icon.svg', ...manifest }),
        'icon.svg': FIXTURE_ICON,
        ...(konnector ? { 'index.js': 'module.exports = {}\n' } : { 'index.html': `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${String(manifest.name)}</title></head><body><h1>${String(manifest.name)} works</h1></body></html>` }),
        ...files,
      };
      for (const s of Array.isArray(manifest.screenshots) ? (manifest.screenshots as string[]) : []) entries[s] ??= await png(640, 400);
      const tarball = join(dir, `.pkg-${n++}.tar.gz`);
      await makeTarball(tarball, Object.entries(entries).map(([name, body]) => ({ name, body })));
      await publish(tarball, { dir, limits: { maxEntries: 100, maxUnpackedBytes: 10_000_000 } });
    },
  };
}

/** A web app that starts cozy's INSTALL intent (`window.installByIntent(slug)`, test/fixtures/store-client), bundled for the browser and published. */
export async function publishIntentClient(reg: StoreRegistry): Promise<void> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('../fixtures/store-client/main.js', import.meta.url))],
    bundle: true, write: false, minify: true, platform: 'browser', target: 'chrome110', format: 'iife',
    define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
    banner: { js: 'var process = { env: { NODE_ENV: "production" }, browser: true, nextTick: function (f) { Promise.resolve().then(f); } };' },
    logLevel: 'error',
  });
  const html = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Asker</title></head><body><div role="application" data-cozy="{{.CozyData}}">'
    + '<h1>Asker</h1><p>Status: <output id="status">loading</output></p><div id="intent" style="height:600px"></div></div><script src="asker.js"></script></body></html>';
  await reg.publish({ slug: 'asker', type: 'webapp', name: 'Asker', version: '1.0.0', permissions: {} }, { 'index.html': html, 'asker.js': out.outputFiles[0]!.text });
}
