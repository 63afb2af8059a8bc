/**
 * The admin API (cozy-stack's :6060): instance CRUD, token minting, status and
 * version, behind HTTP Basic auth with the admin passphrase. Each route declares its
 * schemas (schemas.ts), checked by the same compilers as the public API's
 * (server/validation.ts): the owner's fields with the public API's own schemas.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { verify } from '@node-rs/argon2';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequest, HearthError, NotFound } from '../common/errors.js';
import type { TokenService } from '../auth/tokens.js';
import { registrationUrl } from '../auth/passphrase-routes.js';
import type { HearthConfig } from '../config/types.js';
import { parseScope } from '../permissions/rules.js';
import { canonicalTz, emptyIsNull, normalizeLocale, trimmedName } from '../settings/validate.js';
import { checkContextName, contextOf } from './context.js';
import { normalizeHost, validateDomain } from './domain.js';
import { findInstance } from './find.js';
import { WITH_SLASH } from '../status/routes.js';
import * as S from './schemas.js';
import type { Instance, InstancePatch, InstanceRegistry } from './types.js';

export interface AdminDeps {
  config: HearthConfig;
  registry: InstanceRegistry;
  tokens: TokenService;
  /** Records the rights of an app or konnector slug in the instance; a null scope keeps those already recorded. */
  grant(instance: Instance, kind: 'app' | 'konnector', slug: string, scope: string | null): Promise<void>;
  /** Opens an owner session (user agent "hearth-cli") for an app token: its id and its `cozysessid` cookie value. */
  appSession(instance: Instance): Promise<{ id: string; cookie: string }>;
  status(): Promise<{ status: 'OK' | 'KO'; [k: string]: unknown }>;
  version: { version: string; build_mode: string; runtime_version: string };
  /** Lifts the owner-login lock-out of an instance (PATCH with `unlock: true`). */
  unlockLogin?(instance: Instance): Promise<void>;
  /** Checks the instance's file system (files/fsck.ts); `clean` removes orphan blobs. */
  fsck?(instance: Instance, clean: boolean): Promise<unknown[]>;
}

/** The page size of GET /instances without page[limit]. */
const PAGE_DEFAULT = 100;

type Editable = {
  passphrase?: string; email?: string | null; locale?: string; public_name?: string | null; tz?: string | null; disk_quota?: number | null; domain_aliases?: string[];
  context_name?: string; tos_signed?: string | null; tos_latest?: string | null;
};
type TokenBody = { domain: string; audience: 'cli' | 'app' | 'konnector' | 'konn'; subject?: string; scope?: string };

/** The admin view of an instance (JSON-API resource): never a secret or a hash. */
export function instanceResource(i: Instance) {
  return {
    type: 'instances',
    id: i.id,
    attributes: {
      domain: i.domain,
      domain_aliases: i.aliases,
      locale: i.locale,
      email: i.email,
      public_name: i.publicName,
      tz: i.tz,
      disk_quota: i.diskQuota,
      onboarded: i.onboarded,
      context_name: contextOf(i),
      tos_signed: i.tosSigned ?? null,
      tos_latest: i.tosLatest ?? null,
      created_at: i.createdAt,
      updated_at: i.updatedAt,
    },
    meta: {} as { registration_url?: string },
  };
}

/** The body (checked by its schema) as a registry patch, normalised as PUT /settings/instance normalises it. */
function toPatch(b: Editable): InstancePatch {
  const p: InstancePatch = {};
  if (b.passphrase !== undefined) p.passphrase = b.passphrase;
  if (b.email !== undefined) p.email = emptyIsNull(b.email);
  if (b.locale !== undefined) p.locale = normalizeLocale(b.locale);
  if (b.public_name !== undefined) p.publicName = trimmedName(b.public_name);
  if (b.tz !== undefined) p.tz = canonicalTz(b.tz);
  if (b.disk_quota !== undefined) p.diskQuota = b.disk_quota;
  if (b.domain_aliases !== undefined) p.aliases = b.domain_aliases.map(validateDomain);
  if (b.context_name !== undefined) p.contextName = checkContextName(b.context_name);
  if (b.tos_signed !== undefined) p.tosSigned = emptyIsNull(b.tos_signed);
  if (b.tos_latest !== undefined) p.tosLatest = emptyIsNull(b.tos_latest);
  return p;
}

const sha = (s: string) => createHash('sha256').update(s).digest();
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

async function authenticate(config: HearthConfig, req: FastifyRequest): Promise<void> {
  if (config.dev && LOOPBACK.test(req.socket.remoteAddress ?? '')) return;
  const challenge = { 'WWW-Authenticate': 'Basic realm="hearth-admin"' };
  const { passphrase, passphraseHash } = config.admin;
  if (passphrase === null && passphraseHash === null) {
    throw new HearthError(401, 'unauthorized', 'the admin API is locked: set HEARTH_ADMIN_PASSPHRASE (or admin.passphraseHash) and restart hearth', challenge);
  }
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '');
  const decoded = m ? Buffer.from(m[1] as string, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  const given = colon >= 0 ? decoded.slice(colon + 1) : null;
  let ok = false;
  if (given !== null && passphrase !== null) ok = timingSafeEqual(sha(given), sha(passphrase));
  if (given !== null && !ok && passphraseHash !== null) ok = await verify(passphraseHash, given).catch(() => false);
  if (!ok) {
    const reason = given === null ? 'the admin API needs HTTP Basic credentials (user admin, the admin passphrase)' : 'invalid admin passphrase';
    throw new HearthError(401, 'unauthorized', reason, challenge);
  }
}

export async function registerAdminRoutes(app: FastifyInstance, deps: AdminDeps): Promise<void> {
  const { registry } = deps;
  const find = (raw: string): Promise<Instance> => findInstance(registry, raw);

  app.addHook('onRequest', async (req) => authenticate(deps.config, req));

  // a page at a time, by domain (JSON-API's page[limit], page[cursor]: the last domain of the previous page; the schema checked them)
  app.get<{ Querystring: { 'page[limit]'?: number; 'page[cursor]'?: string } }>('/instances', { schema: S.list }, async (req, reply) => {
    const limit = req.query['page[limit]'] ?? PAGE_DEFAULT;
    const cursor = req.query['page[cursor]'];
    const page = await registry.page({ limit: limit + 1, ...(cursor ? { after: normalizeHost(cursor) } : {}) });
    const data = page.slice(0, limit).map(instanceResource);
    const next = page.length > limit ? `/instances?page[limit]=${limit}&page[cursor]=${encodeURIComponent(page[limit - 1]!.domain)}` : null;
    return reply.type('application/vnd.api+json').send({ data, meta: { count: await registry.count() }, links: next ? { next } : {} });
  });
  app.get('/instances/count', { schema: S.count }, async () => ({ count: await registry.count() }));
  app.post<{ Body: Editable & { domain: string } }>('/instances', { schema: S.create }, async (req, reply) => {
    const { domain: d, ...rest } = req.body;
    const instance = await registry.create({ domain: validateDomain(d), ...toPatch(rest) });
    const data = instanceResource(instance);
    // shown once: the onboarding link with the clear token (only its hash is stored)
    if (instance.registerToken) Object.assign(data.meta, { registration_url: registrationUrl(instance.domain, instance.registerToken, deps.config.dev) });
    return reply.code(201).type('application/vnd.api+json').send({ data });
  });
  app.get<{ Params: { domain: string } }>('/instances/:domain', { schema: S.read }, async (req, reply) => {
    return reply.type('application/vnd.api+json').send({ data: instanceResource(await find(req.params.domain)) });
  });
  app.patch<{ Params: { domain: string }; Body: Editable & { unlock?: boolean } }>('/instances/:domain', { schema: S.modify }, async (req, reply) => {
    const current = await find(req.params.domain);
    if (req.body.unlock === true) await deps.unlockLogin?.(current);
    const instance = await registry.modify(current.domain, toPatch(req.body));
    return reply.type('application/vnd.api+json').send({ data: instanceResource(instance) });
  });
  app.delete<{ Params: { domain: string } }>('/instances/:domain', { schema: S.destroy }, async (req, reply) => {
    const current = await find(req.params.domain);
    await registry.destroy(current.domain);
    return reply.code(204).send();
  });
  app.post<{ Body: TokenBody }>('/instances/token', { schema: S.token }, async (req) => {
    const { audience, subject, scope } = req.body;
    if (scope !== undefined) parseScope(scope); // a bad scope is refused here (400), as the public API refuses it
    const instance = await find(req.body.domain);
    if (audience === 'app') {
      if (subject === undefined) throw new BadRequest('"subject" (the app slug) is required for audience "app"');
      await deps.grant(instance, 'app', subject, scope ?? null);
      // an app token is valid only with the cookie of its session (cozy-stack): both are returned
      const session = await deps.appSession(instance);
      return { token: await deps.tokens.issue(instance, { aud: 'app', sub: subject, session_id: session.id }), session_cookie: session.cookie };
    }
    if (audience === 'konnector' || audience === 'konn') {
      if (subject === undefined) throw new BadRequest('"subject" (the konnector slug) is required for audience "konnector"');
      await deps.grant(instance, 'konnector', subject, scope ?? null);
      return { token: await deps.tokens.issue(instance, { aud: 'konn', sub: subject }) };
    }
    if (scope === undefined) throw new BadRequest('"scope" is required for audience "cli" (e.g. "io.cozy.files io.cozy.contacts")');
    return { token: await deps.tokens.issue(instance, { aud: 'cli', sub: subject ?? 'cli', scope }) };
  });
  // cozy-stack's admin fsck: one JSON object per line, one line per problem (none: an empty body)
  app.get<{ Params: { domain: string }; Querystring: { clean?: string } }>('/instances/:domain/fsck', { schema: S.fsck }, async (req, reply) => {
    const instance = await find(req.params.domain);
    if (!deps.fsck) throw new NotFound('this server has no file system to check');
    const log = await deps.fsck(instance, req.query.clean === 'true');
    return reply.type('application/x-ndjson').send(log.map((e) => JSON.stringify(e) + '\n').join(''));
  });
  for (const path of WITH_SLASH('/status')) {
    app.get(path, { schema: S.status }, async (_req, reply) => {
      const status = await deps.status();
      return reply.code(status.status === 'OK' ? 200 : 502).send(status);
    });
  }
  for (const path of WITH_SLASH('/version')) app.get(path, { schema: S.version }, async () => deps.version);
}
