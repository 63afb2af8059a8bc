/**
 * The limit of connected devices (cozy-stack's flag `cozy.oauthclients.max`, model/oauth CheckOAuthClientsLimitReached):
 * the OAuth clients that count are those of the owner's devices, with a kind and a name. Read by GET /settings/clients-usage,
 * the limit-exceeded page, the authorize flow and the serving of an app's index.
 */
import type { HearthConfig } from '../config/types.js';
import type { Instance } from '../instances/types.js';
import { configFlag } from '../settings/flags.js';
import type { OAuthClient, OAuthClients } from './clients.js';

/** The limit of the flag `cozy.oauthclients.max`, or null when there is none (cozy-stack: a number ≥ 0). */
export function clientsLimit(config: HearthConfig): number | null {
  const max = configFlag(config.settings.flags, 'cozy.oauthclients.max');
  return typeof max === 'number' && max >= 0 ? Math.floor(max) : null;
}

/** The clients of the owner's devices, as cozy-stack counts them: those with a kind and a name, the latest first. */
export async function connectedDevices(clients: OAuthClients, instance: Instance): Promise<OAuthClient[]> {
  const devices = (await clients.list(instance)).filter((c) => !!c.client_kind && !!c.client_name);
  return devices.sort((a, b) => (b.created_at > a.created_at ? 1 : b.created_at < a.created_at ? -1 : 0));
}

/** Whether more devices are connected than the limit allows (what sends an app's page to the limit-exceeded page). */
export async function clientsLimitExceeded(config: HearthConfig, clients: OAuthClients, instance: Instance): Promise<boolean> {
  const limit = clientsLimit(config);
  return limit !== null && (await connectedDevices(clients, instance)).length > limit;
}
