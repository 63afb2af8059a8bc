/** Serves app packages (tarballs built in the test with tar-stream) from a local HTTP server, for the installer's tests. */
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTarball, type TarEntry } from './app-tarball.js';

export interface PackageServer {
  /** Writes `<name>.tar.gz` with these files (a manifest is a JSON-able object) and returns its URL. */
  add(name: string, files: Record<string, string | object>): Promise<string>;
  /** Requests not answered yet are held while this is set (to see an install in its `installing` state). */
  hold: Promise<void> | null;
  dir: string;
  close(): Promise<void>;
}

export async function startPackageServer(): Promise<PackageServer> {
  const dir = mkdtempSync(join(tmpdir(), 'hearth-packages-'));
  const s: PackageServer = {
    dir,
    hold: null,
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
      const file = join(dir, (req.url ?? '/').replace(/[^\w.-]/g, ''));
      if (!existsSync(file)) return res.writeHead(404).end('not found');
      res.writeHead(200, { 'content-type': 'application/gzip' });
      createReadStream(file).pipe(res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return s;
}
