/** Builds the serving side of the apps platform (for the composition root): the app server, the stack assets, the dev folders. */
import type { HearthConfig } from '../../config/types.js';
import type { DocStore } from '../../data/store.js';
import type { Instance, InstanceRegistry, InstanceSettingsStore } from '../../instances/types.js';
import type { SessionStore } from '../../auth/sessions.js';
import type { TokenService } from '../../auth/tokens.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import { StackAssets } from '../assets/assets.js';
import type { ContextAssets } from '../assets/context-assets.js';
import type { AppDoc, AppFileSource } from '../types.js';
import { parseCspAllowlist } from './csp.js';
import { FolderFileSource, parseDevDirs } from './folder-source.js';
import { AppServer, redirectionSlug, redirectionUrl } from './serve.js';

export interface AppServingDeps {
  config: HearthConfig;
  registry: InstanceRegistry;
  sessions: SessionStore;
  tokens: TokenService;
  perms: PermissionResolver;
  storeOf(instance: Instance): DocStore;
  settings: InstanceSettingsStore;
  /** The code store's files (i14-code), or null: then only `apps.devDirs` apps are served. */
  files: AppFileSource | null;
  inRegistry?(instance: Instance, slug: string): Promise<boolean>;
  lazyUpdate?(instance: Instance, app: AppDoc): Promise<AppDoc>;
  clientsLimitExceeded?(instance: Instance): Promise<boolean>;
  /** The per-context stack assets (apps/assets/context-assets.ts), when the composition root made them. */
  contextAssets?: ContextAssets;
}

export interface AppServing {
  server: AppServer;
  assets: StackAssets;
  contextAssets?: ContextAssets;
  /** GET / of the instance: the default app's URL when it is installed. */
  defaultApp(instance: Instance, req: { protocol: string; headers: { host?: string } }): Promise<string | null>;
}

export function createAppServing(deps: AppServingDeps): AppServing {
  const assets = new StackAssets();
  const dev = new FolderFileSource(parseDevDirs(deps.config.apps.devDirs));
  const server = new AppServer({ ...deps, subdomains: deps.config.apps.subdomains, dev, assets, allowlist: parseCspAllowlist(deps.config.apps.cspAllowlist) });
  return {
    server,
    assets,
    ...(deps.contextAssets ? { contextAssets: deps.contextAssets } : {}),
    async defaultApp(instance, req) {
      const { settings } = await deps.settings.settings(instance);
      const target = settings.defaultRedirection ?? deps.config.settings.defaultRedirection;
      if (!(await server.installed(instance, redirectionSlug(target)))) return null;
      const host = String(req.headers.host ?? instance.domain).toLowerCase();
      return redirectionUrl(host, target, deps.config.apps.subdomains, req.protocol === 'https' ? 'https' : 'http');
    },
  };
}
