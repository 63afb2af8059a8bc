/**
 * Serving a web app on its own host (cozy-stack's web/apps/serve.go; the contract's §2 steps 1–10 and §3 headers).
 * Steps left out: 7 (`?session_code`, flagship only) and the instance-moved 410 page (Hearth has no moves).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { lookup } from 'mime-types';
import { posix } from 'node:path';
import { HearthError, NotFound, PasswordRequired, ServiceUnavailable, Unauthorized } from '../../common/errors.js';
import type { HearthConfig } from '../../config/types.js';
import type { DocStore } from '../../data/store.js';
import type { Instance, InstanceSettingsStore } from '../../instances/types.js';
import { currentSession, type SessionDeps } from '../../auth/session-http.js';
import type { TokenService } from '../../auth/tokens.js';
import type { PermissionResolver } from '../../permissions/resolve.js';
import type { StackAssets } from '../assets/assets.js';
import type { ContextAssets } from '../assets/context-assets.js';
import { contextOf } from '../../instances/context.js';
import { appOrigin, appsParent, type SubdomainMode } from '../hosts.js';
import { findApp } from '../repo.js';
import type { AppDoc, AppFileSource, AppRoute, OpenedAppFile } from '../types.js';
import { appCsp, type CspAllowlist } from './csp.js';
import type { FolderFileSource } from './folder-source.js';
import { IndexCache } from './index-cache.js';
import { TemplateParams } from './params.js';
import { passwordPage } from './password-page.js';
import { renderTemplate } from './template.js';

export interface AppServeDeps extends SessionDeps {
  config: HearthConfig;
  tokens: TokenService;
  perms: PermissionResolver;
  storeOf(instance: Instance): DocStore;
  settings: InstanceSettingsStore;
  /** The installed apps' code (the code store), or null before it is wired. */
  files: AppFileSource | null;
  /** `apps.devDirs`: apps served from folders, in front of the installed ones. */
  dev: FolderFileSource;
  assets: StackAssets;
  allowlist: CspAllowlist;
  /** Whether a slug is offered by a registry (for the 307 to the store); without it, an unknown app is a 404. */
  inRegistry?(instance: Instance, slug: string): Promise<boolean>;
  /** The lazy update of a registry app, run before serving its index (§4.6), when the installer provides it. */
  lazyUpdate?(instance: Instance, app: AppDoc): Promise<AppDoc>;
  /** The per-context stack assets, whose overrides the pages link to. */
  contextAssets?: ContextAssets;
  /** Whether the owner has more connected devices than `cozy.oauthclients.max` allows (oauth/clients-limit.ts). */
  clientsLimitExceeded?(instance: Instance): Promise<boolean>;
}

export interface AppRequest {
  instance: Instance;
  slug: string;
  /** The instance's host as this request names it (`drive.<this>`). */
  instanceHost: string;
}

const DEFAULT_ROUTES: Record<string, AppRoute> = { '/': { folder: '/', index: 'index.html', public: false } };
const TOKEN_REUSE_MS = 5 * 60_000;
/** §2 step 9: a hex id of at least 10 characters between dots in the file name. */
const HASHED = /\.[0-9a-f]{10,}\./i;

/** Most-specific route match (FindRoute): the key with the most segments prefixing the path; the rest is the file. */
export function findRoute(routes: Record<string, AppRoute>, path: string): { route: AppRoute; rest: string } | null {
  const segs = path.split('/').filter(Boolean);
  let best: { route: AppRoute; rest: string; n: number } | null = null;
  for (const [key, route] of Object.entries(routes)) {
    const k = key.split('/').filter(Boolean);
    if (k.length > segs.length || !k.every((s, i) => s === segs[i])) continue;
    if (!best || k.length > best.n) best = { route, rest: segs.slice(k.length).join('/'), n: k.length };
  }
  return best && { route: best.route, rest: best.rest };
}

/** The slug of a `default_redirection` (`<slug>/<path>`), and its URL on this host. */
export function redirectionSlug(target: string): string {
  const slash = target.indexOf('/');
  return slash < 0 ? target : target.slice(0, slash);
}
export function redirectionUrl(instanceHost: string, target: string, mode: SubdomainMode, scheme: string): string {
  const slug = redirectionSlug(target);
  return `${appOrigin(instanceHost, slug, mode, scheme)}/${target.slice(slug.length + 1).replace(/^\/+/, '')}`;
}

/** The request path, percent-decoded and cleaned (Go's path.Clean): null when it cannot be decoded. */
function cleanPath(url: string): string | null {
  try {
    const decoded = decodeURIComponent(url.split('?')[0] ?? '/');
    return decoded.includes('\0') ? null : posix.normalize(`/${decoded}`);
  } catch {
    return null;
  }
}

export class AppServer {
  private readonly indexes = new IndexCache();
  private readonly params: TemplateParams;
  /** The CSP of each instance host (without an intent's grant): it depends only on the host and the configuration. */
  private readonly csps = new Map<string, string>();
  private readonly tokens = new Map<string, { token: string; at: number }>();

  constructor(private readonly deps: AppServeDeps) {
    this.params = new TemplateParams(deps.config);
  }

  private scheme(req: FastifyRequest): 'http' | 'https' {
    return req.protocol === 'https' ? 'https' : 'http';
  }

  private async appOf(instance: Instance, slug: string): Promise<AppDoc | null> {
    if (this.deps.dev.has(slug)) return this.deps.dev.appDoc(slug);
    return findApp(this.deps.storeOf(instance), 'webapp', slug);
  }

  private open(app: AppDoc, path: string, enc: string | undefined): Promise<OpenedAppFile | null> {
    const source = this.deps.dev.has(app.slug) ? this.deps.dev : this.deps.files;
    return source ? source.open(app, 'webapp', path, enc) : Promise.resolve(null);
  }

  /** Whether a web app is served for this slug (installed, or from a dev folder). */
  async installed(instance: Instance, slug: string): Promise<boolean> {
    return (await this.appOf(instance, slug)) !== null;
  }

  csp(r: AppRequest, scheme: 'http' | 'https', frameAncestors: string[] = []): string {
    if (frameAncestors.length) return this.buildCsp(r, scheme, frameAncestors);
    const key = `${scheme}://${r.instanceHost}`;
    let csp = this.csps.get(key);
    if (csp === undefined) {
      if (this.csps.size >= 10_000) this.csps.clear(); // bounded: hosts come from the registry, but many instances may pass
      csp = this.buildCsp(r, scheme, []);
      this.csps.set(key, csp);
    }
    return csp;
  }

  private buildCsp(r: AppRequest, scheme: 'http' | 'https', frameAncestors: string[]): string {
    const siblingsParent = appsParent(r.instanceHost, this.deps.config.apps.subdomains);
    return appCsp({ scheme, instanceHost: r.instanceHost, siblingsParent, allowlist: this.deps.allowlist, frameAncestors });
  }

  async handle(req: FastifyRequest, reply: FastifyReply, r: AppRequest): Promise<FastifyReply> {
    const scheme = this.scheme(req);
    void reply.header('X-Content-Type-Options', 'nosniff');
    if (!this.deps.config.apps.cspDisabled) void reply.header('Content-Security-Policy', this.csp(r, scheme));
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HearthError(405, 'method_not_allowed', `${req.method} is not allowed on an app: only GET and HEAD`, { Allow: 'GET, HEAD' });
    if (!r.instance.onboarded) return reply.code(302).header('Location', `${scheme}://${r.instanceHost}/`).send();
    let app = await this.appOf(r.instance, r.slug);
    if (!app) return this.notInstalled(r, reply, scheme);
    const path = cleanPath(req.url);
    const match = path === null ? null : findRoute(app.routes ?? DEFAULT_ROUTES, path);
    if (!match) throw new NotFound('Page not found');
    const isIndex = match.rest === '';
    if (isIndex && this.deps.lazyUpdate && app.source.startsWith('registry://')) app = await this.deps.lazyUpdate(r.instance, app);
    if (app.state !== 'ready' && app.state !== 'installed') throw new ServiceUnavailable('Application is not ready');
    const session = await currentSession(this.deps, r.instance, req);
    if (!session && !match.route.public) {
      if (path === '/robots.txt') return reply.type('text/plain; charset=utf-8').send(this.deps.assets.get('robots.txt')?.body);
      if (!isIndex) throw new Unauthorized('log in to get this file of a private route');
      const back = `${scheme}://${String(req.headers.host)}${req.url}`;
      return reply.code(302).header('Location', `${scheme}://${r.instanceHost}/auth/login?redirect=${encodeURIComponent(back)}`).send();
    }
    const file = posix.join(match.route.folder || '/', isIndex ? (match.route.index ?? 'index.html') : match.rest).replace(/^\/+/, '');
    if (!isIndex) return this.asset(req, reply, app, file);
    if (session && !match.route.public && app.slug !== 'settings' && (await this.deps.clientsLimitExceeded?.(r.instance))) {
      // cozy-stack's CheckOAuthClientsLimitExceeded: the owner's private pages wait until a device is disconnected
      const back = `${scheme}://${String(req.headers.host)}${req.url}`;
      return reply.code(303).header('Location', `${scheme}://${r.instanceHost}/settings/clients/limit-exceeded?redirect=${encodeURIComponent(back)}`).send();
    }
    return this.index(req, reply, r, app, file, session?.id ?? null, scheme);
  }

  private async notInstalled(r: AppRequest, reply: FastifyReply, scheme: string): Promise<FastifyReply> {
    if (r.slug === 'collect' || r.slug === 'onboarding') {
      const { settings } = await this.deps.settings.settings(r.instance);
      return reply.code(301).header('Location', redirectionUrl(r.instanceHost, settings.defaultRedirection ?? this.deps.config.settings.defaultRedirection, this.deps.config.apps.subdomains, scheme)).send();
    }
    if (this.deps.inRegistry && (await this.appOf(r.instance, 'store')) && (await this.deps.inRegistry(r.instance, r.slug))) {
      return reply.code(307).header('Location', `${appOrigin(r.instanceHost, 'store', this.deps.config.apps.subdomains, scheme)}/#/discover/${r.slug}`).send();
    }
    throw new NotFound(`no app ${r.slug} is installed on this instance`);
  }

  private async asset(req: FastifyRequest, reply: FastifyReply, app: AppDoc, file: string): Promise<FastifyReply> {
    const enc = req.headers['accept-encoding'];
    const opened = await this.open(app, file, typeof enc === 'string' ? enc : undefined);
    if (!opened) throw new NotFound('Asset not found');
    void reply.header('ETag', opened.etag).header('Vary', 'Accept-Encoding');
    if (HASHED.test(posix.basename(file))) void reply.header('Cache-Control', 'max-age=31536000, immutable');
    if (req.headers['if-none-match'] === opened.etag) {
      opened.body.destroy();
      return reply.code(304).send();
    }
    if (opened.contentEncoding) void reply.header('Content-Encoding', opened.contentEncoding);
    const type = lookup(file);
    return reply.type(type ? (type.startsWith('text/') || type.endsWith('javascript') ? `${type}; charset=utf-8` : type) : 'application/octet-stream')
      .header('Content-Length', String(opened.size)).send(opened.body);
  }

  private async index(req: FastifyRequest, reply: FastifyReply, r: AppRequest, app: AppDoc, file: string, sessionId: string | null, scheme: 'http' | 'https'): Promise<FastifyReply> {
    const query = req.query as Record<string, unknown>;
    let token = '';
    if (sessionId) token = await this.appToken(r.instance, app.slug, sessionId);
    else if (typeof query.sharecode === 'string' && query.sharecode) {
      const share = await this.shareToken(r.instance, req, query.sharecode);
      if (share === 'password') return passwordPage(reply, r, scheme, await this.permIdOf(r.instance, query.sharecode));
      token = share ?? '';
    }
    if (typeof query.intent === 'string' && query.intent && !this.deps.config.apps.cspDisabled) {
      const ancestors = await this.intentAncestors(r, app.slug, query.intent, scheme);
      if (ancestors.length) void reply.header('Content-Security-Policy', this.csp(r, scheme, ancestors));
    }
    const entry = await this.indexes.get(app, file, () => this.open(app, file, undefined));
    if (!entry) throw new NotFound('Page not found');
    const theme = entry.theme ? (await this.deps.settings.settings(r.instance)).settings.theme : undefined;
    const ctx = this.deps.contextAssets;
    const overrides = ctx && entry.parts !== null ? { generation: ctx.generation, names: await ctx.hashedNames(contextOf(r.instance)) } : undefined;
    const html = entry.parts === null ? entry.raw : renderTemplate(entry.parts, this.params.values({
      config: this.deps.config, assets: this.deps.assets, instance: r.instance, domain: r.instanceHost, app, token, loggedIn: sessionId !== null, theme, overrides,
    }));
    return reply.type('text/html; charset=UTF-8').header('Cache-Control', 'private, no-store, must-revalidate').send(html);
  }

  /**
   * The app token of a session for an app (aud app, sub slug, session_id). Signing one costs more than the rest of the page
   * (WebCrypto HMAC), so a token is reused for TOKEN_REUSE_MS: it stays valid 24 h from its iat, and logging out revokes
   * it with its session whatever its age.
   */
  private async appToken(instance: Instance, slug: string, sessionId: string): Promise<string> {
    const key = `${instance.id}\n${sessionId}\n${slug}`;
    const now = Date.now();
    const hit = this.tokens.get(key);
    if (hit && now - hit.at < TOKEN_REUSE_MS) return hit.token;
    const token = await this.deps.tokens.issue(instance, { aud: 'app', sub: slug, session_id: sessionId });
    if (this.tokens.size >= 10_000) this.tokens.clear();
    this.tokens.set(key, { token, at: now });
    return token;
  }

  /** A share code's token for the page (a shortcode becomes its JWT), 'password' when its link wants one, null when invalid. */
  private async shareToken(instance: Instance, req: FastifyRequest, code: string): Promise<string | 'password' | null> {
    try {
      await this.deps.perms.forRequest(instance, { headers: { authorization: `Bearer ${code}`, cookie: req.headers.cookie }, query: {} });
    } catch (e) {
      if (e instanceof PasswordRequired) return 'password';
      if (e instanceof HearthError) return null;
      throw e;
    }
    if (code.includes('.')) return code;
    const doc = await this.deps.perms.docs.findByShortcode(instance, code);
    const shortcodes = (doc?.shortcodes ?? {}) as Record<string, string>;
    const name = Object.keys(shortcodes).find((k) => shortcodes[k] === code);
    return (name && (doc?.codes as Record<string, string> | undefined)?.[name]) || code;
  }

  private async permIdOf(instance: Instance, code: string): Promise<string> {
    if (!code.includes('.')) return String((await this.deps.perms.docs.findByShortcode(instance, code))?._id ?? '');
    try {
      return (await this.deps.tokens.verify(instance, code)).sub ?? '';
    } catch {
      return '';
    }
  }

  /** `?intent=<id>`: the client app's origin may frame this page when this app is among the intent's services. */
  private async intentAncestors(r: AppRequest, slug: string, id: string, scheme: string): Promise<string[]> {
    const doc = await this.deps.storeOf(r.instance).get('io.cozy.intents', id).catch((e: unknown) => {
      if (e instanceof NotFound) return null;
      throw e;
    });
    const services = Array.isArray(doc?.services) ? (doc.services as Array<{ slug?: unknown }>) : [];
    const client = typeof doc?.client === 'string' ? /^io\.cozy\.apps\/([a-z0-9][a-z0-9-]{0,62})$/.exec(doc.client) : null;
    if (!client || !services.some((s) => s.slug === slug)) return [];
    return [appOrigin(r.instanceHost, client[1]!, this.deps.config.apps.subdomains, scheme)];
  }
}
