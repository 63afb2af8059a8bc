/**
 * Who may call the /settings routes of this folder, through the one permission module. A request
 * with a token is judged by that token's rights (another instance's token: 400, as everywhere); one
 * without a token is the owner only with the session cookie, from the instance's own pages
 * (auth/owner.ts: never from an app subdomain or another site).
 */
import type { FastifyRequest } from 'fastify';
import { Forbidden } from '../common/errors.js';
import type { EventBus } from '../common/bus.js';
import type { HearthConfig } from '../config/types.js';
import { instanceOf } from '../data/http/context.js';
import type { Instance, InstanceSettingsStore, TwoFactorStore } from '../instances/types.js';
import { requireOwner, SETTINGS_DOCTYPE, type OwnerDeps } from '../auth/owner.js';
import { extractToken } from '../permissions/resolve.js';
import { Permissions, type PermissionSet, type Verb } from '../permissions/rules.js';
import type { Avatars } from './avatar.js';

export { SETTINGS_DOCTYPE };

export interface SettingsDeps extends OwnerDeps {
  config: HearthConfig;
  bus: EventBus;
  /** The settings document's storage (the SQLite registry). */
  store: InstanceSettingsStore;
  /** The owner's second factor, for `auth_mode` (the SQLite registry). */
  twoFactor: TwoFactorStore;
  avatars: Avatars;
  /** Home's wallpaper, kept as the avatar is (wallpaper-routes.ts). */
  wallpapers: Avatars;
}

const OWNER: PermissionSet = { type: 'owner', sourceId: null, rules: [] };

/**
 * The caller's rights, if `allowed` accepts them. Without a token, the owner's session (as the
 * other settings routes); `what` names the right in the 403.
 */
export async function settingsCaller(deps: OwnerDeps, req: FastifyRequest, allowed: (set: PermissionSet) => boolean, what: string): Promise<{ instance: Instance; set: PermissionSet }> {
  const instance = instanceOf(req);
  if (!extractToken(req)) {
    await requireOwner(deps, req, 'GET');
    return { instance, set: OWNER };
  }
  const set = await deps.perms.forRequest(instance, req);
  if (!allowed(set)) throw new Forbidden(`this token cannot ${what}: it needs a right on ${SETTINGS_DOCTYPE}`);
  return { instance, set };
}

/** A verb on one settings document (`io.cozy.settings.instance`…): a rule on the doctype, or restricted to that id. */
export const onDoc = (verb: Verb, id: string) => (set: PermissionSet): boolean => Permissions.allowsDoc(set, verb, SETTINGS_DOCTYPE, { id, fetch: () => [] });

/** cozy-stack's "any valid token" routes (capabilities, context, flags). */
export const anyToken = (): boolean => true;
