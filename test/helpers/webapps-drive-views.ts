/**
 * What the tests of Drive's views need besides test/helpers/webapps.ts: files uploaded as raw bodies on the
 * instance, small real files of each kind a preview shows (a one-page PDF, a WAV tone), and the fixture app
 * e2e-files-client (which starts a PICK intent on io.cozy.files) built, packed and published into a folder registry.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { DEFAULTS } from '../../src/config/schema.js';
import { publish } from '../../src/apps/registry/publish.js';
import { rawRequest } from './hearth.js';
import type { WebappsHearth } from './webapps.js';

export const ROOT_DIR = 'io.cozy.files.root-dir';

async function created(res: Promise<{ status: number; text: string; body?: { data: { id: string; attributes: Record<string, unknown> } } }>): Promise<{ id: string; attributes: Record<string, unknown> }> {
  const r = await res;
  if (r.status !== 201 || !r.body) throw new Error(`expected 201, got ${r.status}: ${r.text}`);
  return r.body.data;
}

export function mkdirOn(w: WebappsHearth, token: string, parent: string, name: string): Promise<{ id: string; attributes: Record<string, unknown> }> {
  return created(w.api('POST', `/files/${parent}?Type=directory&Name=${encodeURIComponent(name)}`, token));
}

export function uploadOn(w: WebappsHearth, token: string, parent: string, name: string, content: string | Buffer, mime?: string): Promise<{ id: string; attributes: Record<string, unknown> }> {
  return created(rawRequest(w.h.port, 'POST', `/files/${parent}?Type=file&Name=${encodeURIComponent(name)}`, { host: w.domain, token, raw: content, headers: mime ? { 'content-type': mime } : {} }));
}

/** A valid one-page PDF with `text` on it (the cross-reference table's offsets computed). */
export function onePagePdf(text: string): Buffer {
  const stream = `BT /F1 24 Tf 72 720 Td (${text.replace(/[()\\]/g, '')}) Tj ET`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let out = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((n) => `${String(n).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** `seconds` of a 440 Hz tone as a 8 kHz mono 16-bit WAV. */
export function wavTone(seconds: number): Buffer {
  const rate = 8000;
  const n = rate * seconds;
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0); h.writeUInt32LE(36 + data.length, 4); h.write('WAVE', 8); h.write('fmt ', 12);
  h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** e2e-files-client built (esbuild), packed (tar) and published into `dir`/registry: the registry's file:// URL. */
export async function filesClientRegistry(dir: string): Promise<string> {
  const src = fileURLToPath(new URL('../fixtures/apps/e2e-files-client/', import.meta.url));
  const app = join(dir, 'e2e-files-client');
  mkdirSync(app, { recursive: true });
  await build({
    entryPoints: [join(src, 'main.js')], outfile: join(app, 'client.js'), bundle: true, minify: true, platform: 'browser', target: 'chrome110', format: 'iife',
    define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
    banner: { js: 'var process = { env: { NODE_ENV: "production" }, browser: true, nextTick: function (f) { Promise.resolve().then(f); } };' },
    logLevel: 'error',
  });
  for (const f of ['index.html', 'icon.svg', 'manifest.webapp']) cpSync(join(src, f), join(app, f));
  const tarball = join(dir, 'e2e-files-client.tar.gz');
  execFileSync('tar', ['-czf', tarball, '-C', app, '.']);
  const registry = join(dir, 'registry');
  await publish(tarball, { dir: registry, limits: { maxEntries: DEFAULTS.apps.maxEntries, maxUnpackedBytes: DEFAULTS.apps.maxUnpackedBytes } });
  return pathToFileURL(registry).href;
}

/** A new content for a file (PUT /files/:id): its previous content becomes an old version. */
export async function overwriteOn(w: WebappsHearth, token: string, id: string, content: string | Buffer): Promise<void> {
  const r = await rawRequest(w.h.port, 'PUT', `/files/${id}`, { host: w.domain, token, raw: content });
  if (r.status !== 200) throw new Error(`expected 200, got ${r.status}: ${r.text}`);
}
