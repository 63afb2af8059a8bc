/**
 * What the built-in apps ship: per app, the JavaScript and CSS of its build (gzip and raw), and what the shared pieces
 * cost on their own (each bundled alone as the build does, minified, gzip): cozy-client's core, cozy-realtime,
 * Preact with its hooks.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { ROOT } from './lib.js';

export interface BundleSizes { slug: string; jsGzip: number; jsBytes: number; cssGzip: number; cssBytes: number }

export function bundleSizes(slug: string, dir: string): BundleSizes {
  const s: BundleSizes = { slug, jsGzip: 0, jsBytes: 0, cssGzip: 0, cssBytes: 0 };
  for (const f of readdirSync(dir)) {
    const kind = /\.[0-9a-f]{10}\.(js|css)$/.exec(f)?.[1];
    if (!kind) continue;
    const bytes = readFileSync(join(dir, f));
    if (kind === 'js') { s.jsBytes += bytes.length; s.jsGzip += gzipSync(bytes).length; } else { s.cssBytes += bytes.length; s.cssGzip += gzipSync(bytes).length; }
  }
  return s;
}

export const PIECES: Record<string, string> = {
  'cozy-client core (CozyClient + the query DSL)': "import CozyClient from 'cozy-client/dist/CozyClient'; import { Q } from 'cozy-client/dist/queries/dsl'; console.log(CozyClient, Q);",
  'cozy-realtime (RealtimePlugin)': "import { RealtimePlugin } from 'cozy-realtime'; console.log(RealtimePlugin);",
  'Preact + hooks': "import { render, h } from 'preact'; import { useState } from 'preact/hooks'; console.log(render, h, useState);",
};

/** Each piece bundled alone (minified, for the browser), gzip bytes. */
export async function pieceSizes(): Promise<Record<string, { bytes: number; gzip: number }>> {
  // inside the repository, so that the packages resolve from its node_modules
  mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'bench-pieces-'));
  try {
    const out: Record<string, { bytes: number; gzip: number }> = {};
    for (const [name, code] of Object.entries(PIECES)) {
      const entry = join(dir, 'entry.js');
      writeFileSync(entry, code);
      const r = await build({
        entryPoints: [entry], bundle: true, minify: true, write: false, platform: 'browser', format: 'iife', target: ['chrome109', 'firefox115', 'safari15.4'],
        define: { 'process.env.NODE_ENV': '"production"', global: 'window' }, logLevel: 'error',
      });
      const js = Buffer.from(r.outputFiles[0]!.contents);
      out[name] = { bytes: js.length, gzip: gzipSync(js).length };
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
