/** Builds app packages (tar, tar.gz) for the tests with tar-stream, hostile ones included. */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as tarPack, type Header } from 'tar-stream';

export interface TarEntry {
  name: string;
  body?: string | Buffer;
  type?: Header['type'];
  linkname?: string;
  /** A body of this many zero bytes, written 1 MiB at a time (a gzip bomb compresses it to almost nothing). */
  zeros?: number;
}

const MIB = Buffer.alloc(1024 * 1024);

/** Writes the entries as a tarball at `file` (gzip unless `gzip: false`). */
export async function makeTarball(file: string, entries: TarEntry[], opts: { gzip?: boolean } = {}): Promise<void> {
  const pack = tarPack();
  const out = opts.gzip === false ? pipeline(pack, createWriteStream(file)) : pipeline(pack, createGzip(), createWriteStream(file));
  for (const e of entries) {
    const header: Partial<Header> & { name: string } = { name: e.name, type: e.type ?? 'file', linkname: e.linkname, mode: e.type === 'directory' ? 0o755 : 0o644 };
    if (e.zeros !== undefined) {
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ ...header, size: e.zeros }, (err) => (err ? reject(err) : resolve()));
        let left = e.zeros ?? 0;
        const more = (): void => {
          while (left > 0) {
            const n = Math.min(left, MIB.length);
            left -= n;
            if (!entry.write(MIB.subarray(0, n))) return void entry.once('drain', more);
          }
          entry.end(Buffer.alloc(0));
        };
        more();
      });
    } else {
      await new Promise<void>((resolve, reject) => pack.entry(header, e.body ?? '', (err) => (err ? reject(err) : resolve())));
    }
  }
  pack.finalize();
  await out;
}

/** A gzip stream of a small valid archive followed by `zeros` zero bytes (what gunzip yields after the tar's end). */
export async function makeTrailingBomb(file: string, entries: TarEntry[], zeros: number): Promise<void> {
  const pack = tarPack();
  const gzip = createGzip();
  const out = pipeline(gzip, createWriteStream(file));
  const tar: Buffer[] = [];
  pack.on('data', (c: unknown) => void tar.push(c as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  for (const e of entries) await new Promise<void>((resolve, reject) => pack.entry({ name: e.name }, e.body ?? '', (err) => (err ? reject(err) : resolve())));
  pack.finalize();
  await ended;
  gzip.write(Buffer.concat(tar));
  let left = zeros;
  while (left > 0) {
    const n = Math.min(left, MIB.length);
    left -= n;
    if (!gzip.write(MIB.subarray(0, n))) await new Promise((r) => gzip.once('drain', r));
  }
  gzip.end();
  await out;
}

/** A web app (or konnector) package: its manifest plus files, under `top/` when given (as npm's `package/`). */
export function appEntries(manifest: Record<string, unknown>, files: Record<string, string | Buffer> = {}, top = ''): TarEntry[] {
  const name = manifest.type === 'konnector' ? 'manifest.konnector' : 'manifest.webapp';
  return [{ name: `${top}${name}`, body: JSON.stringify(manifest) }, ...Object.entries(files).map(([n, body]) => ({ name: `${top}${n}`, body }))];
}
