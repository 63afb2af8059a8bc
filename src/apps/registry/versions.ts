/**
 * Channels and version order (cozy's registry docs, "Channels" and "Version order"): stable `X.Y.Z`,
 * beta `X.Y.Z-beta.N`, dev `X.Y.Z-dev.<id>`. Versions compare by their base `X.Y.Z` first (semver);
 * of one base the stable release is the greatest (`1.0.0-dev.* < 1.0.0`, `1.0.0-beta.* < 1.0.0`),
 * and betas and devs of that base are ordered by their creation date. A channel's latest version is
 * the greatest of the versions at least as stable as the channel: stable only, beta and stable, or all.
 */
import semver from 'semver';
import { UnprocessableEntity } from '../../common/errors.js';
import { SLUG_RE } from '../types.js';
import { CHANNELS, type Channel } from './types.js';

const STABLE_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const BETA_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)-beta\.(0|[1-9]\d*)$/;
const DEV_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)-dev\.[0-9A-Za-z]{1,64}$/;

/** The channel a version string belongs to, or null when it is none of the three forms. */
export function channelOf(version: string): Channel | null {
  if (STABLE_RE.test(version)) return 'stable';
  if (BETA_RE.test(version)) return 'beta';
  if (DEV_RE.test(version)) return 'dev';
  return null;
}

export const isChannel = (s: string): s is Channel => (CHANNELS as readonly string[]).includes(s);

/** How stable a channel is: stable 0, beta 1, dev 2. A channel sees the versions of rank ≤ its own. */
const rank = (c: Channel): number => CHANNELS.indexOf(c);

/** Whether a version of channel `of` is offered on channel `on` (stable is on every channel, dev on dev only). */
export const visibleOn = (of: Channel, on: Channel): boolean => rank(of) <= rank(on);

export interface Dated {
  version: string;
  created_at: string;
}

/** The contract's order: negative when `a` is older than `b`. Both must be valid channel versions. */
export function compareVersions(a: Dated, b: Dated): number {
  const base = (v: string) => `${semver.major(v)}.${semver.minor(v)}.${semver.patch(v)}`;
  const byBase = semver.compare(base(a.version), base(b.version));
  if (byBase !== 0) return byBase;
  const aStable = channelOf(a.version) === 'stable';
  const bStable = channelOf(b.version) === 'stable';
  if (aStable || bStable) return Number(aStable) - Number(bStable);
  const byDate = Date.parse(a.created_at) - Date.parse(b.created_at);
  if (byDate !== 0 && !Number.isNaN(byDate)) return Math.sign(byDate);
  return semver.compare(a.version, b.version);
}

/** The latest of `versions` offered on `channel`, or null. */
export function latestOn<T extends Dated>(versions: readonly T[], channel: Channel): T | null {
  let best: T | null = null;
  for (const v of versions) {
    const c = channelOf(v.version);
    if (c === null || !visibleOn(c, channel)) continue;
    if (best === null || compareVersions(v, best) > 0) best = v;
  }
  return best;
}

/** The `versions` field of an application: the version numbers of each channel offered on `upTo`, oldest first. */
export function versionLists(versions: readonly Dated[], upTo: Channel): Partial<Record<Channel, string[]>> {
  const sorted = [...versions].filter((v) => channelOf(v.version) !== null).sort(compareVersions);
  const lists: Partial<Record<Channel, string[]>> = {};
  for (const c of CHANNELS) if (visibleOn(c, upTo)) lists[c] = sorted.filter((v) => channelOf(v.version) === c).map((v) => v.version);
  return lists;
}

/** What a `registry://` source names. */
export interface RegistrySource {
  slug: string;
  /** The channel followed by updates: the one named, else stable (also when only a version is named, as cozy-stack). */
  channel: Channel;
  /** A pinned version, or null for the channel's latest (`latest` names it too). */
  version: string | null;
}

/** Parses `registry://<slug>[/<channel>|/<version>|/<channel>/<version>]`; 422 when it is not one. */
export function parseRegistrySource(source: string): RegistrySource {
  const bad = (why: string) => new UnprocessableEntity(`invalid registry source "${source.slice(0, 200)}": ${why} (registry://<slug>[/<channel>][/<version>], channel stable, beta or dev)`, 'invalid_source');
  if (!source.startsWith('registry://')) throw bad('it does not start with registry://');
  const [slug, a, b, ...rest] = source.slice('registry://'.length).replace(/\/+$/, '').split('/');
  if (!slug || !SLUG_RE.test(slug)) throw bad('the slug is not a valid slug');
  if (rest.length > 0) throw bad('too many path segments');
  const pinned = (v: string | undefined): string | null => {
    if (v === undefined || v === 'latest') return null;
    if (!channelOf(v)) throw bad(`"${v}" is not a version (X.Y.Z, X.Y.Z-beta.N, X.Y.Z-dev.<id>)`);
    return v;
  };
  if (a === undefined) return { slug, channel: 'stable', version: null };
  if (b === undefined) return isChannel(a) ? { slug, channel: a, version: null } : { slug, channel: 'stable', version: pinned(a) };
  if (!isChannel(a)) throw bad(`"${a}" is not a channel`);
  return { slug, channel: a, version: pinned(b) };
}
