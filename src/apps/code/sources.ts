/**
 * Where an app's package comes from (cozy-stack's `Source` parameter), stored in the code store with the
 * instance's reference: `registry://slug[/channel][/version]` through the registry resolver it is given,
 * `http(s)://…tar.gz[#sha256]` from any host, `git://…[#branch]` and `git+https://…[#branch]` (./source-git.ts),
 * `file:///dir` in dev only. A tarball is downloaded to a temporary
 * file while hashed, checked whole (./tarball.ts), then unpacked once: when its sha256 is already stored (the
 * same version on another instance), nothing is unpacked again, and a registry version is not even downloaded.
 * A failure leaves nothing: no temporary file, no code, no reference.
 */
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { KIND, SLUG_RE, type AppKind, type Manifest } from '../types.js';
import { download, saveHashed, shownUrl } from './download.js';
import { BadPackage, InvalidSource } from './errors.js';
import { parseManifest } from './manifest.js';
import { fetchDir } from './source-dir.js';
import { GIT_PROTOCOLS, withGitClone } from './source-git.js';
import { SHA256_RE, type AppCodeStore } from './store.js';
import { readTarball, unpackTarball, type TarLimits } from './tarball.js';

/** A version object of the registry (cozy's registry API): what `registry://` resolves to. */
export interface RegistryVersion {
  version: string;
  url: string;
  sha256: string;
  tar_prefix?: string;
  manifest?: Manifest;
  type?: string;
  slug?: string;
}

/** Resolves `registry://slug/<channel or version>` (the registry engineer's resolveVersion); throws NotFound when unknown. */
export type ResolveRegistry = (slug: string, channelOrVersion: string) => Promise<RegistryVersion>;

export interface FetchOptions {
  /** The instance installing: its reference to the stored code is recorded. */
  instanceId: string;
  /** The slug asked for (the manifest's must be the same). */
  expectedSlug?: string;
  resolveRegistry?: ResolveRegistry;
  /** Reads a registry tarball whose URL is not http(s) (a local folder registry's `file://`), through its registry. */
  openRegistryTarball?: (version: RegistryVersion) => Promise<Readable>;
  /** `file://` sources are allowed only in dev. */
  dev: boolean;
  limits: TarLimits;
  timeoutMs?: number;
}

export interface FetchedPackage {
  manifest: Manifest;
  version: string;
  /** The package's sha256: the key of its code in the store (the app doc's `checksum`). */
  sha256: string;
  /** The source, normalised (`registry://drive/stable`). */
  source: string;
  /** Whether files were written (false: this version was already stored). */
  written: boolean;
}

export const CHANNELS = new Set(['stable', 'beta', 'dev']);
const SCHEMES = 'registry://, https://, http://, git://, git+https:// or (in dev) file://';

/** The manifest of a stored version, checked as a fresh one would be. */
async function storedManifest(store: AppCodeStore, sha256: string, kind: AppKind, expectedSlug: string | undefined): Promise<Manifest> {
  const body = await store.read(sha256, KIND[kind].manifest, null);
  if (!body) throw new BadPackage(`the package has no ${KIND[kind].manifest} at its root`);
  return parseManifest(Buffer.from(await text(body)), kind, expectedSlug);
}

interface Tarball {
  url: string;
  /** Reads it (instead of downloading the URL). */
  open?: () => Promise<Readable>;
  /** The sha256 it must have (registry, `#fragment`), if known. */
  sha256?: string;
  prefix?: string;
}

/** Downloads, checks and stores a tarball (or only references it when its sha256 is already stored). */
async function fetchTarball(store: AppCodeStore, tarball: Tarball, kind: AppKind, opts: FetchOptions): Promise<{ manifest: Manifest; sha256: string; written: boolean }> {
  const file = join(store.scratchDir, `download-${randomUUID()}.tar`);
  const maxBytes = opts.limits.maxUnpackedBytes + (opts.limits.maxEntries + 2) * 3 * 512 + 1024 * 1024;
  const fetchChecked = async (): Promise<string> => {
    const sha256 = tarball.open
      ? await saveHashed(await tarball.open(), file, maxBytes, shownUrl(tarball.url))
      : await download(tarball.url, file, { maxBytes, timeoutMs: opts.timeoutMs });
    if (tarball.sha256 !== undefined && sha256 !== tarball.sha256) {
      throw new BadPackage(`the package's sha256 is ${sha256}, not the expected ${tarball.sha256}: refused`);
    }
    return sha256;
  };
  const unpackInto = async (add: Parameters<Parameters<AppCodeStore['acquire']>[1]>[0]) => {
    const info = await readTarball(file, { limits: opts.limits, kind, expectedSlug: opts.expectedSlug, prefix: tarball.prefix });
    await unpackTarball(file, info, opts.limits, add);
  };
  try {
    if (tarball.sha256 !== undefined && (await store.has(tarball.sha256))) {
      const manifest = await storedManifest(store, tarball.sha256, kind, opts.expectedSlug);
      const ref = { instanceId: opts.instanceId, kind, slug: manifest.slug, sha256: tarball.sha256 };
      // removed by gc since has(): downloaded again
      const { written } = await store.acquire(ref, async (add) => {
        await fetchChecked();
        await unpackInto(add);
      });
      return { manifest, sha256: tarball.sha256, written };
    }
    const sha256 = await fetchChecked();
    const manifest = (await store.has(sha256))
      ? await storedManifest(store, sha256, kind, opts.expectedSlug)
      : (await readTarball(file, { limits: opts.limits, kind, expectedSlug: opts.expectedSlug, prefix: tarball.prefix })).manifest;
    const { written } = await store.acquire({ instanceId: opts.instanceId, kind, slug: manifest.slug, sha256 }, unpackInto);
    return { manifest, sha256, written };
  } finally {
    await rm(file, { force: true });
  }
}

function parseRegistrySource(url: URL, expectedSlug: string | undefined): { slug: string; channel: string; version: string | null } {
  const slug = url.hostname;
  const parts = url.pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  if (!SLUG_RE.test(slug) || parts.length > 2) throw new InvalidSource(`invalid registry source: expected registry://<slug>[/<channel>][/<version>]`);
  if (expectedSlug !== undefined && slug !== expectedSlug) throw new InvalidSource(`the source is for "${slug}", not "${expectedSlug}"`);
  const [first, second] = parts;
  if (first === undefined) return { slug, channel: 'stable', version: null };
  if (second !== undefined) {
    if (!CHANNELS.has(first)) throw new InvalidSource(`unknown registry channel "${first.slice(0, 40)}": stable, beta or dev`);
    return { slug, channel: first, version: second };
  }
  return CHANNELS.has(first) ? { slug, channel: first, version: null } : { slug, channel: 'stable', version: first };
}

/**
 * The sha256 of the package `source` names when it is known without downloading it (a registry version, an http(s)
 * `#sha256`), else null. Its errors (an unknown app, a bad source) are left to fetchPackage: null here.
 */
export async function expectedSha256(source: string, opts: Pick<FetchOptions, 'expectedSlug' | 'resolveRegistry'>): Promise<string | null> {
  try {
    const url = new URL(source);
    let sha256 = '';
    if (url.protocol === 'registry:' && opts.resolveRegistry) {
      const { slug, channel, version } = parseRegistrySource(url, opts.expectedSlug);
      sha256 = String((await opts.resolveRegistry(slug, version ?? channel)).sha256 ?? '').toLowerCase();
    } else if (url.protocol === 'http:' || url.protocol === 'https:') sha256 = url.hash.slice(1).toLowerCase();
    return SHA256_RE.test(sha256) ? sha256 : null;
  } catch {
    return null;
  }
}

/** Fetches the package named by `source` and stores its code with the instance's reference. */
export async function fetchPackage(store: AppCodeStore, source: string, kind: AppKind, opts: FetchOptions): Promise<FetchedPackage> {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new InvalidSource(`invalid source ${JSON.stringify(String(source).slice(0, 200))}: expected ${SCHEMES}`);
  }
  switch (url.protocol) {
    case 'registry:': {
      if (!opts.resolveRegistry) throw new InvalidSource('no app registry is configured: install from an http(s):// tarball');
      const { slug, channel, version: wanted } = parseRegistrySource(url, opts.expectedSlug);
      const v = await opts.resolveRegistry(slug, wanted ?? channel);
      if (v.type !== undefined && v.type !== kind) throw new BadPackage(`${slug} is a ${v.type} in the registry, not a ${kind}`);
      const sha256 = String(v.sha256 ?? '').toLowerCase();
      if (!SHA256_RE.test(sha256)) throw new BadPackage(`the registry gave no valid sha256 for ${slug} ${v.version}`);
      const open = opts.openRegistryTarball && !/^https?:/.test(v.url) ? { open: () => opts.openRegistryTarball!(v) } : {};
      const got = await fetchTarball(store, { url: v.url, sha256, prefix: v.tar_prefix, ...open }, kind, { ...opts, expectedSlug: slug });
      return { ...got, version: v.version, source: `registry://${slug}/${channel}${wanted !== null ? `/${wanted}` : ''}` };
    }
    case 'http:':
    case 'https:': {
      const fragment = url.hash.slice(1).toLowerCase();
      if (fragment !== '' && !SHA256_RE.test(fragment)) throw new InvalidSource('the #fragment of an http(s) source must be the sha256 (hex) of the tarball');
      url.hash = '';
      const got = await fetchTarball(store, { url: url.href, sha256: fragment || undefined }, kind, opts);
      return { ...got, version: got.manifest.version ?? '0.0.0', source };
    }
    case 'file:': {
      if (!opts.dev) throw new InvalidSource('file:// sources are for development only (hearth serve --dev)');
      const got = await fetchDir(store, url, kind, opts);
      return { ...got, version: got.manifest.version ?? '0.0.0', source: url.href };
    }
    case 'git+ssh:':
    case 'ssh:':
      throw new InvalidSource('git over ssh needs keys on the server, which Hearth does not keep: use git:// or git+https://');
    default:
      if (GIT_PROTOCOLS.has(url.protocol)) {
        const got = await withGitClone(url, store.scratchDir, { maxBytes: opts.limits.maxUnpackedBytes, timeoutMs: opts.timeoutMs },
          (open) => fetchTarball(store, { url: url.href, open }, kind, opts));
        return { ...got, version: got.manifest.version ?? '0.0.0', source };
      }
      throw new InvalidSource(`unsupported source scheme ${JSON.stringify(url.protocol.slice(0, 20))}: ${SCHEMES}`);
  }
}
