/**
 * The instance of a request, looked up once (the hot path): the Host header is an instance's domain or alias, or an app
 * host of one (apps/hosts.ts, `apps.subdomains`). The first onRequest hook of the public server sets `req.instance`,
 * `req.hostApp` and `req.moveState` (the instance's move state, read once from its per-process cache); the gates of a
 * blocked or moved instance (move/import/gate.ts, move/transfer/moved.ts), the app hosts (apps/serve/dispatch.ts) and the
 * API then read them instead of resolving the Host again.
 */
import type { FastifyInstance } from 'fastify';
import { splitAppHost, type SubdomainMode } from '../apps/hosts.js';
import type { Instance, InstanceRegistry } from '../instances/types.js';
import type { MoveState, MoveStateStore } from '../move/state.js';

/** An app host: the app's slug and the host of its instance. */
export interface HostApp { slug: string; instanceHost: string }

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the Host is an app host of `instance` (not an instance's own domain): the app's slug and the instance's host. */
    hostApp: HostApp | null;
    /** The move state of `instance` (null: none, or no instance). */
    moveState: MoveState | null;
  }
}

export interface RequestInstanceDeps {
  registry: Pick<InstanceRegistry, 'findByHost'>;
  subdomains: SubdomainMode;
  /** Absent when this server has no imports nor moves: no move state is read. */
  moveStates?: Pick<MoveStateStore, 'get'>;
}

/** The instance a Host header names: its own domain first, else the instance of the app host, else null. */
export async function instanceOfHost(deps: Omit<RequestInstanceDeps, 'moveStates'>, rawHost: string): Promise<{ instance: Instance; hostApp: HostApp | null } | null> {
  const host = rawHost.toLowerCase();
  if (!host) return null;
  const own = await deps.registry.findByHost(host);
  if (own) return { instance: own, hostApp: null };
  const split = splitAppHost(host, deps.subdomains);
  const owner = split ? await deps.registry.findByHost(split.instanceHost) : null;
  return owner && split ? { instance: owner, hostApp: split } : null;
}

/** Registers the lookup (before the gates and the app hosts). An unknown host leaves `req.instance` null: the API's hook answers 404. */
export function registerRequestInstance(app: FastifyInstance, deps: RequestInstanceDeps): void {
  app.decorateRequest('hostApp', null);
  app.decorateRequest('moveState', null);
  app.addHook('onRequest', async (req) => {
    const found = await instanceOfHost(deps, String(req.headers.host ?? ''));
    if (!found) return;
    req.instance = found.instance;
    req.hostApp = found.hostApp;
    if (deps.moveStates) req.moveState = await deps.moveStates.get(found.instance.id);
  });
}
