/**
 * The app registries (src/apps/registry): what the rest of Hearth uses. The installer resolves a
 * `registry://` source with `registriesFromConfig(config, logger).resolveVersion(slug, channelOrVersion)`
 * (parseRegistrySource splits the source) and reads the tarball with `openTarball(version)`; the lazy
 * update asks `latestVersion(slug, lazyUpdateChannel(doc.source))` and applies `lazyUpdateDecision`.
 */
import type { HearthConfig } from '../../config/types.js';
import { clientsOf, MergedRegistries, type WarnLogger } from './merge.js';
import type { Registries } from './types.js';

export type * from './types.js';
export { MergedRegistries, clientsOf } from './merge.js';
export { LocalRegistry } from './local.js';
export { HttpRegistry } from './http.js';
export { parseRegistrySource, channelOf, compareVersions, latestOn, type RegistrySource } from './versions.js';
export { lazyUpdateChannel, lazyUpdateDecision, type LazyUpdateDecision } from './lazy-update.js';
export { registerRegistryRoutes } from './routes.js';

/** The registries of `apps.registries`, in order; unreachable ones are logged on `logger` and skipped. */
export function registriesFromConfig(config: HearthConfig, logger: WarnLogger, options: { timeoutMs?: number } = {}): Registries {
  return new MergedRegistries(clientsOf(config.apps.registries, options), logger);
}
