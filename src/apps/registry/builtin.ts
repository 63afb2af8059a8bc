/**
 * The built-in registry (`apps.builtinRegistry`): a local folder registry, by default the package's `dist/registry` that
 * `npm run build` fills with the built-in apps (scripts/build-webapps.mjs). It is consulted before `apps.registries`.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { HearthConfig } from '../../config/types.js';
import type { WarnLogger } from './merge.js';

/**
 * The built-in registry's folder (absolute), or null when it is disabled (empty) or missing: a checkout where
 * `npm run build` did not run yet, a test that did not build the apps. A missing folder is logged once, here.
 */
export function builtinRegistryDir(config: Pick<HearthConfig, 'apps'>, logger: WarnLogger): string | null {
  const configured = config.apps.builtinRegistry?.trim();
  if (!configured) return null;
  const dir = resolve(configured);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    logger.warn({ builtin_registry: dir }, 'the built-in apps registry folder does not exist (run `npm run build` to make it): no built-in apps are offered or installed');
    return null;
  }
  return dir;
}
