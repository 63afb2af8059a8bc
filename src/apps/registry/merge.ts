/**
 * The registries of `apps.registries`, in order (contract §6): a single object comes from the first
 * registry that has it; lists merge every registry, an app of a registry hiding the same slug in the
 * ones after it, with one cursor per registry in the `cursor` string (`c0|c1|…`, -1 for a registry
 * whose end was reached, as cozy-stack's multi-cursor).
 *
 * A registry that cannot be reached (no answer within its timeout, a 5xx, a broken answer) is skipped
 * with a warning in the log, so that a self-hosted Hearth offline, whose list ends with cozy's registry,
 * still offers the apps of its local folder; cozy-stack fails the request instead. Only when every
 * registry failed does the request fail (502). A registry that failed is then skipped without being asked
 * for `retryAfterMs` (30 s), so that an offline Hearth does not wait for the timeout on each request.
 */
import type { Readable } from 'node:stream';
import { BadGateway, BadRequest, NotFound, UnprocessableEntity } from '../../common/errors.js';
import { HttpRegistry } from './http.js';
import { LocalRegistry } from './local.js';
import { DEFAULT_LIMIT, MAX_LIMIT, sorter } from './query.js';
import { channelOf, isChannel } from './versions.js';
import type { AppsPage, AssetPath, Channel, ListQuery, Registries, RegistryApp, RegistryAsset, RegistryClient, RegistryVersion } from './types.js';

export interface WarnLogger {
  warn(obj: object, msg: string): void;
}

/** The clients of a comma-separated `apps.registries` value: `http(s)://…` or `file:///dir`. */
export function clientsOf(registries: string, options: { timeoutMs?: number } = {}): RegistryClient[] {
  return registries.split(',').map((s) => s.trim()).filter(Boolean).map((raw) => {
    const url = new URL(raw);
    if (url.protocol === 'file:') return new LocalRegistry(url.href);
    if (url.protocol === 'http:' || url.protocol === 'https:') return new HttpRegistry(url.href, options);
    throw new Error(`apps.registries: "${raw}" is neither an http(s):// registry nor a file:/// folder`);
  });
}

/** The most pages read from one registry for one list request (a registry is read whole unless it is the last). */
const MAX_PAGES = 100;

/** A candidate of a merged page: where it sits in its registry's list. */
interface Candidate {
  app: RegistryApp;
  registry: number;
  position: number;
}

export class MergedRegistries implements Registries {
  /** Until when each registry that just failed is skipped without being asked (ms since the epoch). */
  private readonly downUntil = new Map<RegistryClient, number>();
  private readonly retryAfterMs: number;
  private readonly now: () => number;

  /**
   * `retryAfterMs` (default 30 s): after a failure, a registry is skipped without being asked for that long,
   * so that an offline Hearth does not wait for its timeout on every request (the lazy update runs on each
   * app index it serves).
   */
  constructor(
    readonly clients: RegistryClient[],
    private readonly logger: WarnLogger,
    options: { retryAfterMs?: number; now?: () => number } = {},
  ) {
    this.retryAfterMs = options.retryAfterMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Asks one registry, or throws BadGateway at once while it is marked down; a failure marks it down and is logged. */
  private async ask<T>(c: RegistryClient, what: string, fn: () => Promise<T>): Promise<T> {
    const until = this.downUntil.get(c);
    if (until !== undefined && this.now() < until) throw new BadGateway(`the app registry ${c.base} failed less than ${this.retryAfterMs} ms ago`);
    try {
      const value = await fn();
      this.downUntil.delete(c);
      return value;
    } catch (e) {
      if (!(e instanceof BadGateway)) throw e;
      this.downUntil.set(c, this.now() + this.retryAfterMs);
      this.logger.warn({ registry: c.base, err: e.message, retry_in_ms: this.retryAfterMs }, `app registry skipped for ${what}`);
      throw e;
    }
  }

  /**
   * Asks each registry in order until one answers something not null. A failing registry is skipped
   * (logged); when all failed the last failure is thrown.
   */
  private async first<T>(what: string, ask: (c: RegistryClient) => Promise<T | null>): Promise<T | null> {
    let failure: unknown = null;
    let answered = false;
    for (const c of this.clients) {
      try {
        const found = await this.ask(c, what, () => ask(c));
        answered = true;
        if (found !== null) return found;
      } catch (e) {
        if (!(e instanceof BadGateway)) throw e;
        failure = e;
      }
    }
    if (!answered && failure) throw failure;
    return null;
  }

  async resolveVersion(slug: string, channelOrVersion: string): Promise<RegistryVersion> {
    let found: RegistryVersion | null;
    if (isChannel(channelOrVersion)) {
      found = await this.latestVersion(slug, channelOrVersion);
    } else {
      if (!channelOf(channelOrVersion)) throw new UnprocessableEntity(`"${channelOrVersion.slice(0, 100)}" is neither a channel (stable, beta, dev) nor a version (X.Y.Z, X.Y.Z-beta.N, X.Y.Z-dev.<id>)`);
      found = await this.first(`${slug}@${channelOrVersion}`, (c) => c.version(slug, channelOrVersion));
    }
    if (!found) throw new NotFound(`no app registry has ${slug} ${channelOrVersion}`);
    return found;
  }

  latestVersion(slug: string, channel: Channel): Promise<RegistryVersion | null> {
    return this.first(`${slug} ${channel}/latest`, (c) => c.latest(slug, channel));
  }

  application(slug: string): Promise<RegistryApp | null> {
    return this.first(slug, (c) => c.application(slug));
  }

  asset(slug: string, version: string | null, path: AssetPath): Promise<RegistryAsset | null> {
    return this.first(`${slug} ${path}`, (c) => c.asset(slug, version, path));
  }

  async openTarball(version: RegistryVersion): Promise<Readable> {
    if (version.url.startsWith('file:')) {
      const local = this.clients.find((c) => c instanceof LocalRegistry && version.url.startsWith(c.base));
      if (!local) throw new UnprocessableEntity(`the tarball ${version.url.slice(0, 300)} is not in a local registry of apps.registries`, 'invalid_source');
      return local.openTarball(version);
    }
    const http = this.clients.find((c) => c instanceof HttpRegistry) ?? new HttpRegistry(version.url);
    return http.openTarball(version);
  }

  async maintenance(): Promise<RegistryApp[]> {
    const out: RegistryApp[] = [];
    for (const [i, c] of this.clients.entries()) {
      let list: RegistryApp[];
      try {
        list = await this.ask(c, 'the maintenance list', () => c.maintenance());
      } catch (e) {
        if (!(e instanceof BadGateway)) throw e;
        continue;
      }
      for (const app of list) {
        // an app of a registry before this one hides this one's (cozy-stack masks its maintenance likewise)
        const masked = await this.first(app.slug, async (h) => (this.clients.indexOf(h) < i ? h.application(app.slug) : null)).catch(() => null);
        if (!masked && !out.some((a) => a.slug === app.slug)) out.push(app);
      }
    }
    return out;
  }

  private parseCursor(cursor: string | undefined): number[] {
    const parts = cursor ? cursor.split('|') : [];
    if (parts.length > this.clients.length || parts.some((p) => !/^(-1|\d{1,12})$/.test(p))) {
      throw new BadRequest(`invalid cursor "${String(cursor).slice(0, 100)}": send back meta.next_cursor as it came`);
    }
    return this.clients.map((_, i) => Number(parts[i] ?? 0));
  }

  /** The candidates of registry `i` from `cursor` (its whole list when `all`), and whether its end was reached. */
  private async candidates(i: number, query: ListQuery, cursor: number, want: number, hidden: Set<string>): Promise<{ list: Candidate[]; ended: boolean }> {
    const client = this.clients[i] as RegistryClient;
    const list: Candidate[] = [];
    const seen = new Set<string>();
    let at: number | null = cursor;
    for (let pages = 0; at !== null && list.length < want; pages++) {
      if (pages === MAX_PAGES) throw new BadGateway(`the app registry ${client.base} lists more than ${MAX_PAGES} pages`);
      const page = await client.list({ ...query, cursor: at, limit: Math.min(MAX_LIMIT, Math.max(want, 1)) });
      page.data.forEach((app, k) => {
        if (hidden.has(app.slug) || seen.has(app.slug)) return;
        seen.add(app.slug);
        list.push({ app, registry: i, position: (at as number) + k });
      });
      // a registry whose cursor does not move on would be read for ever
      if (page.next !== null && page.next <= at) throw new BadGateway(`the app registry ${client.base} gave a next cursor (${page.next}) that does not move past ${at}`);
      at = page.next;
    }
    return { list, ended: at === null };
  }

  async list(query: ListQuery): Promise<AppsPage> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    const cursors = this.parseCursor(query.cursor);
    const hidden = new Set<string>();
    const pool: Candidate[] = [];
    const ended: boolean[] = this.clients.map(() => false);
    const skipped: boolean[] = this.clients.map(() => false);
    let reached = 0;
    for (let i = 0; i < this.clients.length; i++) {
      const last = i === this.clients.length - 1;
      // every registry but the last is read whole (they are the small, preferred ones: cozy-stack does the same), for the slugs they hide
      const from = last ? Math.max(0, cursors[i] as number) : 0;
      try {
        const got = await this.ask(this.clients[i] as RegistryClient, 'the list', () => this.candidates(i, query, from, last ? limit : Number.MAX_SAFE_INTEGER, hidden));
        reached++;
        ended[i] = got.ended;
        for (const c of got.list) {
          hidden.add(c.app.slug);
          if (cursors[i] !== -1 && c.position >= (cursors[i] as number)) pool.push(c);
        }
      } catch (e) {
        if (!(e instanceof BadGateway)) throw e;
        // its dimension of the cursor ends here: a client paging on would otherwise get empty pages for ever
        skipped[i] = true;
      }
    }
    if (reached === 0 && this.clients.length > 0) throw new BadGateway('no app registry can be reached: see the server log');
    const page = pool.sort((a, b) => sorter(query.sort)(a.app, b.app)).slice(0, limit);
    const next = [...cursors];
    for (const c of page) next[c.registry] = Math.max(next[c.registry] as number, c.position + 1);
    for (let i = 0; i < next.length; i++) {
      const rest = pool.some((c) => c.registry === i && c.position >= (next[i] as number));
      if ((ended[i] && !rest) || skipped[i]) next[i] = -1;
    }
    const meta: AppsPage['meta'] = { count: page.length };
    if (next.some((c) => c !== -1)) meta.next_cursor = next.join('|');
    // said, so that a client can tell a person the catalogue is partial rather than leave apps missing silently
    const unreachable = skipped.filter(Boolean).length;
    if (unreachable > 0) meta.unreachable = unreachable;
    return { data: page.map((c) => c.app), meta };
  }
}
