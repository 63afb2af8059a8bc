/**
 * Reading an app package (`.tar.gz`, `.tgz` or plain `.tar`, told apart by the gzip magic bytes) as a stream
 * with tar-stream, treating it as hostile: names with `..` segments, absolute names, symbolic and hard links,
 * devices and fifos, more than `maxEntries` entries, more than `maxUnpackedBytes` bytes (counted on the bytes
 * that really come out of gzip, never on the headers alone, so a gzip bomb stops early), and a manifest that is
 * missing, over 2 MiB, not JSON, of the wrong kind or for another slug are refused with BadPackage (400).
 *
 * A package is read twice from its (local, temporary) file: `readTarball` checks everything, finds the manifest
 * and the top folder to strip (the registry's `tar_prefix`, or a single top folder such as npm's `package/`)
 * without writing anything; `unpackTarball` then hands each file, under its stripped name, to a sink.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { HearthError } from '../../common/errors.js';
import { KIND, type AppKind, type Manifest } from '../types.js';
import { BadPackage } from './errors.js';
import { MAX_MANIFEST_BYTES, parseManifest } from './manifest.js';

export interface TarLimits {
  /** More entries than this (files, folders, anything) are refused. */
  maxEntries: number;
  /** More unpacked bytes than this are refused. */
  maxUnpackedBytes: number;
}

export interface TarOptions {
  limits: TarLimits;
  /** The kind asked for; when absent, `manifest.konnector` makes a konnector, else a web app. */
  kind?: AppKind;
  /** The slug asked for: the manifest's must be the same. */
  expectedSlug?: string;
  /** The registry's `tar_prefix`: only what is under it is the app. Absent or empty: a single top folder is stripped. */
  prefix?: string;
}

export interface TarballInfo {
  kind: AppKind;
  manifest: Manifest;
  /** What is stripped from the names (`''` or `folder/`). */
  prefix: string;
  /** Files of the app (under the prefix). */
  files: number;
  /** Their bytes. */
  bytes: number;
}

/** Receives a file of the package: its path in the app (normalised, never empty, no `..`) and its bytes. */
export type FileSink = (path: string, body: Readable, size: number) => Promise<void>;

interface WalkEntry {
  path: string;
  type: 'file' | 'directory';
  size: number;
  body: Readable;
}

const MAX_PATH = 1024;
const MAX_SEGMENT = 255;

/** The entry's name as a relative path (`''` for the root), refusing anything that could leave the app. */
export function cleanEntryName(name: string): string {
  const shown = JSON.stringify(name.slice(0, 200));
  if (name.includes('\0')) throw new BadPackage(`the entry ${shown} has a NUL byte in its name`);
  if (name.startsWith('/') || name.startsWith('\\') || /^[a-zA-Z]:/.test(name)) throw new BadPackage(`the entry ${shown} has an absolute name`);
  const segments = name.split(/[\\/]/).filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw new BadPackage(`the entry ${shown} has a ".." segment: it would leave the app`);
  if (name.length > MAX_PATH || segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT)) throw new BadPackage(`the entry ${shown} has too long a name`);
  return segments.join('/');
}

const describe: Partial<Record<Header['type'], string>> = {
  symlink: 'a symbolic link', link: 'a hard link', 'character-device': 'a character device', 'block-device': 'a block device', fifo: 'a fifo',
};

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

const tooBig = (limits: TarLimits) => new BadPackage(`the package unpacks to more than ${limits.maxUnpackedBytes} bytes (apps.maxUnpackedBytes)`);

/** Streams the archive's entries to `visit`, one at a time, with every refusal that does not depend on the manifest. */
async function walk(file: string, limits: TarLimits, visit: (entry: WalkEntry) => Promise<void>): Promise<void> {
  const gz = await isGzip(file);
  // tar's own bytes (headers, padding, long names) on top of the content, then no more: zeros after the end count too
  const rawCap = limits.maxUnpackedBytes + (limits.maxEntries + 2) * 3 * 512 + 1024 * 1024;
  let raw = 0;
  let entries = 0;
  let bytes = 0;
  const src = createReadStream(file);
  const gunzip = gz ? createGunzip() : null;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      raw += chunk.length;
      if (raw > rawCap) cb(tooBig(limits));
      else cb(null, chunk);
    },
  });
  const extract = tarExtract();

  async function* counted(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of body) {
      bytes += chunk.length;
      if (bytes > limits.maxUnpackedBytes) throw tooBig(limits);
      yield chunk;
    }
  }

  async function handle(header: Header, stream: AsyncIterable<Buffer>): Promise<void> {
    entries++;
    if (entries > limits.maxEntries) throw new BadPackage(`the package has more than ${limits.maxEntries} entries (apps.maxEntries)`);
    const type: string = header.type ?? 'file';
    const shown = JSON.stringify(header.name.slice(0, 200));
    if (type !== 'file' && type !== 'contiguous-file' && type !== 'directory') {
      throw new BadPackage(`the entry ${shown} is ${describe[type as Header['type']] ?? `of type ${type}`}: an app package holds only files and folders`);
    }
    const path = cleanEntryName(header.name);
    const size = header.size ?? 0;
    if (bytes + size > limits.maxUnpackedBytes) throw tooBig(limits);
    const body = Readable.from(counted(stream));
    await visit({ path, type: type === 'directory' ? 'directory' : 'file', size, body });
    for await (const chunk of body) void chunk; // what the visitor left is still counted
  }

  await new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      src.destroy();
      gunzip?.destroy();
      counter.destroy();
      extract.destroy();
      reject(err);
    };
    extract.on('entry', (header, stream, next) => {
      handle(header, stream as AsyncIterable<Buffer>).then(() => next(), fail);
    });
    extract.on('finish', () => {
      if (!failed) resolve();
    });
    extract.on('error', (err: unknown) => fail(err instanceof HearthError ? err : new BadPackage(`the package is not a valid tar archive (${(err as Error).message})`)));
    src.on('error', fail);
    counter.on('error', fail);
    if (gunzip) {
      gunzip.on('error', (err) => fail(new BadPackage(`the package is not a valid gzip stream (${err.message})`)));
      src.pipe(gunzip).pipe(counter).pipe(extract);
    } else {
      src.pipe(counter).pipe(extract);
    }
  });
}

/** `prefix` made `''` or `folder/`. */
function normalisePrefix(prefix: string | undefined): string {
  const clean = prefix ? cleanEntryName(prefix) : '';
  return clean === '' ? '' : `${clean}/`;
}

async function readAll(body: Readable, max: number): Promise<Buffer | 'too big'> {
  const chunks: Buffer[] = [];
  let n = 0;
  // read to the end (a stream left half read would stall the archive), keeping at most `max` bytes
  for await (const chunk of body as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n <= max) chunks.push(chunk);
  }
  return n > max ? 'too big' : Buffer.concat(chunks);
}

/** Checks the whole package and reads its manifest, writing nothing. */
export async function readTarball(file: string, opts: TarOptions): Promise<TarballInfo> {
  const given = normalisePrefix(opts.prefix);
  const names = (opts.kind ? [opts.kind] : (['webapp', 'konnector'] as const)).map((k) => KIND[k].manifest);
  const files = new Set<string>();
  const dirs = new Set<string>();
  const candidates = new Map<string, Buffer | 'too big'>();
  const tops = new Set<string>();
  let rootFiles = 0;
  let bytes = 0;
  await walk(file, opts.limits, async ({ path, type, size, body }) => {
    const shown = JSON.stringify(path.slice(0, 200));
    if (path === '') return;
    if (files.has(path) || (type === 'file' && dirs.has(path))) throw new BadPackage(`the entry ${shown} appears twice in the package`);
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      if (files.has(parent)) throw new BadPackage(`the entry ${shown} is inside ${JSON.stringify(parent)}, which is a file`);
      dirs.add(parent);
    }
    if (type === 'directory') return void dirs.add(path);
    files.add(path);
    if (!path.startsWith(given)) return;
    bytes += size;
    if (segments.length === 1) rootFiles++;
    else tops.add(segments[0] ?? '');
    const base = segments.at(-1) ?? '';
    const depth = segments.length - given.split('/').length;
    if (names.includes(base) && depth <= 1 && candidates.size < 4) candidates.set(path, await readAll(body, MAX_MANIFEST_BYTES));
  });
  const prefix = given !== '' ? given : rootFiles === 0 && tops.size === 1 ? `${[...tops][0]}/` : '';
  const konnector = !opts.kind && candidates.has(`${prefix}${KIND.konnector.manifest}`);
  const kind: AppKind = opts.kind ?? (konnector ? 'konnector' : 'webapp');
  const name = KIND[kind].manifest;
  const found = candidates.get(`${prefix}${name}`);
  if (found === undefined) throw new BadPackage(`the package has no ${name}${prefix ? ` in ${prefix}` : ' at its root'}`);
  if (found === 'too big') throw new BadPackage(`${name} is larger than ${MAX_MANIFEST_BYTES} bytes (2 MiB)`);
  const manifest = parseManifest(found, kind, opts.expectedSlug);
  const count = [...files].filter((f) => f.startsWith(prefix)).length;
  return { kind, manifest, prefix, files: count, bytes };
}

/** Reads only what `hearth apps publish` needs: the package's kind and manifest (every refusal applies). */
export async function readTarballManifest(file: string, opts: TarOptions): Promise<{ kind: AppKind; manifest: Manifest }> {
  const { kind, manifest } = await readTarball(file, opts);
  return { kind, manifest };
}

/** Hands every file of a package that `readTarball` accepted to `sink`, under its name in the app. */
export async function unpackTarball(file: string, info: Pick<TarballInfo, 'prefix'>, limits: TarLimits, sink: FileSink): Promise<void> {
  await walk(file, limits, async ({ path, type, size, body }) => {
    if (type !== 'file' || !path.startsWith(info.prefix) || path.length === info.prefix.length) return;
    await sink(path.slice(info.prefix.length), body, size);
  });
}
