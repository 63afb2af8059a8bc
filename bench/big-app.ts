/** The 5 MB web app of the install benchmarks (apps-code.bench.ts, apps-install.bench.ts), `bigapp`. */
import { randomBytes } from 'node:crypto';
import type { TarEntry } from '../test/helpers/app-tarball.js';

/** About 5 MB unpacked: minified-looking JS chunks (pseudo-random identifiers), a CSS, an index, and images. */
export function bigAppEntries(manifest: Record<string, unknown> = {}): TarEntry[] {
  const words = Array.from({ length: 2000 }, () => randomBytes(6).toString('base64url').replace(/[^a-z]/gi, 'x'));
  let seed = 1;
  const word = () => words[(seed = (seed * 16807) % 2147483647) % words.length];
  const js = (bytes: number) => {
    const parts: string[] = [];
    let n = 0;
    while (n < bytes) {
      const s = `function ${word()}(${word()},${word()}){return ${word()}.${word()}(${word()})+${seed % 97}};`;
      parts.push(s);
      n += s.length;
    }
    return parts.join('');
  };
  const entries: TarEntry[] = [
    { name: 'manifest.webapp', body: JSON.stringify({ slug: 'bigapp', name: 'Big app', version: '1.0.0', type: 'webapp', permissions: { files: { type: 'io.cozy.files' } }, ...manifest }) },
    { name: 'index.html', body: '<!DOCTYPE html><html><head>{{.CozyBar}}</head><body data-cozy="{{.CozyData}}"></body></html>' },
    { name: 'app.css', body: js(100_000) },
  ];
  for (let i = 0; i < 40; i++) entries.push({ name: `js/chunk.${i}.${randomBytes(6).toString('hex')}.js`, body: js(90_000) });
  for (let i = 0; i < 30; i++) entries.push({ name: `img/${i}.png`, body: randomBytes(40_000) });
  return entries;
}
