/**
 * `hearth serve --dev`: the servers bind their ports first, then the default instance is found or created.
 * The dev instance is remembered by a marker file in the data directory (its id and domain), so that a restart on
 * another port serves the same instance (through aliases) instead of creating a second, empty one.
 * It is reachable as hearth.localhost, localhost and 127.0.0.1 on its port: Node and many tools do not resolve
 * *.localhost (Debian 12), curl and browsers do.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { adminUrlOf } from '../config/admin-url.js';
import { DEFAULTS } from '../config/schema.js';
import type { HearthConfig } from '../config/types.js';
import type { Instance, InstanceRegistry } from '../instances/types.js';
import type { TokenService } from '../auth/tokens.js';

const MARKER = 'dev-instance.json';

/** Listens, turning a busy port into an error that says which flag, variable or key changes it. */
export async function listenOrExplain(app: FastifyInstance, where: { host: string; port: number }, what: 'public' | 'admin'): Promise<string> {
  try {
    return await app.listen({ host: where.host, port: where.port });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw e;
    const [flag, env, key] = what === 'public' ? ['--port', 'HEARTH_SERVER_PORT', 'server.port'] : ['--admin-port', 'HEARTH_ADMIN_PORT', 'admin.port'];
    const why = code === 'EADDRINUSE' ? 'is already in use (another hearth?)' : 'needs privileges';
    throw new Error(`port ${where.port} of ${where.host} (the ${what} API) ${why}: stop what uses it, or choose another port with ${flag} N (or ${env}=N, or ${key} in hearth.yaml)`, { cause: e });
  }
}

/** The hosts the dev instance answers on `port`: its own name and the loopback names every client resolves. */
export function devHosts(name: string, port: number): string[] {
  const host = name.replace(/:\d+$/, '');
  return [...new Set([host, 'localhost', '127.0.0.1'].map((h) => `${h}:${port}`))];
}

interface Deps {
  config: HearthConfig;
  registry: InstanceRegistry;
  tokens: TokenService;
  /** The port the public API listens on (the real one when the configuration says 0). */
  port: number;
  adminUrl: string;
  write?: (text: string) => void;
}

function readMarker(dataDir: string): { id: string; domain: string } | null {
  try {
    const m = JSON.parse(readFileSync(join(dataDir, MARKER), 'utf8')) as { id?: unknown; domain?: unknown };
    return typeof m.id === 'string' && typeof m.domain === 'string' ? { id: m.id, domain: m.domain } : null;
  } catch {
    return null;
  }
}

/** Finds (by the marker, else by name) or creates the dev instance, and makes it answer on this port's loopback names. */
export async function ensureDevInstance(deps: Deps): Promise<Instance> {
  const { config, registry, port } = deps;
  const write = deps.write ?? ((text: string) => void process.stdout.write(text));
  const explicit = config.devInstance !== DEFAULTS.devInstance;
  const wanted = explicit ? config.devInstance : `hearth.localhost:${port}`;
  const marker = readMarker(config.dataDir);
  const marked = marker && !explicit ? await registry.get(marker.domain) : null;
  let instance = marked?.id === marker?.id ? marked : null;
  instance ??= await registry.get(wanted);
  // a data directory from before the marker: the dev instance made with the default port
  if (!instance && !explicit && !marker) instance = await registry.get(DEFAULTS.devInstance);
  const hosts = devHosts(wanted, port);
  if (!instance) {
    const free = await freeHosts(registry, hosts.filter((h) => h !== wanted), null);
    const passphrase = randomBytes(12).toString('base64url');
    instance = await registry.create({ domain: wanted, aliases: free, passphrase, publicName: 'Hearth owner' });
    writeFileSync(join(config.dataDir, MARKER), JSON.stringify({ id: instance.id, domain: instance.domain }) + '\n', { mode: 0o600 });
    write(await banner(deps, instance, free, passphrase));
    return instance;
  }
  const current = instance;
  const missing = await freeHosts(registry, hosts.filter((h) => h !== current.domain && !current.aliases.includes(h)), current.id);
  if (missing.length > 0) instance = await registry.modify(instance.domain, { aliases: [...instance.aliases, ...missing] });
  writeFileSync(join(config.dataDir, MARKER), JSON.stringify({ id: instance.id, domain: instance.domain }) + '\n', { mode: 0o600 });
  if (!instance.domain.endsWith(`:${port}`)) {
    const also = hosts.filter((h) => instance.domain === h || instance.aliases.includes(h)).map((h) => `http://${h}`);
    write(`\n  The dev instance http://${instance.domain} (created on another port; same data, same passphrase) is served here as ${also.join(', ')}\n\n`);
  }
  return instance;
}

/** The hosts no other instance uses (a user may have made an instance of localhost:<port> before). */
async function freeHosts(registry: InstanceRegistry, hosts: string[], owner: string | null): Promise<string[]> {
  const free: string[] = [];
  for (const h of hosts) {
    const found = await registry.findByHost(h);
    if (!found || found.id === owner) free.push(h);
  }
  return free;
}

async function banner(deps: Deps, instance: Instance, aliases: string[], passphrase: string): Promise<string> {
  const token = await deps.tokens.issue(instance, { aud: 'cli', sub: 'cli', scope: 'io.cozy.contacts io.cozy.notes' });
  const url = `http://${instance.domain}`;
  const others = aliases.map((a) => `http://${a}`).join(' and ');
  // the CLI finds the admin API from the same configuration (HEARTH_ADMIN_PORT, hearth.yaml), not from a --admin-port flag
  const adminUrl = deps.adminUrl === adminUrlOf(DEFAULTS) ? '' : ` --admin-url ${deps.adminUrl}`;
  return [
    '',
    `  A new instance was created for ${url}${others ? ` (also ${others})` : ''}`,
    `  Owner passphrase (shown once, keep it): ${passphrase}`,
    '',
    '  A CLI token for io.cozy.contacts and io.cozy.notes, valid 30 minutes (paste the line into your shell):',
    `    TOKEN=${token}`,
    `  Get more with:  node bin/hearth.js instances token-cli${adminUrl} ${instance.domain} io.cozy.contacts`,
    '  Try it:',
    `    curl -H "Authorization: Bearer $TOKEN" ${url}/data/io.cozy.contacts/_all_docs`,
    '',
  ].join('\n') + '\n';
}
