/**
 * Serves app packages (tarballs built in the test with tar-stream) from a local HTTP server, for the installer's
 * tests; it also answers the version routes of cozy's registry API (`/registry/<slug>/<channel>/latest`,
 * `/registry/<slug>/<version>`) for the versions `publish` added, so it can be an `apps.registries` entry.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTarball, type TarEntry } from './app-tarball.js';

export interface PackageServer {
  /** Writes `<name>.tar.gz` with these files (a manifest is a JSON-able object) and returns its URL. */
  add(name: string, files: Record<string, string | object>): Promise<string>;
  /** Adds a version to the registry this server also is (the latest published is the stable channel's latest). */
  publish(files: Record<string, string | object>): Promise<void>;
  /** The registry's base URL (for apps.registries). */
  url: string;
  /** Requests not answered yet are held while this is set (to see an install in its `installing` state). */
  hold: Promise<void> | null;
  dir: string;
  close(): Promise<void>;
}

export async function startPackageServer(): Promise<PackageServer> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-packages-'));
  const versions = new Map<string, Array<Record<string, unknown>>>();
  const s: PackageServer = {
    dir,
    hold: null,
    url: '',
    async publish(files) {
      const manifest = (files['manifest.webapp'] ?? files['manifest.konnector']) as { slug: string; version: string; type: string };
      const url = await s.add(`${manifest.slug}-${manifest.version}`, files);
      const sha256 = createHash('sha256').update(readFileSync(join(dir, `${manifest.slug}-${manifest.version}.tar.gz`))).digest('hex');
      const list = versions.get(manifest.slug) ?? [];
      list.push({ slug: manifest.slug, type: manifest.type, version: manifest.version, created_at: new Date().toISOString(), url, sha256, size: '0', tar_prefix: '', manifest });
      versions.set(manifest.slug, list);
    },
    async add(name, files) {
      const entries: TarEntry[] = Object.entries(files).map(([path, body]) => ({ name: path, body: typeof body === 'string' ? body : JSON.stringify(body) }));
      await makeTarball(join(dir, `${name}.tar.gz`), entries);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/${name}.tar.gz`;
    },
    async close() {
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (s.hold) await s.hold;
      const [, top, slug, a, b] = (req.url ?? '').split('?')[0]!.split('/');
      if (top === 'registry' && slug) {
        const list = versions.get(slug) ?? [];
        const v = b === 'latest' ? list[list.length - 1] : list.find((x) => x.version === a);
        if (!v) return res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      }
      const file = join(dir, (req.url ?? '/').replace(/[^\w.-]/g, ''));
      if (!existsSync(file)) return res.writeHead(404).end('not found');
      res.writeHead(200, { 'content-type': 'application/gzip' });
      createReadStream(file).pipe(res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return s;
}
