import { isIPv6 } from 'node:net';
import type { HearthConfig } from './types.js';

/** The admin API's URL as a server with this configuration listens (a wildcard listen address is reached on loopback). */
export function adminUrlOf(config: Pick<HearthConfig, 'admin'>): string {
  const host = config.admin.host === '0.0.0.0' ? '127.0.0.1' : config.admin.host === '::' ? '::1' : config.admin.host;
  return `http://${isIPv6(host) ? `[${host}]` : host}:${config.admin.port}`;
}
