/**
 * Test support only (imported by *.test.ts, never by the CLI): an in-memory
 * InstanceRegistry and an admin Fastify app wired like server/compose.ts, so that
 * admin routes and CLI commands can be tested without SQLite.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { TokenService } from '../../auth/tokens.js';
import { Conflict, NotFound } from '../../common/errors.js';
import type { HearthConfig } from '../../config/types.js';
import { DEFAULTS } from '../../config/schema.js';
import { registerAdminRoutes, type AdminDeps } from '../../instances/admin-routes.js';
import { normalizeHost, validateDomain } from '../../instances/domain.js';
import { errorHandler } from '../../server/http-errors.js';
import type { Instance, InstancePatch, InstanceRegistry, InstanceSecrets, NewInstance } from '../../instances/types.js';

export class MemoryRegistry implements InstanceRegistry {
  readonly instances = new Map<string, Instance>();
  private readonly keys = new Map<string, InstanceSecrets>();

  async create(input: NewInstance): Promise<Instance> {
    const domain = validateDomain(input.domain);
    if (await this.findByHost(domain)) throw new Conflict(`an instance already exists for ${domain}`);
    const now = new Date().toISOString();
    const i: Instance = {
      id: randomUUID(), domain, aliases: input.aliases ?? [], locale: input.locale ?? 'en', email: input.email ?? null,
      publicName: input.publicName ?? null, tz: input.tz ?? null, diskQuota: input.diskQuota ?? null,
      passphraseHash: input.passphrase ? `$argon2id$fake$${input.passphrase}` : null, onboarded: !!input.passphrase,
      kdfIterations: input.kdfIterations ?? 650_000, createdAt: now, updatedAt: now,
    };
    this.instances.set(domain, i);
    this.keys.set(i.id, { session: randomBytes(32), cli: randomBytes(32), oauth: randomBytes(32) });
    return i;
  }
  async get(domain: string) { return this.instances.get(normalizeHost(domain)) ?? null; }
  async findByHost(host: string) {
    const h = normalizeHost(host);
    return [...this.instances.values()].find((i) => i.domain === h || i.aliases.includes(h)) ?? null;
  }
  async list() { return [...this.instances.values()]; }
  async count() { return this.instances.size; }
  async modify(domain: string, patch: InstancePatch): Promise<Instance> {
    const cur = await this.get(domain);
    if (!cur) throw new NotFound(`no instance for ${domain}`);
    const { passphrase, ...rest } = patch;
    const next: Instance = { ...cur, ...(rest as Partial<Instance>), updatedAt: new Date().toISOString() };
    if (passphrase) Object.assign(next, { passphraseHash: `$argon2id$fake$${passphrase}`, onboarded: true });
    this.instances.set(cur.domain, next);
    return next;
  }
  async destroy(domain: string) {
    if (!this.instances.delete(normalizeHost(domain))) throw new NotFound(`no instance for ${domain}`);
  }
  async secrets(i: Instance) {
    const s = this.keys.get(i.id);
    if (!s) throw new NotFound(`no instance for ${i.domain}`);
    return s;
  }
  async checkPassphrase(i: Instance, derived: string) { return this.instances.get(i.domain)?.passphraseHash === `$argon2id$fake$${derived}`; }
  async setDerivedPassphrase(i: Instance, derived: string, iterations: number) {
    const next = { ...i, passphraseHash: `$argon2id$fake$${derived}`, kdfIterations: iterations, onboarded: true };
    this.instances.set(i.domain, next);
    return next;
  }
  async ping() { return 0; }
  async close() {}
}

export function testConfig(over: { dev?: boolean; passphrase?: string | null; passphraseHash?: string | null } = {}): HearthConfig {
  const c = structuredClone(DEFAULTS);
  c.dev = over.dev ?? false;
  c.admin.passphrase = over.passphrase === undefined ? 'admin-secret' : over.passphrase;
  c.admin.passphraseHash = over.passphraseHash ?? null;
  return c;
}

export interface AdminFixture {
  app: FastifyInstance;
  registry: MemoryRegistry;
  tokens: TokenService;
  grants: Array<{ domain: string; kind: 'app' | 'konnector'; slug: string; scope: string | null }>;
}

/** A Fastify admin app with the routes, an error handler like the lead's, and recorded grants. */
export async function adminApp(config: HearthConfig = testConfig(), overrides: Partial<AdminDeps> = {}): Promise<AdminFixture> {
  const registry = new MemoryRegistry();
  const tokens = new TokenService(registry);
  const grants: AdminFixture['grants'] = [];
  const app = Fastify();
  app.setErrorHandler(errorHandler);
  await registerAdminRoutes(app, {
    config, registry, tokens,
    grant: async (i, kind, slug, scope) => void grants.push({ domain: i.domain, kind, slug, scope }),
    appSession: async () => ({ id: '0'.repeat(32), cookie: 'test-session-cookie' }),
    status: async () => ({ status: 'OK', message: 'OK', registry: 'healthy' }),
    version: { version: '0.1.0', build_mode: 'test', runtime_version: process.version },
    ...overrides,
  });
  return { app, registry, tokens, grants };
}
