/**
 * `hearth apps publish`: adds a version to a local folder registry (layout in local.ts). The package is
 * read as hostile (src/apps/code/tarball.ts: every refusal of an install applies) and its manifest gives
 * the slug, the kind and the version, whose form gives the channel (`--channel dev` turns `X.Y.Z` into
 * `X.Y.Z-dev.<sha256 prefix>`). A version already published with the same bytes is accepted again
 * (nothing changes); with other bytes it is refused (409): a version is immutable.
 *
 * Written so that a crash leaves no half version: the tarball and the assets are written under
 * temporary names and renamed, the version JSON last (the folder registry reads only versions with
 * their JSON).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { BadRequest, Conflict } from '../../common/errors.js';
import { readTarball, unpackTarball, type TarLimits } from '../code/tarball.js';
import { assetFile, LocalRegistry, safeAssetPath } from './local.js';
import { channelOf } from './versions.js';
import type { Channel, RegistryVersion } from './types.js';

export interface PublishOptions {
  /** The registry folder (created if missing). */
  dir: string;
  /** The channel to publish on; by default the version's own. */
  channel?: Channel;
  limits: TarLimits;
  now?: () => Date;
}

export interface PublishResult {
  version: RegistryVersion;
  /** False when this exact version was already there with the same bytes. */
  created: boolean;
}

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** The version published: the manifest's, with a dev suffix when a stable-form version goes to the dev channel. */
function publishedVersion(raw: unknown, channel: Channel | undefined, sha256: string): string {
  if (typeof raw !== 'string' || raw === '') throw new BadRequest('the manifest has no "version": a package is published as the version its manifest names');
  const own = channelOf(raw);
  if (!own) throw new BadRequest(`the manifest's version "${raw.slice(0, 100)}" is not X.Y.Z (stable), X.Y.Z-beta.N (beta) or X.Y.Z-dev.<id> (dev)`);
  if (channel === undefined || channel === own) return raw;
  if (channel === 'dev' && own === 'stable') return `${raw}-dev.${sha256.slice(0, 16)}`;
  throw new BadRequest(`the version ${raw} is a ${own} version: it cannot be published on the ${channel} channel${channel === 'beta' ? ' (give it a X.Y.Z-beta.N version)' : ''}`);
}

export async function publish(tarball: string, opts: PublishOptions): Promise<PublishResult> {
  const info = await readTarball(tarball, { limits: opts.limits });
  const { manifest, kind } = info;
  const sha256 = await sha256Of(tarball);
  const version = publishedVersion(manifest.version, opts.channel, sha256);
  const registry = new LocalRegistry(pathToFileURL(opts.dir).href);
  const existing = await registry.versions(manifest.slug);
  const other = existing.find((v) => v.type !== kind);
  if (other) throw new Conflict(`${manifest.slug} is a ${other.type} in this registry: a ${kind} cannot be published under the same slug`);
  const same = existing.find((v) => v.version === version);
  if (same) {
    if (same.sha256 === sha256) return { version: same, created: false };
    throw new Conflict(`${manifest.slug} ${version} is already published with other bytes (sha256 ${same.sha256}): a version is immutable, publish a new version`);
  }

  const folder = join(opts.dir, manifest.slug);
  await mkdir(folder, { recursive: true });
  const tmp = join(folder, `.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(tmp);
    await copyFile(tarball, join(tmp, 'package.tar.gz'));
    const wanted = new Set<string>();
    for (const path of ['icon', 'partnership_icon']) {
      const f = assetFile(manifest, path);
      if (f) wanted.add(f);
    }
    for (const s of Array.isArray(manifest.screenshots) ? manifest.screenshots : []) {
      const f = safeAssetPath(s);
      if (f) wanted.add(f);
    }
    await unpackTarball(tarball, info, opts.limits, async (path, body) => {
      if (!wanted.has(path)) return void body.resume();
      const to = join(tmp, 'assets', path);
      await mkdir(dirname(to), { recursive: true });
      await pipeline(body, createWriteStream(to));
    });
    const size = (await stat(tarball)).size;
    const doc = {
      slug: manifest.slug, type: kind, version, created_at: (opts.now?.() ?? new Date()).toISOString(), size: String(size), sha256,
      tar_prefix: info.prefix.replace(/\/$/, ''), manifest: { ...manifest, version },
    };
    await writeFile(join(tmp, 'version.json'), JSON.stringify(doc, null, 2) + '\n');
    // the JSON is renamed last: until then the folder registry does not see the version
    await rename(join(tmp, 'package.tar.gz'), registry.tarballPath(manifest.slug, version));
    await rm(join(folder, `${version}.assets`), { recursive: true, force: true });
    if (wanted.size > 0) await rename(join(tmp, 'assets'), join(folder, `${version}.assets`)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await rename(join(tmp, 'version.json'), join(folder, `${version}.json`));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const published = await registry.version(manifest.slug, version);
  if (!published || published.sha256 !== sha256) throw new Conflict(`${manifest.slug} ${version} was published by someone else at the same time: check the folder`);
  return { version: published, created: true };
}

