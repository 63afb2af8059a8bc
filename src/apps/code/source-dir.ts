/**
 * The `file:///dir` source (dev only): an app straight from a folder. Its key is the sha256 of its listing
 * (each file's path, size and sha256), so an edited folder is a new version. The tarballs' limits apply;
 * a symbolic link is followed only when it stays inside the folder.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadRequest } from '../../common/errors.js';
import { KIND, type AppKind, type Manifest } from '../types.js';
import { BadPackage } from './errors.js';
import { MAX_MANIFEST_BYTES, parseManifest } from './manifest.js';
import type { AppCodeStore } from './store.js';
import type { TarLimits } from './tarball.js';

interface DirFile {
  path: string;
  abs: string;
  size: number;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every file under `root` (real path), with the tarballs' limits. */
async function listDir(root: string, limits: TarLimits): Promise<DirFile[]> {
  const out: DirFile[] = [];
  let entries = 0;
  let bytes = 0;
  const visit = async (dir: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      if (++entries > limits.maxEntries) throw new BadPackage(`the folder has more than ${limits.maxEntries} entries (apps.maxEntries)`);
      let abs = join(dir, d.name);
      if (d.isSymbolicLink()) {
        abs = await realpath(abs).catch(() => '');
        const rel = relative(root, abs);
        if (abs === '' || rel === '' || rel.startsWith(`..${sep}`) || rel === '..') throw new BadPackage(`${join(dir, d.name)} is a link leaving the folder`);
      }
      const st = await stat(abs);
      if (st.isDirectory()) {
        if (!d.isSymbolicLink()) await visit(abs);
        continue;
      }
      if (!st.isFile()) throw new BadPackage(`${abs} is neither a file nor a folder`);
      bytes += st.size;
      if (bytes > limits.maxUnpackedBytes) throw new BadPackage(`the folder holds more than ${limits.maxUnpackedBytes} bytes (apps.maxUnpackedBytes)`);
      out.push({ path: relative(root, join(dir, d.name)).split(sep).join('/'), abs, size: st.size });
    }
  };
  await visit(root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export async function fetchDir(
  store: AppCodeStore, url: URL, kind: AppKind, opts: { instanceId: string; expectedSlug?: string; limits: TarLimits },
): Promise<{ manifest: Manifest; sha256: string; written: boolean }> {
  let root: string;
  try {
    root = await realpath(fileURLToPath(url));
    if (!(await stat(root)).isDirectory()) throw new Error('not a folder');
  } catch {
    throw new BadRequest(`${url.href.slice(0, 300)} is not a folder on this server`);
  }
  const name = KIND[kind].manifest;
  const manifestFile = join(root, name);
  const size = await stat(manifestFile).then((s) => s.size, () => -1);
  if (size < 0) throw new BadPackage(`the folder has no ${name}`);
  if (size > MAX_MANIFEST_BYTES) throw new BadPackage(`${name} is larger than ${MAX_MANIFEST_BYTES} bytes (2 MiB)`);
  const manifest = parseManifest(await readFile(manifestFile), kind, opts.expectedSlug);
  const files = await listDir(root, opts.limits);
  const listing = createHash('sha256');
  for (const f of files) listing.update(`${f.path}\0${f.size}\0${await sha256Of(f.abs)}\n`);
  const sha256 = listing.digest('hex');
  const { written } = await store.acquire({ instanceId: opts.instanceId, kind, slug: manifest.slug, sha256 }, async (add) => {
    for (const f of files) {
      const body = createReadStream(f.abs);
      // a file refused before it is read must not keep its descriptor
      await add(f.path, body).finally(() => body.destroy());
    }
  });
  return { manifest, sha256, written };
}
