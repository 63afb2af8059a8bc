/**
 * The app registries (src/apps/registry): what the rest of Hearth uses. The installer resolves a
 * `registry://` source with `registriesFromConfig(config, logger).resolveVersion(slug, channelOrVersion)`
 * (parseRegistrySource splits the source) and reads the tarball with `openTarball(version)`; the lazy
 * update asks `latestVersion(slug, lazyUpdateChannel(doc.source))` and applies `lazyUpdateDecision`.
 */
import { pathToFileURL } from 'node:url';
import type { HearthConfig } from '../../config/types.js';
import { builtinRegistryDir } from './builtin.js';
import { LocalRegistry } from './local.js';
import { clientsOf, MergedRegistries, type WarnLogger } from './merge.js';
import type { Registries } from './types.js';

export type * from './types.js';
export { MergedRegistries, clientsOf } from './merge.js';
export { LocalRegistry } from './local.js';
export { HttpRegistry } from './http.js';
export { parseRegistrySource, channelOf, compareVersions, latestOn, type RegistrySource } from './versions.js';
export { lazyUpdateChannel, lazyUpdateDecision, type LazyUpdateDecision } from './lazy-update.js';
export { registerRegistryRoutes } from './routes.js';
export { builtinRegistryDir } from './builtin.js';

/**
 * The built-in registry (`apps.builtinRegistry`, when its folder exists), then those of `apps.registries` in order (the
 * built-in folder again there is left out); unreachable ones are logged on `logger` and skipped. `builtinDir`: the
 * built-in folder already found by builtinRegistryDir (null: none), so that a missing one is not reported twice.
 */
export function registriesFromConfig(config: HearthConfig, logger: WarnLogger, options: { timeoutMs?: number; builtinDir?: string | null } = {}): Registries {
  const dir = options.builtinDir !== undefined ? options.builtinDir : builtinRegistryDir(config, logger);
  const builtin = dir ? [new LocalRegistry(pathToFileURL(dir).href)] : [];
  const others = clientsOf(config.apps.registries, options).filter((c) => !builtin.some((b) => b.base === c.base));
  return new MergedRegistries([...builtin, ...others], logger, { retryAfterMs: config.apps.registryRetrySeconds * 1000 });
}
