/**
 * A registry reached over HTTP with cozy's registry API (docs/registry.md of cozy-stack, "APIs: Querying
 * registry"): `GET <base>/registry?…`, `/registry/maintenance`, `/registry/<slug>`,
 * `/registry/<slug>/<version>`, `/registry/<slug>/<channel>/latest`, and the icons and screenshots.
 * A 404 is "not here"; another status, a body that is not what the API promises, or no answer within
 * `timeoutMs` throw BadGateway. JSON bodies are read up to a size cap: a registry is a remote server.
 */
import { Readable } from 'node:stream';
import { BadGateway } from '../../common/errors.js';
import type { AssetPath, Channel, ListQuery, RegistryApp, RegistryAsset, RegistryClient, RegistryVersion } from './types.js';

/** The biggest JSON answer read from a registry (a page of 1,000 applications with their manifests fits). */
const MAX_JSON_BYTES = 32 * 1024 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isVersion = (v: unknown): v is RegistryVersion =>
  isObject(v) && typeof v.slug === 'string' && typeof v.version === 'string' && typeof v.url === 'string' && isObject(v.manifest);
const isApp = (v: unknown): v is RegistryApp => isObject(v) && typeof v.slug === 'string';

export interface HttpRegistryOptions {
  /** How long a request may take before the registry counts as unreachable (default 5 s). */
  timeoutMs?: number;
}

export class HttpRegistry implements RegistryClient {
  readonly base: string;
  private readonly timeoutMs: number;

  constructor(base: string, options: HttpRegistryOptions = {}) {
    this.base = base.endsWith('/') ? base : base + '/';
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /**
   * GET with a deadline of `timeoutMs`: `stop` ends it. JSON answers are read before `stop` (the whole
   * exchange is bounded); streamed ones (an icon, a tarball) stop it once the headers are in, since the
   * bytes may take longer. A 404 is null; any status but 200 throws.
   */
  private async open(url: URL, what: string): Promise<{ res: Response; stop: () => void } | null> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), this.timeoutMs);
    const stop = () => clearTimeout(timer);
    const why = (e: unknown) => (ctl.signal.aborted ? `no answer within ${this.timeoutMs} ms` : ((e as { cause?: Error }).cause?.message ?? (e as Error).message));
    let res: Response;
    try {
      res = await fetch(url, { signal: ctl.signal, redirect: 'follow' });
    } catch (e) {
      stop();
      throw new BadGateway(`${what} cannot be reached: ${why(e)}`);
    }
    if (res.status !== 200) {
      stop();
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 404) return null;
      throw new BadGateway(`${what} answered ${res.status} to GET ${url.pathname}`);
    }
    return { res, stop };
  }

  private url(path: string, search?: URLSearchParams): URL {
    const url = new URL(path, this.base);
    if (search) url.search = search.toString();
    return url;
  }

  private async json(path: string, search?: URLSearchParams): Promise<unknown> {
    const what = `the app registry ${this.base}`;
    const opened = await this.open(this.url(path, search), what);
    if (!opened) return undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of Readable.fromWeb(opened.res.body as never) as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_JSON_BYTES) throw new BadGateway(`${what} sent more than ${MAX_JSON_BYTES} bytes for ${path}`);
        chunks.push(chunk);
      }
    } catch (e) {
      if (e instanceof BadGateway) throw e;
      throw new BadGateway(`${what} did not send all of ${path} within ${this.timeoutMs} ms`);
    } finally {
      opened.stop();
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new BadGateway(`${what} sent invalid JSON for ${path}`);
    }
  }

  private async versionAt(path: string): Promise<RegistryVersion | null> {
    const v = await this.json(path);
    if (v === undefined) return null;
    if (!isVersion(v)) throw new BadGateway(`the app registry ${this.base} sent something that is not a version for ${path}`);
    return v;
  }

  async application(slug: string): Promise<RegistryApp | null> {
    const v = await this.json(`registry/${encodeURIComponent(slug)}`);
    if (v === undefined) return null;
    if (!isApp(v)) throw new BadGateway(`the app registry ${this.base} sent something that is not an application for ${slug}`);
    return v;
  }

  version(slug: string, version: string): Promise<RegistryVersion | null> {
    return this.versionAt(`registry/${encodeURIComponent(slug)}/${encodeURIComponent(version)}`);
  }

  latest(slug: string, channel: Channel): Promise<RegistryVersion | null> {
    return this.versionAt(`registry/${encodeURIComponent(slug)}/${channel}/latest`);
  }

  async list(query: Omit<ListQuery, 'cursor'> & { cursor?: number }): Promise<{ data: RegistryApp[]; next: number | null }> {
    const search = new URLSearchParams();
    search.set('cursor', String(query.cursor ?? 0));
    if (query.limit !== undefined) search.set('limit', String(query.limit));
    if (query.sort) search.set('sort', query.sort);
    if (query.versionsChannel) search.set('versionsChannel', query.versionsChannel);
    if (query.latestChannelVersion) search.set('latestChannelVersion', query.latestChannelVersion);
    for (const [k, v] of Object.entries(query.filter ?? {})) search.set(`filter[${k}]`, v);
    const page = await this.json('registry', search);
    if (page === undefined) return { data: [], next: null };
    if (!isObject(page) || !Array.isArray(page.data) || !page.data.every(isApp)) throw new BadGateway(`the app registry ${this.base} sent a list that is not {data: [...], meta}`);
    const raw = isObject(page.meta) ? page.meta.next_cursor : undefined;
    const next = typeof raw === 'string' && /^\d{1,12}$/.test(raw) ? Number(raw) : typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0 ? raw : null;
    return { data: page.data, next: page.data.length === 0 ? null : next };
  }

  async maintenance(): Promise<RegistryApp[]> {
    const list = await this.json('registry/maintenance');
    if (list === undefined) return [];
    if (!Array.isArray(list) || !list.every(isApp)) throw new BadGateway(`the app registry ${this.base} sent a maintenance list that is not a list of applications`);
    return list;
  }

  async asset(slug: string, version: string | null, path: AssetPath): Promise<RegistryAsset | null> {
    const rest = path.split('/').map(encodeURIComponent).join('/');
    const at = version === null ? `registry/${encodeURIComponent(slug)}/${rest}` : `registry/${encodeURIComponent(slug)}/${encodeURIComponent(version)}/${rest}`;
    const opened = await this.open(this.url(at), `the app registry ${this.base}`);
    if (!opened?.res.body) return null;
    opened.stop();
    const { res } = opened;
    // fetch decodes a Content-Encoding itself: the length of the encoded bytes is then not the body's
    const length = res.headers.has('content-length') && !res.headers.has('content-encoding') ? Number(res.headers.get('content-length')) : NaN;
    return { body: Readable.fromWeb(res.body as never), contentType: res.headers.get('content-type') ?? 'application/octet-stream', ...(Number.isSafeInteger(length) && length >= 0 ? { size: length } : {}) };
  }

  async openTarball(version: RegistryVersion): Promise<Readable> {
    const url = new URL(version.url, this.base);
    const what = `the tarball of ${version.slug}@${version.version} at ${url.host}`;
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new BadGateway(`the app registry ${this.base} gave a tarball URL that is not http(s): ${url.protocol}`);
    const opened = await this.open(url, what);
    if (!opened?.res.body) throw new BadGateway(`${what} is missing (404)`);
    opened.stop();
    return Readable.fromWeb(opened.res.body as never);
  }
}
