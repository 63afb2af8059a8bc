/**
 * The lazy update's decision (contract §4.6, cozy-stack's DoLazyUpdate), as a pure function: on
 * `GET /apps/:slug` and on serving an app's index, an app installed from a registry asks its channel's
 * latest version (`lazyUpdateChannel` says which, `Registries.latestVersion` answers), then:
 * - the latest is the installed version → clear a stale `available_version` if there is one (the owner
 *   switched channels back while an update waited), else nothing;
 * - the latest is the `available_version` already waiting for the owner's acknowledgement → nothing;
 * - on the stable channel, the latest is not semver-greater than the installed one → nothing;
 * - otherwise → update to it, synchronously, with `PermissionsAcked=false` (the installer may then only
 *   record it as `available_version`).
 * No answer from the registries (null) → nothing, as cozy-stack ignores the lookup's errors.
 */
import semver from 'semver';
import type { AppDoc } from '../types.js';
import { parseRegistrySource } from './versions.js';
import type { Channel, RegistryVersion } from './types.js';

export type LazyUpdateDecision = { action: 'nothing' } | { action: 'clear-available-version' } | { action: 'update'; version: string };

/** The channel whose latest version the lazy update asks for, or null for an app not installed from a registry. */
export function lazyUpdateChannel(source: string): Channel | null {
  if (!source.startsWith('registry://')) return null;
  try {
    return parseRegistrySource(source).channel;
  } catch {
    return null;
  }
}

/** cozy-stack's IsMoreRecent: whether `latest` is semver-greater than `installed` (an invalid installed version is always older). */
function isMoreRecent(installed: string, latest: string): boolean {
  if (!semver.valid(installed)) return true;
  if (!semver.valid(latest)) return false;
  return semver.gt(latest, installed);
}

export function lazyUpdateDecision(app: Pick<AppDoc, 'source' | 'version' | 'available_version'>, latest: Pick<RegistryVersion, 'version'> | null): LazyUpdateDecision {
  const channel = lazyUpdateChannel(app.source);
  if (channel === null || latest === null) return { action: 'nothing' };
  if (latest.version === app.version) return app.available_version ? { action: 'clear-available-version' } : { action: 'nothing' };
  if (app.available_version && latest.version === app.available_version) return { action: 'nothing' };
  if (channel === 'stable' && !isMoreRecent(app.version, latest.version)) return { action: 'nothing' };
  return { action: 'update', version: latest.version };
}
