/**
 * cozy-stack's redirections (`parseRedirectAppAndRoute`): a setting such as `home/` or `drive/#/folder`
 * names an app slug, then the path and fragment inside that app; the URL is on the app's own host.
 */
import type { HearthConfig } from '../config/types.js';
import { appOrigin } from '../apps/hosts.js';
import type { Instance } from '../instances/types.js';

/** The URL of `slug/path#fragment` on `instance`'s app host for that slug. */
export function appRedirection(config: HearthConfig, instance: Instance, redirect: string, scheme: string): string {
  const hash = redirect.indexOf('#');
  const before = hash < 0 ? redirect : redirect.slice(0, hash);
  const slash = before.indexOf('/');
  const slug = slash < 0 ? before : before.slice(0, slash);
  const path = slash < 0 ? '' : before.slice(slash + 1).replace(/^\/+/, '');
  return `${appOrigin(instance.domain, slug, config.apps.subdomains, scheme)}/${path}${hash < 0 ? '' : redirect.slice(hash)}`;
}
